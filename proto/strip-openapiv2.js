// Copies .proto files into the build tree, removing only the protoc-gen-openapiv2 options and
// their import: documentation-only annotations whose definitions no npm package ships.
// Usage: node strip-openapiv2.js <out-dir> <src-root>:<relative.proto> ...
'use strict';
const fs = require('fs');
const path = require('path');

const OPTION_PREFIX = '(grpc.gateway.protoc_gen_openapiv2.';

// Returns the text with every `option (grpc.gateway.protoc_gen_openapiv2...) = ...;` statement
// and every `import "protoc-gen-openapiv2/...";` removed. Comments and strings are respected so a
// commented-out option stays a comment and a brace inside a string does not count.
function strip(text, file) {
  let out = '';
  let i = 0;
  const n = text.length;
  let removed = 0;
  while (i < n) {
    const c = text[i];
    if (c === '/' && text[i + 1] === '/') {
      const end = text.indexOf('\n', i);
      const stop = end < 0 ? n : end;
      out += text.slice(i, stop);
      i = stop;
      continue;
    }
    if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      const stop = end < 0 ? n : end + 2;
      out += text.slice(i, stop);
      i = stop;
      continue;
    }
    if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < n && text[j] !== c) j += text[j] === '\\' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    const importMatch = /^import\s+"protoc-gen-openapiv2\/[^"]*"\s*;/.exec(text.slice(i, i + 200));
    if (importMatch && (i === 0 || /\s/.test(text[i - 1]))) {
      i += importMatch[0].length;
      removed++;
      continue;
    }
    const optionMatch = /^option\s*/.exec(text.slice(i, i + 20));
    if (optionMatch && (i === 0 || /[\s;{}]/.test(text[i - 1])) &&
        text.startsWith(OPTION_PREFIX, i + optionMatch[0].length)) {
      // Skip to the terminating ';' at brace depth 0, stepping over strings and comments.
      let j = i + optionMatch[0].length;
      let depth = 0;
      while (j < n) {
        const d = text[j];
        if (d === '"' || d === "'") {
          let k = j + 1;
          while (k < n && text[k] !== d) k += text[k] === '\\' ? 2 : 1;
          j = k + 1;
          continue;
        }
        if (d === '/' && text[j + 1] === '/') { const e = text.indexOf('\n', j); j = e < 0 ? n : e; continue; }
        if (d === '/' && text[j + 1] === '*') { const e = text.indexOf('*/', j + 2); j = e < 0 ? n : e + 2; continue; }
        if (d === '{') depth++;
        else if (d === '}') depth--;
        else if (d === ';' && depth === 0) break;
        j++;
      }
      if (j >= n) throw new Error(`${file}: unterminated openapiv2 option`);
      i = j + 1;
      removed++;
      continue;
    }
    out += c;
    i++;
  }
  if (out.includes(OPTION_PREFIX.slice(1)) && /^[^/]*\(grpc\.gateway\.protoc_gen_openapiv2/m.test(out)) {
    throw new Error(`${file}: an openapiv2 option survived stripping`);
  }
  return out;
}

function main() {
  const [outDir, ...specs] = process.argv.slice(2);
  if (!outDir || specs.length === 0) {
    console.error('usage: strip-openapiv2.js <out-dir> <src-root>:<relative.proto> ...');
    process.exit(2);
  }
  for (const spec of specs) {
    const sep = spec.lastIndexOf(':');
    const root = spec.slice(0, sep);
    const rel = spec.slice(sep + 1);
    const src = fs.readFileSync(path.join(root, rel), 'utf8');
    const dst = path.join(outDir, rel);
    fs.mkdirSync(path.dirname(dst), { recursive: true });
    const text = strip(src, rel);
    // Write only on change so protoc and everything downstream stay up to date.
    if (!fs.existsSync(dst) || fs.readFileSync(dst, 'utf8') !== text) fs.writeFileSync(dst, text);
  }
}

main();
