#!/usr/bin/env bash
# Long fuzzing (not part of CI): builds every target with clang++-14 and
# libFuzzer + ASan + UBSan, then fuzzes each for SECONDS (default 60),
# starting from its seed corpus (new inputs go to tests/fuzz/out/<name>/).
#   tests/fuzz/run.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-60}; shift || true
build=build-fuzz
if [ ! -d "$build" ]; then
  CXX=clang++-14 CC=clang-14 meson setup "$build" --wrap-mode=nofallback \
    -Dfuzzing=true -Db_lundef=false -Dbuildtype=debugoptimized
fi
ninja -C "$build" -j2
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=($(ls tests/fuzz/corpus))
fi
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export ASAN_OPTIONS=detect_leaks=1
for t in "${targets[@]}"; do
  mkdir -p "tests/fuzz/out/$t"
  echo "== fuzz-$t for ${seconds}s"
  "$build/tests/fuzz/fuzz-$t" -max_total_time="$seconds" -print_final_stats=1 \
    "tests/fuzz/out/$t" "tests/fuzz/corpus/$t" 2>&1 | tail -n 12
done
