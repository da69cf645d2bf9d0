#!/usr/bin/env bash
# Benchmark (not a test): redis-benchmark straight to redis-server, then
# through authchain tunnel + gate (secure_channel | public_key), same run.
#
#   tests/bench/bench_redis.sh [REQUESTS] [CLIENTS]
#
# Prints ops/s of PING_INLINE and SET at -c CLIENTS (default 100000 requests,
# 50 clients) direct and through authchain, their ratio (target >= 0.6), and
# p50 latency at -c 1. For scale, two more columns: one gate with a plain
# TCP chain (ip_filter only, no tunnel), i.e. the cost of one proxy hop, and
# haproxy 2-thread `mode tcp` as a reference hop (if installed).
# Uses BUILD_DIR (default build-release, configured with -Dbuildtype=release
# if missing). Loopback only; stops what it starts.
set -uo pipefail
cd "$(dirname "$0")/../.."
requests=${1:-100000}
clients=${2:-50}
source scripts/lib.sh
build=${BUILD_DIR:-build-release}
ensure_built "$build" -Dbuildtype=release -Dtests=false
work=$(mktemp -d /tmp/authchain-bench.XXXXXX)

cd "$work"
redis_port=$(free_port); gate_port=$(free_port); tunnel_port=$(free_port); plain_port=$(free_port); haproxy_port=$(free_port)
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
cat > plain.toml <<EOF
listen = "127.0.0.1:$plain_port"
backend = "127.0.0.1:$redis_port"
[[layer]]
kind = "ip_filter"
allow = ["127.0.0.1/32"]
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
wait_for redis.log "Ready to accept connections" || exit 1
start gate.log "$authchain" gate --config gate.toml
wait_for gate.log "listening on" || exit 1
start plain.log "$authchain" gate --config plain.toml
wait_for plain.log "listening on" || exit 1
if command -v haproxy >/dev/null; then
  printf 'global\n  nbthread 2\ndefaults\n  mode tcp\n  timeout connect 5s\n  timeout client 60s\n  timeout server 60s\nfrontend fe\n  bind 127.0.0.1:%s\n  default_backend be\nbackend be\n  server s1 127.0.0.1:%s\n' \
    "$haproxy_port" "$redis_port" > haproxy.cfg
  start haproxy.log haproxy -db -f haproxy.cfg
  for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$haproxy_port") 2>/dev/null && break; sleep 0.05; done
fi
start tunnel.log "$authchain" tunnel --config tunnel.toml
wait_for tunnel.log "listening on" || exit 1
[ "$(redis-cli -p "$tunnel_port" ping)" = PONG ] || { echo "no PONG through the tunnel"; exit 1; }

# bench PORT N C: "test rps p50" lines from redis-benchmark --csv
bench() {
  redis-benchmark -p "$1" -t ping_inline,set -n "$2" -c "$3" --csv 2>/dev/null |
    tr -d '"' | awk -F, 'NR > 1 { print $1, $2, $5 }'
}

echo "authchain $("$authchain" --version | awk 'NR == 1 {print $2}') ($build), redis $(redis-server --version | awk '{print $3}' | cut -d= -f2), $(nproc) cores"
echo "chain: gate ip_filter | secure_channel | public_key; tunnel secure_channel | public_key"
echo
echo "== throughput: -n $requests -c $clients"
direct=$(bench "$redis_port" "$requests" "$clients")
through=$(bench "$tunnel_port" "$requests" "$clients")
gate_only=$(bench "$plain_port" "$requests" "$clients")
haproxy_only=""; [ -f haproxy.cfg ] && haproxy_only=$(bench "$haproxy_port" "$requests" "$clients")
printf "%-12s %14s %18s %7s %16s %14s\n" test "direct ops/s" "tunnel+gate ops/s" ratio "plain gate only" "haproxy only"
status=0
while read -r name rps _; do
  t=$(awk -v n="$name" '$1 == n { print $2 }' <<<"$through")
  g=$(awk -v n="$name" '$1 == n { print $2 }' <<<"$gate_only")
  h=$(awk -v n="$name" '$1 == n { print $2 }' <<<"$haproxy_only")
  ratio=$(awk -v a="$t" -v b="$rps" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
  printf "%-12s %14s %18s %7s %16s %14s\n" "$name" "$rps" "$t" "$ratio" "$g" "${h:--}"
  awk -v r="$ratio" 'BEGIN { exit !(r >= 0.6) }' || status=1
done <<<"$direct"

echo
echo "== latency: -n 20000 -c 1 (p50, ms)"
direct1=$(bench "$redis_port" 20000 1)
through1=$(bench "$tunnel_port" 20000 1)
gate1=$(bench "$plain_port" 20000 1)
haproxy1=""; [ -f haproxy.cfg ] && haproxy1=$(bench "$haproxy_port" 20000 1)
printf "%-12s %10s %12s %16s %14s\n" test direct tunnel+gate "plain gate only" "haproxy only"
while read -r name _ p50; do
  t=$(awk -v n="$name" '$1 == n { print $3 }' <<<"$through1")
  g=$(awk -v n="$name" '$1 == n { print $3 }' <<<"$gate1")
  h=$(awk -v n="$name" '$1 == n { print $3 }' <<<"$haproxy1")
  printf "%-12s %10s %12s %16s %14s\n" "$name" "$p50" "$t" "$g" "${h:--}"
done <<<"$direct1"
echo
[ "$status" -eq 0 ] && echo "ratio target (>= 0.6): met" || echo "ratio target (>= 0.6): NOT met"
exit 0
