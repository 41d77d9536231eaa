#!/usr/bin/env bash
# Fuzzes the parsers of client input (tests/fuzz/parsers_fuzz.cc) with libFuzzer under
# AddressSanitizer and UndefinedBehaviorSanitizer, for FUZZ_SECONDS (300) on JOBS workers.
# Usage: scripts/fuzz.sh [build-dir]   (the build dir of `make build`: its generated flyteidl
# headers and shared libraries are used as they are; only the parsers are rebuilt, with clang).
# The corpus grows in <build-dir>/fuzz/corpus from the seeds in tests/fuzz/corpus; a finding is
# written to <build-dir>/fuzz/findings/ and the script exits non-zero.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$(cd "${1:-$here/build}" && pwd)"
seconds="${FUZZ_SECONDS:-300}"
jobs="${JOBS:-$(nproc)}"

# clang and its libFuzzer runtime: not needed by the build, so installed here, on first use.
bash "$here/scripts/setup.sh" clang-14 libclang-rt-14-dev

[[ -d "$build/proto/gen" && -e "$build/lib/libflyteidl_proto.so" ]] ||
  { echo "fuzz: $build has no generated flyteidl code: run 'make build' first" >&2; exit 2; }

out="$build/fuzz"
mkdir -p "$out/corpus" "$out/findings"
sources=(
  core/src/gateway_json.cc
  plugin-api/src/go_compat.cc
  plugins/manager/common/src/cron.cc
  plugins/manager/common/src/digest.cc
  plugins/manager/common/src/encoding.cc
  plugins/manager/common/src/errors.cc
  plugins/manager/common/src/filters.cc
  plugins/manager/common/src/quantity.cc
)
echo "fuzz: building $out/parsers_fuzz"
(cd "$here" && clang++-14 -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined \
  -fno-sanitize=vptr -fno-sanitize-recover=undefined \
  -Icore/include -Iplugins/manager/common/include -Iplugin-api/include -I"$build/proto/gen" \
  tests/fuzz/parsers_fuzz.cc "${sources[@]}" -o "$out/parsers_fuzz" \
  -L"$build/lib" -Wl,-rpath,"$build/lib" -lflyteidl_proto -lflyte_plugin_api -lprotobuf -licuuc \
  -lcrypto)

echo "fuzz: $seconds s on $jobs workers"
rm -f "$out"/fuzz-*.log
status=0
(cd "$out" && ./parsers_fuzz -max_total_time="$seconds" -max_len=4096 -jobs="$jobs" \
  -workers="$jobs" -artifact_prefix="$out/findings/" corpus "$here/tests/fuzz/corpus") \
  >"$out/run.log" 2>&1 || status=$?
findings=$(find "$out/findings" -type f | wc -l)
grep -h "cov:" "$out"/fuzz-*.log 2>/dev/null | tail -1 || true
if ((status != 0 || findings > 0)); then
  echo "fuzz: $findings finding(s) in $out/findings (reproduce: $out/parsers_fuzz <file>);" \
    "logs in $out/fuzz-*.log" >&2
  exit 1
fi
echo "fuzz: no findings"
