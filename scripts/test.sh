#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine: installs what is
# missing, then runs, in this order:
#   1. build/       g++ 12 as users build it: every test (unit, end to end,
#                   interop, fuzz corpus replay, install check)
#   2. build-asan/  clang 14, ASan + UBSan (-O1, line tables, any report
#                   fails the test): every test again but the install check
#                   (a sanitized library cannot serve a plain program)
#   3. build-tsan/  clang 14, TSan: the library and the concurrency tests
#                   (the suites in tsan_suites below)
#   4. clang-tidy   .clang-tidy on the library (scripts/tidy.sh), using
#                   build-tsan's compile database: one test, passed when clean
# All four run by default (CI's budget: 30 minutes on 2 cores, cold; the
# measured cost is in tests/README.md). AUTHCHAIN_SANITIZERS=0 leaves out 2
# and 3, AUTHCHAIN_TIDY=0 leaves out 4 (e.g. while iterating on a change).
# Arguments go to every `meson test` (e.g. a suite name).
# The last line is "N passed, N failed, N skipped", summed over every run:
# each doctest case counts once per run it ran in, every other test (corpus
# replays, install check, tidy) as one. Exit status: 0 only if all passed.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
sanitizers=${AUTHCHAIN_SANITIZERS:-1}
tidy=${AUTHCHAIN_TIDY:-1}
# The suites whose tests run threads (password check pool, shared throttle
# tables, server and loops): what TSan looks at.
tsan_suites=(compose auth relay)
logs=()
status=0

# meson test on $1 (more arguments after it); its log joins the count.
run_tests() {
  local build=$1; shift
  set +e
  meson test -C "$build" --print-errorlogs --num-processes 2 "$@"
  local s=$?
  set -e
  [ $s -eq 0 ] || status=1
  logs+=("$build/meson-logs/testlog.json")
}

build=${BUILD_DIR:-build}
if [ ! -f "$build/build.ninja" ]; then
  meson setup "$build" --wrap-mode=nofallback
fi
ninja -C "$build"
run_tests "$build" "$@"

# Both sanitizer builds: clang 14 (a cold build costs less CPU than g++'s),
# -O1, line tables only (stack traces with lines, far less debug info), and
# unity builds: 12 sources per translation unit, so Asio, Botan and doctest
# are parsed ~50 times instead of ~240 (tests/README.md has the figures).
# The sources compile as one unity TU per target too (no file-local name
# is defined twice), so any grouping works.
san_args=(--wrap-mode=nofallback -Db_lundef=false -Doptimization=1 -Ddebug=false --unity on --unity-size 12)
if [ "$sanitizers" != 0 ] || [ "$tidy" != 0 ]; then
  if [ ! -f build-tsan/build.ninja ]; then
    CC=clang-14 CXX=clang++-14 meson setup build-tsan "${san_args[@]}" -Db_sanitize=thread \
      -Dcpp_args=-gline-tables-only
  fi
fi
if [ "$sanitizers" != 0 ]; then
  # -fno-sanitize=function: clang 14 fails on some coroutines with it
  # ("Cannot represent a difference across sections", compose/server.cpp).
  if [ ! -f build-asan/build.ninja ]; then
    CC=clang-14 CXX=clang++-14 meson setup build-asan "${san_args[@]}" -Db_sanitize=address,undefined \
      -Dcpp_args="-gline-tables-only -fno-sanitize-recover=all -fno-sanitize=function"
  fi
  # A build that fails counts as one failed test (its log is missing).
  rm -f build-asan/meson-logs/testlog.json build-tsan/meson-logs/testlog.json
  if ninja -C build-asan; then
    ASAN_OPTIONS=detect_leaks=1:alloc_dealloc_mismatch=0 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
      run_tests build-asan --no-suite install "$@"
  else
    status=1; logs+=(build-asan/meson-logs/testlog.json)
  fi
  if ninja -C build-tsan $(printf 'tests/test-%s ' "${tsan_suites[@]}"); then
    TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
      run_tests build-tsan --no-rebuild "${tsan_suites[@]}" "$@"
  else
    status=1; logs+=(build-tsan/meson-logs/testlog.json)
  fi
fi

tidy_log=""
if [ "$tidy" != 0 ]; then
  tidy_log=$(mktemp)
  if scripts/tidy.sh build-tsan; then echo pass >"$tidy_log"; else echo fail >"$tidy_log"; status=1; fi
fi

python3 - "$tidy_log" "${logs[@]}" <<'PY'
# Counts doctest cases inside each doctest executable, and every other test
# (corpus replays, install check) as one, over every run's testlog.json;
# the tidy run is one more test.
import json, os, re, sys
passed = failed = skipped = 0
case_line = re.compile(r"test cases:\s*(\d+)\s*\|\s*(\d+) passed\s*\|\s*(\d+) failed\s*\|\s*(\d+) skipped")
tidy, logs = sys.argv[1], sys.argv[2:]
for log in logs:
    if not os.path.exists(log):
        failed += 1  # the run did not even start
        continue
    for line in open(log):
        r = json.loads(line)
        ok = r["result"] in ("OK", "EXPECTEDFAIL")
        m = case_line.search(r.get("stdout") or "")
        if m:
            passed += int(m.group(2)); failed += int(m.group(3)); skipped += int(m.group(4))
            if not ok and int(m.group(3)) == 0: failed += 1  # crashed, sanitizer report or timed out
        elif r["result"] == "SKIP":
            skipped += 1
        elif ok:
            passed += 1
        else:
            failed += 1
if tidy:
    if open(tidy).read().strip() == "pass": passed += 1
    else: failed += 1
print(f"{passed} passed, {failed} failed, {skipped} skipped")
PY
[ -z "$tidy_log" ] || rm -f "$tidy_log"
exit $status
