#!/usr/bin/env bash
# Long fuzzing (not part of CI): builds every target with clang++-14 and
# libFuzzer + ASan + UBSan (build-fuzz/), then fuzzes each for SECONDS
# (default 60), starting from its seed corpus; new inputs go to
# tests/fuzz/out/<name>/, crashes, leaks and timeouts to
# tests/fuzz/out/artifacts/<name>/, each target's log to
# tests/fuzz/out/logs/<name>.log.
#   tests/fuzz/run.sh [SECONDS] [TARGET...]      (no TARGET: every target)
#   JOBS=N tests/fuzz/run.sh ...                 N targets at a time (default 1)
# At the end, a table from libFuzzer's -print_final_stats lines:
#   target | seconds | execs | execs/s | new corpus | crashes
# (execs: stat::number_of_executed_units; execs/s: stat::average_exec_per_sec;
# new corpus: stat::new_units_added; crashes: artifacts written by this run).
# Exit status: 1 if any target crashed or failed to run, else 0.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-60}; shift || true
jobs=${JOBS:-1}
build=build-fuzz
if [ ! -f "$build/build.ninja" ]; then
  CXX=clang++-14 CC=clang-14 meson setup "$build" --wrap-mode=nofallback \
    -Dfuzzing=true -Db_lundef=false -Dbuildtype=debugoptimized --unity on --unity-size 12
fi
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=($(ls tests/fuzz/corpus))
fi
# Only the targets asked for.
ninja -C "$build" -j2 $(printf 'tests/fuzz/fuzz-%s ' "${targets[@]}")
out=tests/fuzz/out
mkdir -p "$out/logs"
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
# alloc_dealloc_mismatch=0: Asio 1.22's coroutine frame allocator frees with
# free() what it got from operator new (fuzz_server_chain runs coroutines).
export ASAN_OPTIONS=detect_leaks=1:alloc_dealloc_mismatch=0

# Fuzzes one target; its log holds libFuzzer's output, then "seconds: N".
fuzz_one() {
  local t=$1 seconds=$2 out=$3 build=$4
  local log="$out/logs/$t.log" artifacts="$out/artifacts/$t/"
  mkdir -p "$out/$t" "$artifacts"
  local start=$SECONDS status=0
  "$build/tests/fuzz/fuzz-$t" -max_total_time="$seconds" -timeout=60 -print_final_stats=1 \
    -artifact_prefix="$artifacts" "$out/$t" "tests/fuzz/corpus/$t" >"$log" 2>&1 || status=$?
  echo "seconds: $((SECONDS - start))" >>"$log"
  echo "exit: $status" >>"$log"
  echo "== fuzz-$t: done in $((SECONDS - start)) s (exit $status)"
}
export -f fuzz_one

# Artifacts already there are not this run's.
for t in "${targets[@]}"; do
  [ -x "$build/tests/fuzz/fuzz-$t" ] || { echo "no target fuzz-$t in $build" >&2; exit 2; }
  mkdir -p "$out/artifacts/$t"
  ls "$out/artifacts/$t" >"$out/logs/$t.artifacts-before"
done
printf '%s\n' "${targets[@]}" | xargs -P "$jobs" -I{} bash -c 'fuzz_one "$@"' _ {} "$seconds" "$out" "$build"

stat() { sed -n "s/^stat::$1: *//p" "$2" | tail -n 1; }
bad=0
printf '\n%-22s | %7s | %12s | %8s | %10s | %7s\n' target seconds execs execs/s "new corpus" crashes
printf -- '-----------------------+---------+--------------+----------+------------+--------\n'
for t in "${targets[@]}"; do
  log="$out/logs/$t.log"
  execs=$(stat number_of_executed_units "$log"); rate=$(stat average_exec_per_sec "$log")
  added=$(stat new_units_added "$log"); secs=$(sed -n 's/^seconds: //p' "$log")
  status=$(sed -n 's/^exit: //p' "$log")
  crashes=$(comm -13 "$out/logs/$t.artifacts-before" <(ls "$out/artifacts/$t") | wc -l)
  if [ "$crashes" -gt 0 ] || [ "${status:-1}" != 0 ] || [ -z "$execs" ]; then bad=1; fi
  printf '%-22s | %7s | %12s | %8s | %10s | %7s\n' "$t" "${secs:-?}" "${execs:-?}" "${rate:-?}" "${added:-?}" "$crashes"
done
if [ "$bad" -ne 0 ]; then
  echo "some target crashed or did not run: see $out/logs/ and $out/artifacts/" >&2
fi
exit "$bad"
