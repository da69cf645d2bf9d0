#!/usr/bin/env python3
"""Holds COUNT idle connections to a Redis port (through a tunnel).

    idle_hold.py PORT COUNT DEADLINE_SECONDS [IN_FLIGHT=50]

Each connection sends PING and waits for +PONG, so it is authenticated end
to end (tunnel, gate and backend all hold it) before it counts as held. At
most IN_FLIGHT are being set up at once (below a gate's per-source bound on
handshakes). When COUNT are held, or at DEADLINE, or after too many
failures, prints one JSON line {"held", "failed", "seconds", "error"} and
keeps the held connections open until standard input is closed (bounded:
at most 300 s), then closes them all and exits.
"""
import errno
import json
import resource
import selectors
import socket
import sys
import time

PING, PONG = b"PING\r\n", b"+PONG\r\n"
MAX_FAILURES = 100
MAX_HOLD_SECONDS = 300


def raise_fd_limit(count):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = count + 64
    if hard != resource.RLIM_INFINITY and hard < want:
        want = hard
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def open_all(port, count, deadline, in_flight):
    sel = selectors.DefaultSelector()
    held, pending, failed, error = [], {}, 0, ""

    def start():
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        rc = s.connect_ex(("127.0.0.1", port))
        if rc not in (0, errno.EINPROGRESS):
            s.close()
            raise OSError(rc, "connect: " + errno.errorcode.get(rc, str(rc)))
        pending[s] = b""
        sel.register(s, selectors.EVENT_WRITE)

    def fail(s, why):
        nonlocal failed, error
        sel.unregister(s)
        del pending[s]
        s.close()
        failed += 1
        error = why

    while len(held) < count and time.monotonic() < deadline and failed < MAX_FAILURES:
        while len(pending) < in_flight and len(held) + len(pending) < count:
            try:
                start()
            except OSError as e:
                failed, error = failed + 1, str(e)
                break
        for key, events in sel.select(timeout=0.2):
            s = key.fileobj
            if events & selectors.EVENT_WRITE:
                rc = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if rc:
                    fail(s, "connect: " + errno.errorcode.get(rc, str(rc)))
                    continue
                try:
                    s.send(PING)  # 6 bytes into an empty send buffer: sent whole
                except OSError as e:
                    fail(s, "send: " + str(e))
                    continue
                sel.modify(s, selectors.EVENT_READ)
            else:
                try:
                    chunk = s.recv(64)
                except OSError as e:
                    fail(s, "recv: " + str(e))
                    continue
                if not chunk:
                    fail(s, "closed before +PONG (refused?)")
                    continue
                pending[s] += chunk
                if pending[s] == PONG:
                    sel.unregister(s)
                    del pending[s]
                    held.append(s)
                elif not PONG.startswith(pending[s]):
                    fail(s, "unexpected reply %r" % pending[s])
    for s in list(pending):
        sel.unregister(s)
        s.close()
    sel.close()
    if len(held) < count and not error:
        error = "deadline"
    return held, failed, error


def main():
    port, count, seconds = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    in_flight = int(sys.argv[4]) if len(sys.argv) > 4 else 50
    limit = raise_fd_limit(count)
    start = time.monotonic()
    held, failed, error = [], 0, ""
    if limit < count + 16:
        error = f"RLIMIT_NOFILE is {limit}"
    else:
        held, failed, error = open_all(port, count, start + seconds, in_flight)
    print(json.dumps({"held": len(held), "failed": failed, "seconds": round(time.monotonic() - start, 3),
                      "error": error if len(held) < count else ""}), flush=True)
    # Hold until told (stdin closed), bounded.
    sel = selectors.DefaultSelector()
    sel.register(sys.stdin, selectors.EVENT_READ)
    end = time.monotonic() + MAX_HOLD_SECONDS
    while time.monotonic() < end:
        if sel.select(timeout=1.0) and not sys.stdin.buffer.read1(64):
            break
    for s in held:
        s.close()


if __name__ == "__main__":
    main()
