"""Unmodified RPyC clients, run against `authchain tunnel` (bounded by the caller's timeout).

    rpyc_client.py classic PORT          remote calls and a 10 MB round trip
    rpyc_client.py concurrent PORT N     N clients at once, each calling and echoing 1 MB
    rpyc_client.py whoami PORT           prints the identity the service saw, as JSON
    rpyc_client.py direct SOCKET         straight to the backend, no header: must be refused
    rpyc_client.py ssl PORT CA [CERT KEY]
        rpyc.classic.ssl_connect straight to a gate with a tls layer: remote
        calls, a 1 MB round trip; without CERT and KEY the gate must refuse
        ("ok refused")
Prints "ok ..." and exits 0 on success.
"""
import hashlib
import json
import os
import ssl
import sys
import threading

import rpyc


def classic(port):
    conn = rpyc.classic.connect("127.0.0.1", port)
    remote_pid = conn.modules.os.getpid()
    assert remote_pid != os.getpid()
    assert conn.eval("6 * 7") == 42
    conn.execute("def echo(x):\n    return x")
    data = os.urandom(10 * 1024 * 1024)
    back = conn.namespace["echo"](data)
    assert back == data, "10 MB round trip changed the bytes"
    remote_digest = conn.modules.hashlib.sha256(data).hexdigest()
    assert remote_digest == hashlib.sha256(data).hexdigest()
    conn.close()
    print("ok classic pid", remote_pid, "10MB", remote_digest[:16])


def concurrent(port, n):
    errors, done = [], []

    def one(i):
        try:
            conn = rpyc.classic.connect("127.0.0.1", port)
            assert conn.eval("%d + 1" % i) == i + 1
            blob = os.urandom(1024 * 1024)
            conn.execute("def echo(x):\n    return x")
            assert conn.namespace["echo"](blob) == blob
            conn.close()
            done.append(i)
        except Exception as e:  # reported below
            errors.append("%d: %r" % (i, e))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    if errors or len(done) != n:
        print("failed:", len(done), "of", n, errors)
        sys.exit(1)
    print("ok concurrent", n)


def whoami(port):
    conn = rpyc.connect("127.0.0.1", port)
    credentials = conn.root.whoami()
    print("ok whoami", json.dumps({k: credentials[k] for k in credentials}))
    conn.close()


def direct(path):
    try:
        conn = rpyc.classic.unix_connect(path)
        conn.eval("1 + 1")
    except (EOFError, ConnectionError, OSError) as e:
        print("ok refused", type(e).__name__)
        return
    print("reached the backend without a PROXY header")
    sys.exit(1)


def ssl_classic(port, ca, cert=None, key=None):
    try:
        conn = rpyc.classic.ssl_connect("127.0.0.1", port, keyfile=key, certfile=cert, ca_certs=ca)
        remote_pid = conn.modules.os.getpid()
        assert remote_pid != os.getpid()
        assert conn.eval("6 * 7") == 42
        conn.execute("def echo(x):\n    return x")
        data = os.urandom(1024 * 1024)
        assert conn.namespace["echo"](data) == data, "1 MB round trip changed the bytes"
        conn.close()
    except (ssl.SSLError, EOFError, ConnectionError, OSError) as e:
        if cert is None:
            print("ok refused", type(e).__name__, e)
            return
        raise
    if cert is None:
        print("reached the backend without a client certificate")
        sys.exit(1)
    print("ok ssl pid", remote_pid)


if __name__ == "__main__":
    what = sys.argv[1]
    if what == "classic":
        classic(int(sys.argv[2]))
    elif what == "concurrent":
        concurrent(int(sys.argv[2]), int(sys.argv[3]))
    elif what == "whoami":
        whoami(int(sys.argv[2]))
    elif what == "direct":
        direct(sys.argv[2])
    elif what == "ssl":
        ssl_classic(int(sys.argv[2]), *sys.argv[3:6])
    else:
        sys.exit("unknown mode " + what)
