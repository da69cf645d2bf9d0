#!/usr/bin/env bash
# Installs the build into a temporary DESTDIR and builds programs against it
# the way another project would: through the generated pkg-config file
# only, with g++ and with clang++-14, -Wall -Wextra -Werror. Then runs a
# server (examples/lambda_authenticator) and a client
# (tests/install/consumer_client.cpp) built so, without LD_LIBRARY_PATH,
# and checks that the installed authchain command carries its rpath.
#   check_install.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1; src=$2
# A missing tool fails the check; AUTHCHAIN_TEST_SKIP_MISSING=1 makes it a
# skip instead (exit 77, which meson counts as SKIP).
missing=
for tool in meson python3 pkg-config g++ clang++-14 readelf; do
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
tmp=$(mktemp -d)
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
meson install -C "$build" --destdir "$tmp" --quiet --no-rebuild
pc=$(find "$tmp" -name authchain.pc | head -n1)
[ -n "$pc" ] || { echo "no authchain.pc installed"; exit 1; }
# Point the installed .pc at the DESTDIR copy (it says prefix=/usr/local).
mkdir -p "$tmp/pc"
prefix=$(sed -n 's/^prefix=//p' "$pc")
sed "s|^prefix=.*|prefix=$tmp$prefix|" "$pc" > "$tmp/pc/authchain.pc"
export PKG_CONFIG_PATH=$tmp/pc
cflags=$(pkg-config --cflags authchain)
libs=$(pkg-config --libs authchain)
libdir=$(pkg-config --variable=libdir authchain)
echo "pkg-config: $cflags $libs"
grep -q -- "-DASIO_HAS_CO_AWAIT=1" <<<"$cflags" || { echo "authchain.pc lacks -DASIO_HAS_CO_AWAIT=1"; exit 1; }
# Headers are included as <authchain/...> with only PREFIX/include on the path.
if grep -q -- "include/authchain" <<<"$cflags"; then echo "authchain.pc puts include/authchain on the path: $cflags"; exit 1; fi
grep -q "#include <authchain/authchain.hpp>" "$src/examples/lambda_authenticator.cpp" ||
  { echo "the example does not include <authchain/authchain.hpp>"; exit 1; }

# The installed headers must be complete and clean under the user's warnings.
cp "$src/examples/lambda_authenticator.cpp" "$tmp/server.cpp"
cp "$src/tests/install/consumer_client.cpp" "$tmp/client.cpp"
for cxx in g++ clang++-14; do
  for prog in server client; do
    # shellcheck disable=SC2086  # the flags are words
    "$cxx" -std=c++20 -Wall -Wextra -Werror $cflags "$tmp/$prog.cpp" -o "$tmp/$prog-$cxx" $libs \
      -Wl,-rpath,"$libdir" || { echo "$cxx could not build $prog against the installed library"; exit 1; }
  done
  echo "$cxx: built a server and a client against the installed library"
done

# Run them as installed: no LD_LIBRARY_PATH; the rpath finds the library.
unset LD_LIBRARY_PATH
for cxx in g++ clang++-14; do
  : > "$tmp/out"
  "$tmp/server-$cxx" 127.0.0.1 0 > "$tmp/out" 2>&1 & server_pid=$!
  port=
  for _ in $(seq 100); do  # bounded: 10 s
    port=$(sed -n 's/^echo behind .* on 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$tmp/out")
    [ -n "$port" ] && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  [ -n "$port" ] || { echo "installed server ($cxx) did not start:"; cat "$tmp/out"; exit 1; }
  out=$(timeout 30 "$tmp/client-$cxx" "$port") || { echo "installed client ($cxx) failed: $out"; cat "$tmp/out"; exit 1; }
  grep -q "consumer client ok: hello alice" <<<"$out" || { echo "unexpected client output: $out"; exit 1; }
  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=
  echo "$cxx: installed server and client ran without LD_LIBRARY_PATH ($out)"
done

# The installed command finds its library through its install rpath.
exe="$tmp$prefix/bin/authchain"
if [ -e "$exe" ]; then
  want=$(sed -n 's/^libdir=//p' "$pc" | sed "s|\${prefix}|$prefix|")
  runpath=$(readelf -d "$exe" | sed -n 's/.*(RUNPATH).*\[\(.*\)\]/\1/p; s/.*(RPATH).*\[\(.*\)\]/\1/p')
  [ "$runpath" = "$want" ] || { echo "installed authchain has rpath '$runpath', want '$want'"; exit 1; }
  [ -e "$tmp$want/libauthchain.so.0" ] || { echo "libauthchain.so.0 is not in $want"; exit 1; }
  echo "installed authchain: rpath $runpath holds libauthchain.so.0"
fi
echo "installed library, headers and pkg-config file work"
