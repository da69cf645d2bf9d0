# Sourced by tests/bench/run: starts one peer (a tunnel pair, or nothing for
# "direct") in front of the benchmark's redis-server and iperf3 server.
#
#   make_keys                 # once: every key, certificate and password file
#   start_peer NAME           # sets REDIS_PORT, IPERF_PORT (what clients dial),
#                             # CLIENT_PIDS, SERVER_PIDS (comma lists: the two ends),
#                             # PEER_PIDS (array, to stop), SKIP_NEWCONN (reason or ""),
#                             # CLIENTS (instead of -c 50) and CLIENTS_NOTE (why),
#                             # NEWCONN_NOTE (what a new connection costs there, if not a handshake)
#
# Needs $work (a private temp dir), $authchain, $backend_redis, $backend_iperf,
# and procs.sh. Everything listens on 127.0.0.1 and is started with `spawn`.

peer_names=(direct authchain-aesgcm authchain-chachapoly authchain-resumed authchain-multiplexed authchain-tls
            authchain-password
            stunnel-full stunnel-resumed spiped ssh-chacha20 ssh-aes256gcm)

make_keys() {
  local k=$work/keys
  mkdir -p "$k" && chmod 700 "$k"
  # authchain: ed25519 host and client keys; a private CA with a server and a client certificate;
  # a user database (Argon2id, the default parameters) and the password file the tunnel reads.
  "$authchain" keygen -f "$k/host" -C bench-gate >/dev/null &&
    "$authchain" keygen -f "$k/client" -C bench-client >/dev/null &&
    cp "$k/client.pub" "$k/authorized_keys" && chmod 600 "$k/authorized_keys" &&
    "$authchain" ca init "$k/ca" --name "bench CA" >/dev/null &&
    "$authchain" ca issue "$k/ca" --name server.example --server >/dev/null &&
    "$authchain" ca issue "$k/ca" --name client --client >/dev/null || return 1
  head -c 24 /dev/urandom | base64 | tr -d '/+=' > "$k/password" && chmod 600 "$k/password"
  "$authchain" passwd "$k/users" add bench < "$k/password" >/dev/null 2>&1 || return 1
  # spiped: a 32-byte key file; OpenSSH: host and user keys.
  head -c 32 /dev/urandom > "$k/spiped.key" && chmod 600 "$k/spiped.key"
  ssh-keygen -q -t ed25519 -N '' -C bench-sshd -f "$k/ssh_host_ed25519_key" &&
    ssh-keygen -q -t ed25519 -N '' -C bench-ssh -f "$k/ssh_id" || return 1
  cp "$k/ssh_id.pub" "$k/ssh_authorized_keys"
}

# --- authchain: a gate + tunnel pair per backend ------------------------------------------

# Gate and tunnel layers of each authchain row (TOML, written after the top-level keys).
authchain_layers() {  # authchain_layers ROW gate|tunnel
  local k=$work/keys suite resumption=
  case $1 in
    authchain-aesgcm) suite=25519_AESGCM_SHA256 ;;
    authchain-chachapoly) suite=25519_ChaChaPoly_SHA256 ;;
    # As authchain-aesgcm, with tickets: a connection after the first skips public_key.
    authchain-resumed) suite=25519_AESGCM_SHA256 resumption=$'[[layer]]\nkind = "resumption"' ;;
    # As authchain-aesgcm, with multiplex = true at both ends (authchain_pair): every connection
    # is a stream on one authenticated channel per event loop.
    authchain-multiplexed) suite=25519_AESGCM_SHA256 ;;
  esac
  case $1:$2 in
    authchain-aesgcm:gate | authchain-chachapoly:gate | authchain-resumed:gate | authchain-multiplexed:gate) cat <<EOF
[[layer]]
kind = "ip_filter"
allow = ["127.0.0.1/32"]
[[layer]]
kind = "secure_channel"
suites = ["$suite"]
$resumption
[[layer]]
kind = "public_key"
host_key = "$k/host"
authorized_keys = "$k/authorized_keys"
EOF
    ;;
    authchain-aesgcm:tunnel | authchain-chachapoly:tunnel | authchain-resumed:tunnel | authchain-multiplexed:tunnel) cat <<EOF
[[layer]]
kind = "secure_channel"
suites = ["$suite"]
$resumption
[[layer]]
kind = "public_key"
identity = "$k/client"
known_hosts = "known_hosts"
EOF
    ;;
    authchain-tls:gate) cat <<EOF
[[layer]]
kind = "ip_filter"
allow = ["127.0.0.1/32"]
[[layer]]
kind = "tls"
cert = "$k/ca/server.example.crt"
key = "$k/ca/server.example.key"
ca = "$k/ca/ca.crt"
EOF
    ;;
    authchain-tls:tunnel) cat <<EOF
[[layer]]
kind = "tls"
cert = "$k/ca/client.crt"
key = "$k/ca/client.key"
ca = "$k/ca/ca.crt"
server_name = "server.example"
EOF
    ;;
    authchain-password:gate) cat <<EOF
