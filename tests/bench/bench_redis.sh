#!/usr/bin/env bash
# Benchmark (not a test): redis-benchmark straight to redis-server, then
# through authchain tunnel + gate (secure_channel | public_key), same run.
#
#   tests/bench/bench_redis.sh [REQUESTS] [CLIENTS]
#
# Prints ops/s of PING_INLINE and SET at -c CLIENTS (default 100000 requests,
# 50 clients) direct and through authchain, their ratio (target >= 0.6), and
# p50 latency at -c 1. Uses BUILD_DIR (default build-release, configured
# with -Dbuildtype=release if missing). Loopback only; stops what it starts.
set -uo pipefail
cd "$(dirname "$0")/../.."
requests=${1:-100000}
clients=${2:-50}
build=${BUILD_DIR:-build-release}
if [ ! -x "$build/tools/authchain" ]; then
  [ -f "$build/build.ninja" ] || meson setup "$build" --wrap-mode=nofallback -Dbuildtype=release -Dtests=false || exit 1
  ninja -C "$build" tools/authchain || exit 1
fi
authchain=$(realpath "$build/tools/authchain")

work=$(mktemp -d /tmp/authchain-bench.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null
  done
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

free_port() {
  local p
  for _ in $(seq 100); do
    p=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
  return 1
}
wait_for() {
  for _ in $(seq 200); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done
  echo "timed out waiting for '$2' in $1"; cat "$1"; exit 1
}
start() { local log=$1; shift; "$@" >"$log" 2>&1 & pids+=($!); }

cd "$work"
redis_port=$(free_port); gate_port=$(free_port); tunnel_port=$(free_port)
"$authchain" keygen -f host -C bench-gate >/dev/null && "$authchain" keygen -f client -C bench >/dev/null || exit 1
cp client.pub authorized_keys && chmod 600 authorized_keys
echo "[127.0.0.1]:$gate_port $(cut -d' ' -f1,2 host.pub)" > known_hosts
cat > gate.toml <<EOF
listen = "127.0.0.1:$gate_port"
backend = "127.0.0.1:$redis_port"
[[layer]]
kind = "ip_filter"
allow = ["127.0.0.1/32"]
[[layer]]
kind = "secure_channel"
[[layer]]
kind = "public_key"
host_key = "host"
authorized_keys = "authorized_keys"
EOF
cat > tunnel.toml <<EOF
listen = "127.0.0.1:$tunnel_port"
server = "127.0.0.1:$gate_port"
[[layer]]
kind = "secure_channel"
[[layer]]
kind = "public_key"
identity = "client"
known_hosts = "known_hosts"
EOF
start redis.log redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --daemonize no
wait_for redis.log "Ready to accept connections"
start gate.log "$authchain" gate --config gate.toml
wait_for gate.log "listening on"
start tunnel.log "$authchain" tunnel --config tunnel.toml
wait_for tunnel.log "listening on"
[ "$(redis-cli -p "$tunnel_port" ping)" = PONG ] || { echo "no PONG through the tunnel"; exit 1; }

# bench PORT N C: "test rps p50" lines from redis-benchmark --csv
bench() {
  redis-benchmark -p "$1" -t ping_inline,set -n "$2" -c "$3" --csv 2>/dev/null |
    tr -d '"' | awk -F, 'NR > 1 { print $1, $2, $5 }'
}

echo "authchain $("$authchain" --version | awk '{print $2}') ($build), redis $(redis-server --version | awk '{print $3}' | cut -d= -f2), $(nproc) cores"
echo "chain: gate ip_filter | secure_channel | public_key; tunnel secure_channel | public_key"
echo
echo "== throughput: -n $requests -c $clients"
direct=$(bench "$redis_port" "$requests" "$clients")
through=$(bench "$tunnel_port" "$requests" "$clients")
printf "%-12s %14s %14s %7s\n" test "direct ops/s" "authchain ops/s" ratio
status=0
while read -r name rps _; do
  t=$(awk -v n="$name" '$1 == n { print $2 }' <<<"$through")
  ratio=$(awk -v a="$t" -v b="$rps" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
  printf "%-12s %14s %14s %7s\n" "$name" "$rps" "$t" "$ratio"
  awk -v r="$ratio" 'BEGIN { exit !(r >= 0.6) }' || status=1
done <<<"$direct"

echo
echo "== latency: -n 20000 -c 1 (p50, ms)"
direct1=$(bench "$redis_port" 20000 1)
through1=$(bench "$tunnel_port" 20000 1)
printf "%-12s %10s %10s\n" test direct authchain
while read -r name _ p50; do
  t=$(awk -v n="$name" '$1 == n { print $3 }' <<<"$through1")
  printf "%-12s %10s %10s\n" "$name" "$p50" "$t"
done <<<"$direct1"
echo
[ "$status" -eq 0 ] && echo "ratio target (>= 0.6): met" || echo "ratio target (>= 0.6): NOT met"
exit 0
