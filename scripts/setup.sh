#!/usr/bin/env bash
# Installs every Debian package and npm package the build, tests and benchmarks need, and the
# Debian packages named as arguments (what an optional tool needs: scripts/fuzz.sh's clang).
# Idempotent: a machine that already has everything returns in about a second.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libboost-dev libboost-filesystem-dev libboost-system-dev libboost-context-dev
  libsoci-dev libsqlite3-dev libpq-dev sqlite3
  libspdlog-dev libfmt-dev nlohmann-json3-dev libvalijson-dev
  catch2 libyaml-cpp-dev libcli11-dev libssl-dev zlib1g-dev
  prometheus-cpp-dev libicu-dev
  postgresql
  nodejs npm
  curl procps openssl
  dpkg-dev   # dpkg-shlibdeps, for `make package`
  golang-grpc-gateway   # protoc-gen-swagger: the OpenAPI document served at /api/v1/openapi
  "$@"
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
# node/npm may come from outside Debian's packages on some images: accept any working npm.
if command -v npm >/dev/null 2>&1; then
  filtered=()
  for p in "${missing[@]}"; do [[ "$p" == nodejs || "$p" == npm ]] || filtered+=("$p"); done
  missing=("${filtered[@]+"${filtered[@]}"}")
fi

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=()
  [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The wire contract: flyteidl and google-proto-files, pinned by proto/package-lock.json.
stamp="$here/proto/node_modules/.setup-stamp"
if [[ ! -f "$stamp" || "$here/proto/package-lock.json" -nt "$stamp" ]]; then
  echo "setup: npm ci in proto/"
  (cd "$here/proto" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error)
  touch "$stamp"
fi
