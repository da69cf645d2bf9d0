#!/usr/bin/env bash
# Installs the build into a temporary DESTDIR and builds a program against
# it the way another project would: through the generated pkg-config file.
#   check_install.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1; src=$2
# A missing tool fails the check; AUTHCHAIN_TEST_SKIP_MISSING=1 makes it a
# skip instead (exit 77, which meson counts as SKIP).
missing=
for tool in meson python3 pkg-config g++; do
  command -v "$tool" >/dev/null || missing="$missing $tool"
done
if [ -n "$missing" ]; then
  if [ "${AUTHCHAIN_TEST_SKIP_MISSING:-}" = 1 ]; then echo "not installed:$missing: skipped"; exit 77; fi
  echo "not installed:$missing (or set AUTHCHAIN_TEST_SKIP_MISSING=1 to skip)"; exit 1
fi
# A sanitized library cannot serve a plain program: nothing to check there.
sanitize=$(meson introspect --buildoptions "$build" | python3 -c \
  'import json, sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "b_sanitize"))')
if [ "$sanitize" != "none" ]; then echo "sanitized build ($sanitize): install check skipped"; exit 77; fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
meson install -C "$build" --destdir "$tmp" --quiet --no-rebuild
pc=$(find "$tmp" -name authchain.pc | head -n1)
[ -n "$pc" ] || { echo "no authchain.pc installed"; exit 1; }
# Point the installed .pc at the DESTDIR copy (it says prefix=/usr/local).
mkdir -p "$tmp/pc"
prefix=$(sed -n 's/^prefix=//p' "$pc")
sed "s|^prefix=.*|prefix=$tmp$prefix|" "$pc" > "$tmp/pc/authchain.pc"
export PKG_CONFIG_PATH=$tmp/pc
flags=$(pkg-config --cflags --libs authchain)
echo "pkg-config: $flags"
# The installed headers must be complete: build the example from them only.
cp "$src/examples/lambda_authenticator.cpp" "$tmp/app.cpp"
g++ -std=c++20 -Wall -Wextra -Werror -Wno-missing-field-initializers -Wno-mismatched-new-delete \
  "$tmp/app.cpp" -o "$tmp/app" $flags
libdir=$(pkg-config --variable=libdir authchain)
LD_LIBRARY_PATH=$libdir "$tmp/app" 127.0.0.1 0 > "$tmp/out" 2>&1 & pid=$!
for _ in $(seq 50); do grep -q "echo behind" "$tmp/out" && break; sleep 0.1; done  # bounded: 5 s
kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
grep -q "echo behind" "$tmp/out" || { echo "installed app did not start:"; cat "$tmp/out"; exit 1; }
echo "installed library, headers and pkg-config file work"