[[layer]]
kind = "ip_filter"
allow = ["127.0.0.1/32"]
[[layer]]
kind = "tls"
cert = "$k/ca/server.example.crt"
key = "$k/ca/server.example.key"
require_client_cert = false
[[layer]]
kind = "password"
users = "$k/users"
EOF
    ;;
    authchain-password:tunnel) cat <<EOF
[[layer]]
kind = "tls"
ca = "$k/ca/ca.crt"
server_name = "server.example"
[[layer]]
kind = "password"
user = "bench"
password_file = "$k/password"
EOF
    ;;
  esac
}

# authchain_pair ROW DIR BACKEND_PORT: sets pair_port, pair_gate, pair_tunnel.
authchain_pair() {
  local row=$1 dir=$2 backend=$3 gate_port mux=
  [ "$row" = authchain-multiplexed ] && mux=$'multiplex = true\n'
  mkdir -p "$dir" && chmod 700 "$dir"
  # Both ends take every idle connection the benchmark holds (all from 127.0.0.1).
  { printf '%slisten = "127.0.0.1:0"\nbackend = "127.0.0.1:%s"\n' "$mux" "$backend"
    printf 'max_connections = 40000\nmax_connections_per_source = 40000\naudit_log = "%s/gate-audit.jsonl"\n' "$dir"
    authchain_layers "$row" gate; } > "$dir/gate.toml"
  spawn "$dir/gate.log" "$authchain" gate --config "$dir/gate.toml"; pair_gate=$spawned
  gate_port=$(listened_port "$dir/gate.log") || return 1
  echo "[127.0.0.1]:$gate_port $(cut -d' ' -f1,2 "$work/keys/host.pub")" > "$dir/known_hosts"
  { printf '%slisten = "127.0.0.1:0"\nserver = "127.0.0.1:%s"\nmax_connections = 40000\n' "$mux" "$gate_port"
    authchain_layers "$row" tunnel; } > "$dir/tunnel.toml"
  spawn "$dir/tunnel.log" "$authchain" tunnel --config "$dir/tunnel.toml"; pair_tunnel=$spawned
  pair_port=$(listened_port "$dir/tunnel.log") || return 1
}

start_authchain() {
  local d=$work/$1
  authchain_pair "$1" "$d/redis" "$backend_redis" || return 1
  REDIS_PORT=$pair_port; local g1=$pair_gate t1=$pair_tunnel
  authchain_pair "$1" "$d/iperf" "$backend_iperf" || return 1
  IPERF_PORT=$pair_port
  CLIENT_PIDS=$t1,$pair_tunnel SERVER_PIDS=$g1,$pair_gate PEER_PIDS=("$g1" "$t1" "$pair_gate" "$pair_tunnel")
}

# --- stunnel4: one client and one server process, a service per backend, mutual TLS 1.3 ----

start_stunnel() {  # start_stunnel full|resumed
  local d=$work/stunnel-$1 k=$work/keys s1 s2 resume
  mkdir -p "$d"
  s1=$(free_port); s2=$(free_port); REDIS_PORT=$(free_port); IPERF_PORT=$(free_port)
  # full: the client never offers a session to resume; resumed: stunnel's defaults
  # (the client caches its session, the server issues TLS 1.3 tickets).
  [ "$1" = full ] && resume=no || resume=yes
  # syslog = no: with no syslog socket, glibc's LOG_CONS writes every log line to the console
  # (a slow serial UART on some machines), which would dominate stunnel's cost per connection.
  local common="foreground = yes
syslog = no
pid =
sslVersion = TLSv1.3
CAfile = $k/ca/ca.crt
verifyChain = yes"
  cat > "$d/server.conf" <<EOF
$common
cert = $k/ca/server.example.crt
key = $k/ca/server.example.key
requireCert = yes
[redis]
accept = 127.0.0.1:$s1
connect = 127.0.0.1:$backend_redis
[iperf]
accept = 127.0.0.1:$s2
connect = 127.0.0.1:$backend_iperf
EOF
  cat > "$d/client.conf" <<EOF
$common
client = yes
cert = $k/ca/client.crt
key = $k/ca/client.key
checkHost = server.example
sessionResume = $resume
[redis]
accept = 127.0.0.1:$REDIS_PORT
connect = 127.0.0.1:$s1
[iperf]
accept = 127.0.0.1:$IPERF_PORT
connect = 127.0.0.1:$s2
EOF
  spawn "$d/server.log" stunnel4 "$d/server.conf"; local server=$spawned
  spawn "$d/client.log" stunnel4 "$d/client.conf"; local client=$spawned
  CLIENT_PIDS=$client SERVER_PIDS=$server PEER_PIDS=("$server" "$client")
  wait_port "$s1" && wait_port "$s2" && wait_port "$REDIS_PORT" && wait_port "$IPERF_PORT"
}

# --- spiped: an -e / -d pair per backend, default (Diffie-Hellman) handshakes --------------

