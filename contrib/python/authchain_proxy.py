"""Read the identity `authchain gate` proved, from its PROXY protocol v2 header.

A backend behind `authchain gate` with `proxy_protocol = "v2"` receives,
before the client's first byte, a PROXY v2 header (docs/proxy_protocol.md)
carrying the client's address and the facts the gate's chain proved, in
TLVs 0xE0..0xEE. This module reads exactly that header from a connected
socket, no byte more, and returns what it says. It needs nothing but the
Python standard library.

RPyC (its authenticator= argument, `authenticator(sock) -> (sock, credentials)`):

    import rpyc
    from rpyc.utils.server import ThreadedServer
    import authchain_proxy

    class Service(rpyc.Service):
        def on_connect(self, conn):
            self._conn = conn

        def exposed_whoami(self):
            return self._conn._config["credentials"]["key_fingerprint"]

    ThreadedServer(Service, hostname="127.0.0.1", port=18861,
                   authenticator=authchain_proxy.authenticator).start()

Pyro4 (a daemon class that reads the header before Pyro's own handshake):

    import Pyro4, authchain_proxy

    class Daemon(authchain_proxy.Pyro4ProxyHeader, Pyro4.Daemon):
        pass

    # in an exposed method:
    Pyro4.current_context.client.authchain_credentials["user"]

The credentials are a dict with the keys
    peer             (address, port) of the client, as the gate saw it
                     (an IPv4 address as IPv4, even where the header maps it into IPv6)
    destination      (address, port) the client dialled
    key_fingerprint  "SHA256:..." of the key public_key verified, or None
    key_comment      comment of its authorized_keys line, or None
    user             user name a layer proved, or None
    cert_subject     subject of the client certificate, or None
    psk_id           identity of the pre-shared key, or None
    unique_id        hex of the connection's channel id, or None
Only what the chain proved is set; the rest is None.

TRUST: the header is only as trustworthy as the path it came on. Anyone who
can connect to the backend directly can write any header. Make the backend
reachable by the gate only: a unix socket in a directory only the gate's
user can enter, or a loopback port that a firewall closes to other local
users (docs/rpyc.md, docs/pyro.md). A connection without a header is
refused (ProxyHeaderError), so a client that bypasses the gate is not
mistaken for an anonymous one.
"""

import ipaddress
import logging
import socket
import struct

__all__ = ["authenticator", "read_proxy_header", "ProxyHeaderError", "Pyro4ProxyHeader",
           "SIGNATURE", "TLV_TYPES"]

log = logging.getLogger("authchain_proxy")

SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"
# relay/proxy_v2.hpp, docs/proxy_protocol.md
TLV_TYPES = {
    0x05: "unique_id",
    0xE0: "key_fingerprint",
    0xE1: "user",
    0xE2: "cert_subject",
    0xE3: "psk_id",
    0xE4: "key_comment",
    0xEA: "cert_fingerprint",     # TLS: SPKI pin "sha256//..." of the client certificate
    0xEB: "cert_serial",          # TLS: serial, upper-case hex
    0xEC: "ssh_cert_key_id",      # OpenSSH user certificate: key id
    0xED: "ssh_cert_serial",      # OpenSSH user certificate: serial, decimal
    0xEE: "ssh_ca_fingerprint",   # OpenSSH user certificate: CA key fingerprint
}
MAX_LENGTH = 4096          # the same bound as authchain's own parser
HEADER_TIMEOUT = 10.0      # seconds to wait for the whole header


def _base_error():
    # Denials must be rpyc's AuthenticationError for RPyC's server to treat
    # them as a refusal; without rpyc installed, a plain Exception.
    try:
        from rpyc.utils.authenticators import AuthenticationError
        return AuthenticationError
    except ImportError:
        return Exception


class ProxyHeaderError(_base_error()):
    """The connection did not start with a PROXY v2 header authchain sends."""


def _recv_exactly(sock, n, prefix=b""):
    # Reads n bytes, never more; refuses as soon as they stop matching `prefix`.
    data = bytearray()
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ProxyHeaderError("connection closed inside the PROXY header (%d of %d bytes)" % (len(data), n))
        data += chunk
        if prefix and data[:len(prefix)] != prefix[:len(data)]:
            raise ProxyHeaderError("no PROXY v2 header: the connection did not come through the gate")
    return bytes(data)


