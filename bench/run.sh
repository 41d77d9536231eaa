#!/usr/bin/env bash
# Runs every benchmark against its in-run baseline. Usage: bench/run.sh [build-dir]
set -euo pipefail
build="${1:-build}"
"$build/bin/bench_version" "${BENCH_CONCURRENCY:-16}" "${BENCH_SECONDS:-5}"
"$build/bin/bench_registration" "${BENCH_ROWS:-100000}" "${BENCH_PAGE:-10}"
"$build/bin/bench_ingest_db" "${BENCH_CONCURRENCY:-16}" "${BENCH_SECONDS:-5}"
"$build/bin/bench_list_executions" "${BENCH_EXECUTIONS:-1000000}"
"$build/bin/bench_executions" all both
"$build/bin/bench_local_executor" "${BENCH_LOCAL_NODES:-1000}" "${BENCH_LOCAL_WORKERS:-8}"
