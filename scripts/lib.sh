# Shared by scripts/demo.sh and tests/bench/bench_redis.sh (sourced, not run):
# building the command, starting processes on loopback, and stopping them.

# ensure_built BUILD_DIR [MESON_SETUP_ARGS...]: sets $authchain to the binary.
ensure_built() {
  local build=$1; shift
  if [ ! -x "$build/tools/authchain" ]; then
    echo "== building $build"
    [ -f "$build/build.ninja" ] || meson setup "$build" --wrap-mode=nofallback "$@" || exit 1
    ninja -C "$build" tools/authchain || exit 1
  fi
  authchain=$(realpath "$build/tools/authchain")
}

# Everything started with `start` is stopped (TERM, then KILL after 5 s) and
# the work directory removed when the script exits.
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null
  done
  [ -n "${work:-}" ] && rm -rf "$work"
}
trap cleanup EXIT INT TERM

free_port() {  # a loopback port nothing listens on
  local p
  for _ in $(seq 100); do
    p=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
  return 1
}

wait_for() {  # wait_for FILE TEXT: until FILE contains TEXT (bounded, 10 s)
  for _ in $(seq 200); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    sleep 0.05
  done
  echo "timed out waiting for '$2' in $1:"; cat "$1"; return 1
}

start() {  # start LOG COMMAND...: in the background, remembers the PID
  local log=$1; shift
  "$@" >"$log" 2>&1 &
  pids+=($!)
}
