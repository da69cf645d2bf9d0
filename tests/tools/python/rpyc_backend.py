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
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "contrib", "python"))

import rpyc  # noqa: E402
from rpyc.utils.server import ThreadedServer  # noqa: E402
from rpyc.core.service import SlaveService  # noqa: E402

import authchain_proxy  # noqa: E402


_say_lock = threading.Lock()


def say(*parts):
    """One whole line: connections are authenticated on threads of their own,
    and print() writes its parts one by one, so two lines could interleave."""
    line = " ".join(str(p) for p in parts) + "\n"
    with _say_lock:
        sys.stdout.write(line)
        sys.stdout.flush()


def counting_authenticator(sock):
    say("connection")
    try:
        sock, credentials = authchain_proxy.authenticator(sock)
    except authchain_proxy.ProxyHeaderError as e:
        say("refused:", e)
        raise
    if credentials["key_fingerprint"] is None and credentials["cert_subject"] is not None:
        say("accepted cert", credentials["cert_subject"], credentials["cert_fingerprint"])
    else:
        say("accepted", credentials["key_fingerprint"])
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
    say("ready")
    server.start()


if __name__ == "__main__":
    main()
