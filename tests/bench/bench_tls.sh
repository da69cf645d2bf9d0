#!/usr/bin/env bash
# Benchmark (not a test): mutual TLS through an authchain tunnel + gate
# (kind = "tls" both sides) and through a stunnel4 client + server pair
# configured alike, in the same run: TLS 1.2, ECDHE x25519,
# ECDHE-ECDSA-AES256-GCM-SHA384 (groups x25519 then P-256: TLS 1.2 also
# needs P-256 offered for the ECDSA P-256 certificates), certificates from
# `authchain ca`, client certificates required and verified, no session
# resumption (authchain never resumes; stunnel is told sessionResume = no).
#
#   tests/bench/bench_tls.sh [CONNECTIONS] [SECONDS]
#
# Prints handshakes/s (CONNECTIONS sequential connections, default 300, each
# a new mutual handshake tunnel->gate, checked end to end with a redis PING)
# and bulk MB/s (iperf3 -t SECONDS, default 5, through each pair), and the
# authchain/stunnel ratios. Uses BUILD_DIR (default build-release,
# configured with -Dbuildtype=release if missing). Loopback only; stops what
# it starts.
set -uo pipefail
cd "$(dirname "$0")/../.."
connections=${1:-300}
seconds=${2:-5}
source scripts/lib.sh
build=${BUILD_DIR:-build-release}
ensure_built "$build" -Dbuildtype=release -Dtests=false
for tool in stunnel4 iperf3 redis-server; do
  command -v "$tool" >/dev/null || { echo "missing $tool (scripts/install-deps.sh)"; exit 1; }
done
work=$(mktemp -d /tmp/authchain-bench-tls.XXXXXX)
cd "$work"
chmod 700 .
"$authchain" ca init ca --name "bench CA" >/dev/null &&
  "$authchain" ca issue ca --name server.example --server >/dev/null &&
  "$authchain" ca issue ca --name client --client >/dev/null || exit 1

redis_port=$(free_port); iperf_port=$(free_port)
start redis.log redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --daemonize no
start iperf.log iperf3 -s -p "$iperf_port" -B 127.0.0.1
wait_for redis.log "Ready to accept connections" || exit 1

# pair NAME BACKEND_PORT: an authchain gate + tunnel; sets port_NAME (the tunnel).
pair_authchain() {
  local name=$1 backend=$2 gate tunnel
  gate=$(free_port); tunnel=$(free_port)
  cat > "gate-$name.toml" <<EOT
listen = "127.0.0.1:$gate"
backend = "127.0.0.1:$backend"
[[layer]]
kind = "tls"
cert = "ca/server.example.crt"
key = "ca/server.example.key"
ca = "ca/ca.crt"
ciphers = ["AES-256/GCM"]
EOT
  cat > "tunnel-$name.toml" <<EOT
listen = "127.0.0.1:$tunnel"
server = "127.0.0.1:$gate"
[[layer]]
kind = "tls"
cert = "ca/client.crt"
key = "ca/client.key"
ca = "ca/ca.crt"
server_name = "server.example"
ciphers = ["AES-256/GCM"]
EOT
  start "gate-$name.log" "$authchain" gate --config "gate-$name.toml"
  wait_for "gate-$name.log" "listening on" || exit 1
  start "tunnel-$name.log" "$authchain" tunnel --config "tunnel-$name.toml"
  wait_for "tunnel-$name.log" "listening on" || exit 1
  eval "port_a_$name=$tunnel"
}

pair_stunnel() {
  local name=$1 backend=$2 server client
  server=$(free_port); client=$(free_port)
  local common="sslVersion = TLSv1.2
ciphers = ECDHE-ECDSA-AES256-GCM-SHA384
curves = X25519:P-256
CAfile = $work/ca/ca.crt
verifyChain = yes
sessionResume = no"
  cat > "stunnel-server-$name.conf" <<EOT
foreground = yes
pid =
[s]
accept = 127.0.0.1:$server
connect = 127.0.0.1:$backend
cert = $work/ca/server.example.crt
key = $work/ca/server.example.key
requireCert = yes
options = NO_TICKET
$common
EOT
  cat > "stunnel-client-$name.conf" <<EOT
foreground = yes
pid =
[c]
client = yes
accept = 127.0.0.1:$client
connect = 127.0.0.1:$server
cert = $work/ca/client.crt
key = $work/ca/client.key
checkHost = server.example
$common
EOT
  start "stunnel-server-$name.log" stunnel4 "stunnel-server-$name.conf"
  start "stunnel-client-$name.log" stunnel4 "stunnel-client-$name.conf"
  for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$client") 2>/dev/null && break; sleep 0.05; done
  eval "port_s_$name=$client"
}

pair_authchain redis "$redis_port"; pair_authchain iperf "$iperf_port"
pair_stunnel redis "$redis_port"; pair_stunnel iperf "$iperf_port"
[ "$(redis-cli -p "$port_a_redis" ping)" = PONG ] || { echo "no PONG through authchain"; exit 1; }
[ "$(redis-cli -p "$port_s_redis" ping)" = PONG ] || { echo "no PONG through stunnel"; cat stunnel-*-redis.log | tail -n 12; exit 1; }

# handshakes PORT: sequential connections, each PING/PONG; prints connections/s.
handshakes() {
  /usr/bin/python3 - "$1" "$connections" <<'PY'
import socket, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
start = time.monotonic()
for _ in range(n):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(b"PING\r\n")
    reply = b""
    while not reply.endswith(b"\r\n"):
        chunk = s.recv(64)
        if not chunk: raise SystemExit("connection ended before +PONG")
        reply += chunk
    assert reply == b"+PONG\r\n", reply
    s.close()
print(f"{n / (time.monotonic() - start):.1f}")
PY
}

# bulk PORT: iperf3 client through the pair; prints received MB/s.
bulk() {
  iperf3 -c 127.0.0.1 -p "$1" -t "$seconds" -J 2>/dev/null |
    /usr/bin/python3 -c 'import json, sys; d = json.load(sys.stdin); print("%.1f" % (d["end"]["sum_received"]["bits_per_second"] / 8e6))'
}

echo "authchain $("$authchain" --version | awk 'NR == 1 {print $2}') ($build), $(stunnel4 -version 2>&1 | grep -o 'stunnel [0-9.]*' | head -1), $(nproc) cores"
echo "TLS 1.2 ECDHE-ECDSA-AES256-GCM-SHA384 x25519, ECDSA P-256, mutual, no resumption"
a_hs=$(handshakes "$port_a_redis"); s_hs=$(handshakes "$port_s_redis")
a_mb=$(bulk "$port_a_iperf"); s_mb=$(bulk "$port_s_iperf")
printf "%-14s %12s %12s %7s\n" "" authchain stunnel4 ratio
printf "%-14s %12s %12s %7s\n" handshakes/s "$a_hs" "$s_hs" "$(awk -v a="$a_hs" -v b="$s_hs" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')"
printf "%-14s %12s %12s %7s\n" bulk_MB/s "$a_mb" "$s_mb" "$(awk -v a="$a_mb" -v b="$s_mb" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')"
