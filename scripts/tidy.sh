#!/usr/bin/env bash
# clang-tidy 14 with the checked-in .clang-tidy on every library source
# (compose/ transport/ auth/ relay/ config/), two at a time. Exit status:
# 0 only if there is no finding (the config makes every warning an error).
#   scripts/tidy.sh [BUILD_DIR]
# BUILD_DIR holds the compile database (compile_commands.json) to use;
# default build-tsan, a clang build (scripts/test.sh sets it up): tidy
# reads a g++ build's flags too, but warns about the g++-only ones.
# In a unity build (meson --unity on, as build-tsan is) tidy reads the
# unity files of the library, its testing library and config, each of which includes ~12 sources: the headers are
# parsed once per group instead of once per source (about 9x less CPU), and
# HeaderFilterRegex reports findings in the included sources as it does in
# headers. bugprone-suspicious-include is off there: meson's unity files
# include .cpp files by design.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-tsan}
if [ ! -f "$build/compile_commands.json" ]; then
  echo "tidy: no $build/compile_commands.json (meson setup $build first)" >&2
  exit 2
fi
mapfile -t files < <(git ls-files 'compose/*.cpp' 'transport/*.cpp' 'auth/*.cpp' 'relay/*.cpp' 'config/*.cpp')
sources=${#files[@]}
mapfile -t unity < <(python3 - "$build/compile_commands.json" <<'PY'
import json, os, re, sys
for entry in json.load(open(sys.argv[1])):
    path = os.path.join(entry["directory"], entry["file"])
    if re.search(r"/(libauthchain\.so\.[0-9.]+\.p/authchain|libauthchain-testing\.so\.[0-9.]+\.p/authchain-testing|config/libauthchain-config\.a\.p/authchain-config)-unity[0-9]+\.cpp$", path):
        print(path)
PY
)
extra=()
if [ ${#unity[@]} -gt 0 ]; then
  # Every library source must be in one of them, or tidy would skip it.
  for f in "${files[@]}"; do
    grep -qF "/../$f>" "${unity[@]}" || { echo "tidy: $f is in no unity file of $build" >&2; exit 2; }
  done
  files=("${unity[@]}")
  extra=(--checks=-bugprone-suspicious-include)
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
printf '%s\n' "${files[@]}" | xargs -P "${TIDY_JOBS:-2}" -n 1 clang-tidy-14 -p "$build" --quiet "${extra[@]}" >"$log" 2>&1 || status=$?
# Only the findings (file:line:col: error/warning), not tidy's progress lines.
grep -E '^[^ ]+:[0-9]+:[0-9]+: (error|warning):' "$log" | sort -u || true
findings=$(grep -cE '^[^ ]+:[0-9]+:[0-9]+: (error|warning):' "$log" || true)
if [ "$status" -ne 0 ] || [ "$findings" -ne 0 ]; then
  [ "$findings" -eq 0 ] && tail -n 20 "$log"
  echo "tidy: ${findings} finding(s) in ${sources} files" >&2
  exit 1
fi
echo "tidy: ${sources} files clean (${#files[@]} translation units)"