start_spiped() {
  local d=$work/spiped k=$work/keys/spiped.key pids=() clients=() servers=() backend mid front
  mkdir -p "$d"
  for backend in "$backend_redis" "$backend_iperf"; do
    mid=$(free_port); front=$(free_port)
    spawn "$d/server-$backend.log" spiped -F -d -s "[127.0.0.1]:$mid" -t "[127.0.0.1]:$backend" -k "$k" -n 0
    servers+=("$spawned")
    spawn "$d/client-$backend.log" spiped -F -e -s "[127.0.0.1]:$front" -t "[127.0.0.1]:$mid" -k "$k" -n 0
    clients+=("$spawned")
    wait_port "$mid" && wait_port "$front" || return 1
    [ "$backend" = "$backend_redis" ] && REDIS_PORT=$front || IPERF_PORT=$front
  done
  CLIENT_PIDS=$(IFS=,; echo "${clients[*]}") SERVER_PIDS=$(IFS=,; echo "${servers[*]}")
  PEER_PIDS=("${servers[@]}" "${clients[@]}")
}

# --- ssh -L through an sshd of our own on a high port --------------------------------------

start_ssh() {  # start_ssh CIPHER
  local d=$work/ssh-$1 k=$work/keys ssh_port user
  mkdir -p "$d"
  ssh_port=$(free_port); REDIS_PORT=$(free_port); IPERF_PORT=$(free_port); user=$(id -un)
  # sshd refuses to start without its privilege separation directory (made by the ssh service).
  [ "$(id -u)" -ne 0 ] || [ -d /run/sshd ] || mkdir -p -m 0755 /run/sshd
  cat > "$d/sshd_config" <<EOF
ListenAddress 127.0.0.1
Port $ssh_port
HostKey $k/ssh_host_ed25519_key
PidFile none
AuthorizedKeysFile $k/ssh_authorized_keys
StrictModes no
UsePAM no
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
AllowTcpForwarding local
Ciphers $1
UseDNS no
LogLevel ERROR
EOF
  echo "[127.0.0.1]:$ssh_port $(cut -d' ' -f1,2 "$k/ssh_host_ed25519_key.pub")" > "$d/known_hosts"
  spawn "$d/sshd.log" /usr/sbin/sshd -D -e -f "$d/sshd_config"; local server=$spawned
  wait_port "$ssh_port" || return 1
  spawn "$d/ssh.log" ssh -N -F /dev/null -p "$ssh_port" -i "$k/ssh_id" -o IdentitiesOnly=yes -o BatchMode=yes \
    -o UserKnownHostsFile="$d/known_hosts" -o StrictHostKeyChecking=yes -o Ciphers="$1" -o Compression=no \
    -o ExitOnForwardFailure=yes -L "127.0.0.1:$REDIS_PORT:127.0.0.1:$backend_redis" \
    -L "127.0.0.1:$IPERF_PORT:127.0.0.1:$backend_iperf" "$user@127.0.0.1"
  local client=$spawned
  CLIENT_PIDS=$client SERVER_PIDS=$server PEER_PIDS=("$client" "$server")
  wait_port "$REDIS_PORT" && wait_port "$IPERF_PORT"
}

start_peer() {
  REDIS_PORT= IPERF_PORT= CLIENT_PIDS= SERVER_PIDS= PEER_PIDS=() SKIP_NEWCONN= CLIENTS=50 CLIENTS_NOTE= NEWCONN_NOTE=
  case $1 in
    direct) REDIS_PORT=$backend_redis IPERF_PORT=$backend_iperf ;;
    authchain-password) start_authchain "$1" || return 1
      # Each connection costs the gate one Argon2id check (19 MiB, t=2: tens of ms of CPU); it runs
      # max_concurrent_checks = 2 at once, one source holds half of them and their waiting places,
      # and a check waits at most 1 s: 50 connections opened at once are partly refused as busy.
      CLIENTS=4
      CLIENTS_NOTE="-c 4: at -c 50 the gate refuses connections as busy (50 Argon2id checks at once from one source)" ;;
    authchain-multiplexed) start_authchain "$1" || return 1
      NEWCONN_NOTE="a new connection is a stream on the tunnel's open channel: no handshake (as through one SSH session)" ;;
    authchain-*) start_authchain "$1" || return 1 ;;
    stunnel-full) start_stunnel full || return 1 ;;
    stunnel-resumed) start_stunnel resumed || return 1 ;;
    spiped) start_spiped || return 1 ;;
    ssh-chacha20) start_ssh chacha20-poly1305@openssh.com || return 1
      SKIP_NEWCONN="one SSH session carries every connection: no handshake per connection" ;;
    ssh-aes256gcm) start_ssh aes256-gcm@openssh.com || return 1
      SKIP_NEWCONN="one SSH session carries every connection: no handshake per connection" ;;
    *) echo "unknown peer $1" >&2; return 1 ;;
  esac
  redis_pong "$REDIS_PORT" || { echo "$1: no PONG through 127.0.0.1:$REDIS_PORT" >&2; return 1; }
}
