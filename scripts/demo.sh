#!/usr/bin/env bash
# authchain in front of an unmodified redis-server, on loopback:
#
#   redis-cli -> authchain tunnel -> authchain gate -> redis-server
#                (secure_channel    (ip_filter | secure_channel
#                 | public_key)      | public_key)
#
# Shows: PING and a SET/GET round trip through the tunnel; a tunnel with a
# key the gate does not know is refused (coarse reason shown, redis-cli
# fails, redis never sees the connection); the gate's audit lines for both.
# Installs what is missing (scripts/install-deps.sh), builds ./build if
# needed. Cleans up everything it started. Exit 0 only if every
# expectation held.
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh || exit 1

source scripts/lib.sh
ensure_built "${BUILD_DIR:-build}"
work=$(mktemp -d /tmp/authchain-demo.XXXXXX)

failures=0
expect() {  # expect DESCRIPTION COMMAND...: runs COMMAND, counts a failure
  local what=$1; shift
  if "$@"; then echo "   ok: $what"; else echo "   FAILED: $what"; failures=$((failures + 1)); fi
}

cd "$work"
redis_port=$(free_port); gate_port=$(free_port); good_port=$(free_port); bad_port=$(free_port)

echo "== keys: a host key for the gate, a known client key, an unknown one"
"$authchain" keygen -f host -C demo-gate >/dev/null || exit 1
"$authchain" keygen -f alice -C alice@demo >/dev/null || exit 1
"$authchain" keygen -f mallory -C mallory@demo >/dev/null || exit 1
cp alice.pub authorized_keys && chmod 600 authorized_keys
echo "[127.0.0.1]:$gate_port $(cut -d' ' -f1,2 host.pub)" > known_hosts
echo "   alice:   $("$authchain" fingerprint alice.pub)   (in authorized_keys)"
echo "   mallory: $("$authchain" fingerprint mallory.pub)   (unknown to the gate)"

cat > gate.toml <<EOF
listen = "127.0.0.1:$gate_port"
backend = "127.0.0.1:$redis_port"
audit_log = "gate-audit.log"

[[layer]]
kind = "ip_filter"
allow = ["127.0.0.1/32", "::1/128"]

[[layer]]
kind = "secure_channel"

[[layer]]
kind = "public_key"
host_key = "host"
authorized_keys = "authorized_keys"
EOF
tunnel_config() {  # tunnel_config NAME PORT IDENTITY
  cat > "$1.toml" <<EOF
listen = "127.0.0.1:$2"
server = "127.0.0.1:$gate_port"

[[layer]]
kind = "secure_channel"

[[layer]]
kind = "public_key"
identity = "$3"
known_hosts = "known_hosts"
EOF
}
tunnel_config alice-tunnel "$good_port" alice
tunnel_config mallory-tunnel "$bad_port" mallory

echo "== redis-server on 127.0.0.1:$redis_port, gate on :$gate_port, tunnels on :$good_port (alice) and :$bad_port (mallory)"
start redis.log redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --daemonize no
wait_for redis.log "Ready to accept connections" || exit 1
start gate.log "$authchain" gate --config gate.toml
wait_for gate.log "listening on" || exit 1
start alice-tunnel.log "$authchain" tunnel --config alice-tunnel.toml
wait_for alice-tunnel.log "listening on" || exit 1
start mallory-tunnel.log "$authchain" tunnel --config mallory-tunnel.toml
wait_for mallory-tunnel.log "listening on" || exit 1
connections() { redis-cli -p "$redis_port" INFO stats | tr -d '\r' | sed -n 's/^total_connections_received://p'; }

echo
echo "== alice: redis-cli through her tunnel"
echo "   \$ redis-cli -p $good_port ping"
pong=$(timeout 20 redis-cli -p "$good_port" ping 2>&1); echo "   $pong"
expect "PING answered PONG" test "$pong" = PONG
echo "   \$ redis-cli -p $good_port set demo 'hello through authchain'"
set_out=$(timeout 20 redis-cli -p "$good_port" set demo 'hello through authchain' 2>&1); echo "   $set_out"
echo "   \$ redis-cli -p $good_port get demo"
get_out=$(timeout 20 redis-cli -p "$good_port" get demo 2>&1); echo "   $get_out"
expect "SET/GET round trip" test "$set_out/$get_out" = "OK/hello through authchain"
echo "   \$ authchain probe --config alice-tunnel.toml"
"$authchain" probe --config alice-tunnel.toml | sed 's/^/   /'
expect "probe as alice exits 0" test "${PIPESTATUS[0]}" -eq 0

echo
echo "== mallory: the same through a tunnel with an unknown key"
before=$(connections)
echo "   \$ redis-cli -p $bad_port ping"
bad_out=$(timeout 20 redis-cli -p "$bad_port" ping 2>&1); bad_rc=$?
echo "   $bad_out   (exit status $bad_rc)"
expect "redis-cli through mallory's tunnel fails" test "$bad_rc" -ne 0 -a "$bad_out" != PONG
after=$(connections)
expect "redis saw no connection from mallory (connections received: $before -> $after, the +1 is this INFO)" \
  test "$after" -eq $((before + 1))
wait_for mallory-tunnel.log "refused" >/dev/null || true
echo "   tunnel says: $(grep refused mallory-tunnel.log | head -1)"
echo "   \$ authchain probe --config mallory-tunnel.toml"
probe_out=$("$authchain" probe --config mallory-tunnel.toml 2>/dev/null); probe_rc=$?
echo "   $probe_out   (exit status $probe_rc)"
expect "probe as mallory: coarse reason 'denied', exit 3" test "$probe_out/$probe_rc" = "denied: denied/3"

echo
echo "== the gate's audit log (one JSON line per connection)"
sleep 0.2
grep '"event":"connection"' gate-audit.log | sed 's/^/   /'
expect "an accepted line for alice" grep -q '"key_comment":"alice@demo".*"verdict":"accepted"' gate-audit.log
expect "a denied line for mallory's key" grep -q "key not in authorized_keys.*\"verdict\":\"denied\"" gate-audit.log

echo
if [ "$failures" -eq 0 ]; then
  echo "demo: all expectations held"
  exit 0
fi
echo "demo: $failures expectation(s) failed"
exit 1
