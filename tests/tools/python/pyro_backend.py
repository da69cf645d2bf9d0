"""An unmodified Pyro4 daemon behind `authchain gate`, reading the gate's
PROXY v2 header through the contrib module's Pyro4ProxyHeader mix-in.

    pyro_backend.py NATPORT_FILE

Binds 127.0.0.1:0 and prints "listening PORT" (the gate's backend). The
NAT address of the returned URIs must be the tunnel's, whose port the test
only knows once the gate and the tunnel run: it waits (bounded, 20 s) for
NATPORT_FILE, then prints "uri URI" and serves. With fixed ports write
Daemon(host=..., port=..., nathost=..., natport=...) directly (docs/pyro.md).
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "contrib", "python"))

import Pyro4  # noqa: E402

import authchain_proxy  # noqa: E402


class Daemon(authchain_proxy.Pyro4ProxyHeader, Pyro4.Daemon):
    pass


@Pyro4.expose
class Counter(object):
    def __init__(self):
        self.value = 0

    def increment(self):
        self.value += 1
        return self.value


@Pyro4.expose
class Echo(object):
    def echo(self, value):
        return value

    def whoami(self):
        return Pyro4.current_context.client.authchain_credentials

    def new_counter(self):
        # A proxy the daemon hands out: it must point at the NAT address (the tunnel).
        counter = Counter()
        self._pyroDaemon.register(counter)
        return counter


def main():
    natport_file = sys.argv[1]
    daemon = Daemon(host="127.0.0.1", port=0, nathost="127.0.0.1", natport=1)
    print("listening", daemon.locationStr.split(":")[1], flush=True)
    deadline = time.monotonic() + 20
    while not os.path.exists(natport_file) and time.monotonic() < deadline:
        time.sleep(0.05)
    natport = int(open(natport_file).read().strip())
    daemon.natLocationStr = "127.0.0.1:%d" % natport
    uri = daemon.register(Echo(), "authchain.echo")
    print("uri", uri, flush=True)
    daemon.requestLoop()


if __name__ == "__main__":
    main()
