#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine: installs what is
# missing, configures a build with Debian's packages only, builds, runs
# every test (unit, end to end, interop, fuzz corpus replay) and prints
# "N passed, N failed" last. Exit status: 0 only if all passed.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
build=${BUILD_DIR:-build}
if [ ! -f "$build/build.ninja" ]; then
  meson setup "$build" --wrap-mode=nofallback
fi
ninja -C "$build"
set +e
meson test -C "$build" --print-errorlogs --num-processes 2 "$@"
status=$?
set -e
log="$build/meson-logs/testlog.json"
if [ -f "$log" ]; then
  python3 - "$log" <<'PY'
# Counts doctest cases inside each doctest executable, and every other test
# (corpus replays, install check) as one.
import json, re, sys
passed = failed = skipped = 0
case_line = re.compile(r"test cases:\s*(\d+)\s*\|\s*(\d+) passed\s*\|\s*(\d+) failed\s*\|\s*(\d+) skipped")
for line in open(sys.argv[1]):
    r = json.loads(line)
    ok = r["result"] in ("OK", "EXPECTEDFAIL")
    m = case_line.search(r.get("stdout") or "")
    if m:
        passed += int(m.group(2)); failed += int(m.group(3)); skipped += int(m.group(4))
        if not ok and int(m.group(3)) == 0: failed += 1  # crashed or timed out
    elif r["result"] == "SKIP":
        skipped += 1
    elif ok:
        passed += 1
    else:
        failed += 1
print(f"{passed} passed, {failed} failed, {skipped} skipped")
PY
fi
exit $status
