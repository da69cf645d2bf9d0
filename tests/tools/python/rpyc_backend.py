"""An unmodified RPyC server behind `authchain gate`, on a unix socket.

    rpyc_backend.py classic|service SOCKET

classic: RPyC's classic (slave) service; service: a service whose
whoami() returns the credentials the contrib module read from the gate's
PROXY v2 header. Both use authchain_proxy.authenticator. Every connection
the backend sees is printed ("connection"), then "accepted FINGERPRINT"
(the key's, or for a gate with a tls layer "accepted cert SUBJECT PIN") or
"refused: WHY", so a test can tell that a denied client never got here.
Prints "ready" once it accepts. Runs until killed (the test stops it by PID).
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "contrib", "python"))

import rpyc  # noqa: E402
from rpyc.utils.server import ThreadedServer  # noqa: E402
from rpyc.core.service import SlaveService  # noqa: E402

import authchain_proxy  # noqa: E402


def counting_authenticator(sock):
    print("connection", flush=True)
    try:
        sock, credentials = authchain_proxy.authenticator(sock)
    except authchain_proxy.ProxyHeaderError as e:
        print("refused:", e, flush=True)
        raise
    if credentials["key_fingerprint"] is None and credentials["cert_subject"] is not None:
        print("accepted cert", credentials["cert_subject"], credentials["cert_fingerprint"], flush=True)
    else:
        print("accepted", credentials["key_fingerprint"], flush=True)
    return sock, credentials


class WhoAmI(rpyc.Service):
    def on_connect(self, conn):
        self._conn = conn

    def exposed_whoami(self):
        return dict(self._conn._config["credentials"])

    def exposed_echo(self, data):
        return data


def main():
    mode, path = sys.argv[1], sys.argv[2]
    service = SlaveService if mode == "classic" else WhoAmI
    server = ThreadedServer(service, socket_path=path, authenticator=counting_authenticator,
                            protocol_config={"allow_public_attrs": True})
    os.chmod(path, 0o600)  # only the gate's user may connect (trust of path)
    print("ready", flush=True)
    server.start()


if __name__ == "__main__":
    main()
