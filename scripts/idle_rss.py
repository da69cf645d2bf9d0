#!/usr/bin/env python3
"""RSS per idle authenticated connection, gate + tunnel.

    scripts/idle_rss.py BUILD/tools/authchain [N ...]

Starts a backend that accepts and holds connections (a separate process),
a gate (ip_filter | secure_channel | public_key) in front of it and a
tunnel to the gate, all on 127.0.0.1 with fresh keys in a temporary
directory; then for each N opens connections to the tunnel in batches
(the gate lets one source hold at most 128 handshakes at once), waits until
the backend holds all of them, and prints the VmRSS of the gate and of the
tunnel before and after, and the growth per connection. Every wait is
bounded in count and time; everything started is stopped by PID.
"""
import os, re, resource, signal, socket, subprocess, sys, tempfile, time

def vmrss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")

BACKEND = r'''
import socket, selectors, sys, os
ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", 0)); ls.listen(4096); ls.setblocking(False)
print(ls.getsockname()[1], flush=True)
sel = selectors.DefaultSelector(); sel.register(ls, selectors.EVENT_READ)
held = []
while True:
    for key, _ in sel.select(1.0):
        while True:
            try: c, _ = ls.accept()
            except BlockingIOError: break
            held.append(c)
    with open(sys.argv[1] + ".tmp", "w") as f: f.write(str(len(held)))
    os.replace(sys.argv[1] + ".tmp", sys.argv[1])
'''

def wait_line(path, pattern, limit=20.0):
    until = time.monotonic() + limit
    for _ in range(int(limit / 0.05) + 1):
        if os.path.exists(path):
            m = re.search(pattern, open(path).read())
            if m: return m
        if time.monotonic() > until: break
        time.sleep(0.05)
    raise RuntimeError(f"no {pattern!r} in {path}")

def held(count_file):
    try: return int(open(count_file).read() or 0)
    except (FileNotFoundError, ValueError): return 0

def main():
    exe = os.path.abspath(sys.argv[1])
    # Two descriptors per connection in the gate and in the tunnel (needs the hard limit, or root).
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want_fds = 2 * max([int(a) for a in sys.argv[2:]] or [1000]) + 200
    if soft < want_fds:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want_fds, max(hard, want_fds)))
        except (ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            print(f"note: the descriptor limit is {hard}: at most about {(hard - 200) // 2} connections", flush=True)
    counts = [int(a) for a in sys.argv[2:]] or [1000]
    procs = []
    d = tempfile.mkdtemp(prefix="authchain-idle-rss.")
    try:
        for name in ("host", "client"):
            subprocess.run([exe, "keygen", "-f", f"{d}/{name}", "-C", name], check=True, capture_output=True)
        os.chmod(f"{d}/client.pub", 0o600)
        with open(f"{d}/authorized_keys", "w") as f: f.write(open(f"{d}/client.pub").read())
        os.chmod(f"{d}/authorized_keys", 0o600)
        count_file = f"{d}/held"
        backend = subprocess.Popen([sys.executable, "-c", BACKEND, count_file], stdout=subprocess.PIPE, text=True)
        procs.append(backend)
        backend_port = int(backend.stdout.readline())
        total = max(counts)
        with open(f"{d}/gate.toml", "w") as f:
            f.write(f'listen = "127.0.0.1:0"\nbackend = "127.0.0.1:{backend_port}"\n'
                    f'max_connections = {total + 10}\nmax_connections_per_source = {total + 10}\n'
                    '[[layer]]\nkind = "ip_filter"\nallow = ["127.0.0.1/32"]\n'
                    '[[layer]]\nkind = "secure_channel"\n'
                    '[[layer]]\nkind = "public_key"\nhost_key = "host"\nauthorized_keys = "authorized_keys"\n')
        gate = subprocess.Popen([exe, "gate", "--config", f"{d}/gate.toml"], cwd=d,
                                stdout=open(f"{d}/gate.out", "w"), stderr=subprocess.STDOUT)
        procs.append(gate)
        gate_port = int(wait_line(f"{d}/gate.out", r"listening on 127\.0\.0\.1:(\d+)").group(1))
        pub = open(f"{d}/host.pub").read().split()
        with open(f"{d}/known_hosts", "w") as f: f.write(f"[127.0.0.1]:{gate_port} {pub[0]} {pub[1]}\n")
        os.chmod(f"{d}/known_hosts", 0o600)
        with open(f"{d}/tunnel.toml", "w") as f:
            f.write(f'listen = "127.0.0.1:0"\nserver = "127.0.0.1:{gate_port}"\n'
                    f'max_connections = {total + 10}\n'
                    '[[layer]]\nkind = "secure_channel"\n'
                    '[[layer]]\nkind = "public_key"\nidentity = "client"\nknown_hosts = "known_hosts"\n')
        tunnel = subprocess.Popen([exe, "tunnel", "--config", f"{d}/tunnel.toml"], cwd=d,
                                  stdout=open(f"{d}/tunnel.out", "w"), stderr=subprocess.STDOUT)
        procs.append(tunnel)
        tunnel_port = int(wait_line(f"{d}/tunnel.out", r"listening on 127\.0\.0\.1:(\d+)").group(1))
        # One connection first, so that one-time allocations (keys, pools) are in the baseline.
        warm = socket.create_connection(("127.0.0.1", tunnel_port))
        for _ in range(200):
            if held(count_file) >= 1: break
            time.sleep(0.05)
        time.sleep(0.5)
        base_gate, base_tunnel = vmrss_kib(gate.pid), vmrss_kib(tunnel.pid)
        print(f"baseline (1 connection): gate {base_gate} KiB, tunnel {base_tunnel} KiB")
        clients = []
        for n in sorted(counts):
            while len(clients) < n:
                batch = min(100, n - len(clients))
                for _ in range(batch):
                    clients.append(socket.create_connection(("127.0.0.1", tunnel_port)))
                want = len(clients) + 1
                until = time.monotonic() + 30
                for _ in range(3000):
                    if held(count_file) >= want or time.monotonic() > until: break
                    time.sleep(0.01)
                if held(count_file) < want:
                    raise RuntimeError(f"backend holds {held(count_file)} of {want}")
            time.sleep(1.0)
            g, t = vmrss_kib(gate.pid), vmrss_kib(tunnel.pid)
            per = (g - base_gate + t - base_tunnel) / n
            print(f"N={n}: gate {g} KiB (+{g - base_gate}), tunnel {t} KiB (+{t - base_tunnel}); "
                  f"per idle connection: gate {(g - base_gate) / n:.1f} KiB + tunnel {(t - base_tunnel) / n:.1f} KiB"
                  f" = {per:.1f} KiB")
        for c in clients: c.close()
        warm.close()
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try: p.wait(5)
                except subprocess.TimeoutExpired: p.kill(); p.wait()
        subprocess.run(["rm", "-rf", d])

if __name__ == "__main__":
    main()
