# Sourced by tests/bench/run: processes the benchmark starts, and their end.
#
# Everything is started with `spawn`, which remembers the PID; `stop_pids`
# ends a list of them (TERM, then KILL after 5 s) and the EXIT trap ends
# whatever is still running. Every wait is bounded in count and time.

all_pids=()

# spawn LOG COMMAND...: runs COMMAND in the background (no wrapper: $! is
# the command itself), output to LOG; sets $spawned to its PID.
spawn() {
  local log=$1; shift
  "$@" >"$log" 2>&1 &
  spawned=$!
  all_pids+=("$spawned")
}

# stop_pids PID...: TERM, wait up to 5 s each, then KILL.
stop_pids() {
  local pid
  for pid in "$@"; do kill "$pid" 2>/dev/null; done
  for pid in "$@"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  return 0
}

stop_all() {
  stop_pids "${all_pids[@]}"
  all_pids=()
}

# free_port: a loopback port nothing listens on now (the kernel's pick).
# For third-party servers that cannot report a port they bound to 0.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_port PORT [SECONDS=10]: until something accepts on 127.0.0.1:PORT.
wait_port() {
  local i
  for i in $(seq $((${2:-10} * 20))); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.05
  done
  echo "nothing listens on 127.0.0.1:$1 after ${2:-10} s" >&2
  return 1
}

# listened_port LOG: the port of authchain's "listening on 127.0.0.1:PORT"
# line (the command binds port 0 and says which it got), waiting up to 10 s.
listened_port() {
  local port
  for _ in $(seq 200); do
    port=$(grep -o 'listening on 127\.0\.0\.1:[0-9]*' "$1" 2>/dev/null | head -1 | cut -d: -f2)
    [ -n "$port" ] && { echo "$port"; return 0; }
    sleep 0.05
  done
  echo "no 'listening on' line in $1:" >&2; cat "$1" >&2
  return 1
}

# redis_pong PORT: one PING through PORT answers +PONG (within 10 s).
redis_pong() {
  [ "$(timeout 10 redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null)" = PONG ]
}
