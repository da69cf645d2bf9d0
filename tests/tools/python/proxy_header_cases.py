"""The contrib module's PROXY v2 reader against headers authchain wrote and
against malformed ones, over real socket pairs.

    proxy_header_cases.py HEADER_FILE     HEADER_FILE: bytes authchain's encoder wrote, then "REST"

Prints "parsed JSON" (the credentials) and "rest REST" (the module must not
read past the header), then "ok malformed N" when every malformed header
is refused with ProxyHeaderError. Exit 0 only if all held.
"""
import json
import os
import socket
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "contrib", "python"))

import authchain_proxy  # noqa: E402

SIG = authchain_proxy.SIGNATURE


def through_socket(data, timeout=2.0):
    a, b = socket.socketpair()
    try:
        a.sendall(data)
        a.shutdown(socket.SHUT_WR)
        credentials = authchain_proxy.read_proxy_header(b, timeout=timeout)
        b.settimeout(2.0)
        rest = b""
        while True:
            chunk = b.recv(4096)
            if not chunk:
                break
            rest += chunk
        return credentials, rest
    finally:
        a.close()
        b.close()


def tlv(kind, value):
    return bytes([kind]) + struct.pack("!H", len(value)) + value


def header(body, ver_cmd=0x21, family=0x11, length=None):
    return SIG + bytes([ver_cmd, family]) + struct.pack("!H", len(body) if length is None else length) + body


V4 = bytes([10, 0, 0, 1, 10, 0, 0, 2]) + struct.pack("!HH", 1234, 7000)
MALFORMED = {
    "no header at all": b"GET / HTTP/1.0\r\n\r\n",
    "truncated signature": SIG[:7],
    "version 1 text header": b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n",
    "LOCAL command": header(b"", ver_cmd=0x20, family=0x00),
    "version 3": header(V4, ver_cmd=0x31),
    "AF_UNIX": header(bytes(216), family=0x31),
    "UDP over IPv4": header(V4, family=0x12),
    "address block short": header(V4[:8]),
    "length beyond the bound": header(V4, length=5000),
    "length beyond the data": header(V4, length=len(V4) + 10),
    "TLV overruns": header(V4 + bytes([0xE0]) + struct.pack("!H", 50) + b"short"),
    "TLV header cut": header(V4 + bytes([0xE0, 0x00])),
    "TLV twice": header(V4 + tlv(0xE1, b"alice") + tlv(0xE1, b"root")),
    "TLV not UTF-8": header(V4 + tlv(0xE1, b"\xff\xfe")),
}


def main():
    data = open(sys.argv[1], "rb").read()
    credentials, rest = through_socket(data)
    print("parsed", json.dumps(credentials))
    print("rest", rest.decode())
    failed = []
    for name, bad in MALFORMED.items():
        try:
            through_socket(bad, timeout=1.0)
            failed.append(name + ": accepted")
        except authchain_proxy.ProxyHeaderError:
            pass
        except Exception as e:  # anything else is a bug in the module
            failed.append("%s: %r" % (name, e))
    if failed:
        print("malformed headers not refused:", failed)
        sys.exit(1)
    print("ok malformed", len(MALFORMED))


if __name__ == "__main__":
    main()
