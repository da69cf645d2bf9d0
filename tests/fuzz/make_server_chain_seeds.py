#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_server_chain (tests/fuzz/corpus/server_chain/).

Each seed is: scenario byte, flags byte, application length byte, then a
program of ops (tests/fuzz/server_chain_program.hpp). The seeds cover every
scenario and flag once honestly, then each op kind on each of the first
client writes at both levels, and a few hand-made inner messages that pass
the parsers (a C1 carrying the listed user key with a wrong signature, any_of
choices the client did not make, a psk C1 with a zero proof).

    tests/fuzz/make_server_chain_seeds.py [DIR]   (default: the corpus dir)
"""
import base64
import os
import struct
import sys

PASS, FLIP, TRUNCATE, REPLACE, INSERT, APPEND, DROP, DUPLICATE, HOLD = range(9)
WIRE, INNER = 0x00, 0x80
SCENARIOS = {0: "a_key", 1: "b_key", 2: "b_password", 3: "b_fallback", 4: "a_unlisted"}
# The public half of the target's fixed user key (fuzz_server_chain.cpp).
USER_BLOB = base64.b64decode("AAAAC3NzaC1lZDI1NTE5AAAAIN98q4SrUeXla0BrwFUq1RIS6d7IRVtwCho9dkL7OCH9")


def op(level, kind, *args):
    out = bytes([level | kind])
    if kind == FLIP:
        pos, bit = args
        out += struct.pack(">HB", pos, bit)
    elif kind == TRUNCATE:
        out += struct.pack(">H", args[0])
    elif kind in (REPLACE, INSERT, APPEND):
        out += struct.pack(">H", len(args[0])) + args[0]
    return out


def passes(level, n):
    return b"".join(op(level, PASS) for _ in range(n))


def string(b):
    return struct.pack(">I", len(b)) + b


def frame(body):
    return struct.pack(">I", len(body)) + body


def seed(scenario, flags=0, app=16, program=b""):
    return bytes([scenario, flags, app]) + program


def seeds():
    out = {}
    for s, name in SCENARIOS.items():
        out[f"honest_{name}"] = seed(s)
        for peer, peer_name in enumerate(["v4", "v6", "mapped", "refused"]):
            out[f"peer_{peer_name}_{name}"] = seed(s, peer)
        for suites in (1, 2, 3):
            out[f"suites{suites}_{name}"] = seed(s, suites << 2)
        out[f"one_byte_reads_{name}"] = seed(s, 0x30, 200)
        for level, level_name in ((WIRE, "wire"), (INNER, "inner")):
            for k in range(6):
                pre = passes(level, k)
                out[f"{level_name}{k}_flip_{name}"] = seed(s, 0, 16, pre + op(level, FLIP, 5 + k, k))
                out[f"{level_name}{k}_truncate_{name}"] = seed(s, 0, 16, pre + op(level, TRUNCATE, 3))
                out[f"{level_name}{k}_drop_{name}"] = seed(s, 0, 16, pre + op(level, DROP))
                out[f"{level_name}{k}_duplicate_{name}"] = seed(s, 0, 16, pre + op(level, DUPLICATE))
                out[f"{level_name}{k}_hold_{name}"] = seed(s, 0, 16, pre + op(level, HOLD))
                out[f"{level_name}{k}_replace_{name}"] = seed(s, 0, 16, pre + op(level, REPLACE, b"\0\0\0\x05hello"))
                out[f"{level_name}{k}_insert_{name}"] = seed(s, 0, 16, pre + op(level, INSERT, b"\x00\x00\x00\x01\x02"))
                out[f"{level_name}{k}_append_{name}"] = seed(s, 0, 16, pre + op(level, APPEND, b"\x41"))
    sig = string(b"ssh-ed25519") + string(bytes(64))
    c1 = frame(b"\x02" + string(USER_BLOB) + string(sig))
    out["inner_c1_listed_key_bad_signature"] = seed(0, 0, 16, op(INNER, REPLACE, c1))
    out["inner_c1_listed_key_bad_signature_b"] = seed(1, 0, 16, passes(INNER, 1) + op(INNER, REPLACE, c1))
    for method in (b"password", b"psk", b"", b"PUBLIC_KEY"):
        choice = frame(b"\x42" + bytes([len(method)]) + method)
        out[f"inner_a2_{method.decode() or 'none'}"] = seed(1, 0, 16, op(INNER, REPLACE, choice))
    psk_c1 = frame(b"\x02" + string(b"fuzz") + bytes(range(32)) + bytes(32))
    out["inner_psk_c1_zero_proof"] = seed(1, 0, 16, passes(INNER, 3) + op(INNER, REPLACE, psk_c1))
    out["inner_a4_denied"] = seed(1, 0, 16, passes(INNER, 2) + op(INNER, REPLACE, frame(b"\x44\x03")))
    return out


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    target = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "corpus", "server_chain")
    os.makedirs(target, exist_ok=True)
    for name, data in sorted(seeds().items()):
        with open(os.path.join(target, name), "wb") as f:
            f.write(data)
    print(f"{len(seeds())} seeds in {target}")


if __name__ == "__main__":
    main()