def _text(address):
    # authchain writes an IPv4 address v4-mapped when the other one is IPv6.
    mapped = getattr(address, "ipv4_mapped", None)
    return str(mapped if mapped is not None else address)


def parse_body(family, body):
    """The addresses and TLVs of a header's body (after the 16 fixed bytes)."""
    if family == 0x11:
        if len(body) < 12:
            raise ProxyHeaderError("IPv4 address block overruns the header")
        src, dst = ipaddress.IPv4Address(body[0:4]), ipaddress.IPv4Address(body[4:8])
        sport, dport = struct.unpack("!HH", body[8:12])
        rest = body[12:]
    elif family == 0x21:
        if len(body) < 36:
            raise ProxyHeaderError("IPv6 address block overruns the header")
        src, dst = ipaddress.IPv6Address(body[0:16]), ipaddress.IPv6Address(body[16:32])
        sport, dport = struct.unpack("!HH", body[32:36])
        rest = body[36:]
    else:
        raise ProxyHeaderError("unsupported address family 0x%02x (authchain sends TCP over IPv4 or IPv6)" % family)
    credentials = {"peer": (_text(src), sport), "destination": (_text(dst), dport)}
    for name in TLV_TYPES.values():
        credentials[name] = None
    i = 0
    while i < len(rest):
        if i + 3 > len(rest):
            raise ProxyHeaderError("TLV header overruns the header")
        kind, length = rest[i], struct.unpack("!H", rest[i + 1:i + 3])[0]
        value = rest[i + 3:i + 3 + length]
        if len(value) != length:
            raise ProxyHeaderError("TLV 0x%02x overruns the header" % kind)
        name = TLV_TYPES.get(kind)
        if name is not None:
            if credentials[name] is not None:
                raise ProxyHeaderError("TLV 0x%02x appears twice" % kind)
            credentials[name] = value.decode("utf-8")
        i += 3 + length
    return credentials


def read_proxy_header(sock, timeout=HEADER_TIMEOUT):
    """Reads the PROXY v2 header from `sock`, exactly, and returns the credentials dict.

    Raises ProxyHeaderError when the connection does not start with one
    (a direct connection that bypassed the gate), when it is malformed, or
    when it does not arrive within `timeout` seconds.
    """
    previous = sock.gettimeout()
    sock.settimeout(timeout)
    try:
        fixed = _recv_exactly(sock, 16, prefix=SIGNATURE)
        if fixed[12] != 0x21:
            raise ProxyHeaderError("not a PROXY v2 PROXY command (0x%02x)" % fixed[12])
        length = struct.unpack("!H", fixed[14:16])[0]
        if length > MAX_LENGTH:
            raise ProxyHeaderError("PROXY header length %d above %d" % (length, MAX_LENGTH))
        return parse_body(fixed[13], _recv_exactly(sock, length))
    except socket.timeout:
        raise ProxyHeaderError("no complete PROXY header within %.1f s" % timeout) from None
    except (ValueError, UnicodeDecodeError) as e:
        raise ProxyHeaderError("malformed PROXY header: %s" % e) from None
    finally:
        try:
            sock.settimeout(previous)
        except OSError:
            pass


def authenticator(sock):
    """RPyC's authenticator protocol: returns (sock, credentials) or raises ProxyHeaderError."""
    try:
        credentials = read_proxy_header(sock)
    except ProxyHeaderError as e:
        log.warning("refused %s: %s", _peer_name(sock), e)
        raise
    except OSError as e:
        log.warning("refused %s: %s", _peer_name(sock), e)
        raise ProxyHeaderError(str(e)) from None
    return sock, credentials


def _peer_name(sock):
    try:
        return sock.getpeername()
    except OSError:
        return "?"


class Pyro4ProxyHeader:
    """Mix in before Pyro4.Daemon: reads the header before Pyro's handshake.

    The credentials land on the connection object, which Pyro hands an
    exposed method as Pyro4.current_context.client:
    Pyro4.current_context.client.authchain_credentials. A connection
    without a valid header is closed before Pyro reads a byte of it.
    """

    def _handshake(self, conn, denied_reason=None):
        if denied_reason is None:
            try:
                _, conn.authchain_credentials = authenticator(conn.sock)
            except ProxyHeaderError:
                return False
        return super()._handshake(conn, denied_reason)
