#!/usr/bin/env python3
"""Independent reference computations for seam's tests (Python's hmac and
hashlib only: nothing shared with the Rust code under test).

usage: kdf.py COMMAND ARGS...   (bytes are hex; labels are text)
  prf SECRET LABEL SEED LEN           TLS 1.2 PRF-SHA256 (RFC 5246 section 5)
  psk_premaster PSK                   RFC 4279 premaster secret
  hmac KEY DATA...                    HMAC-SHA-256 of the concatenated DATA
  hkdf SALT IKM INFO LEN              RFC 5869 HKDF-SHA-256 (INFO as text)
  sha256 DATA...                      SHA-256 of the concatenated DATA
  extract SALT IKM                    HKDF-Extract (RFC 5869; empty SALT = zeros)
  expand_label SECRET LABEL CTX LEN   TLS 1.3 HKDF-Expand-Label (RFC 8446 7.1)
  text TEXT                           the UTF-8 bytes of TEXT, as hex
"""
import hashlib
import hmac
import sys


def h(x):
    return bytes.fromhex(x)


def prf(secret, label, seed, n):
    seed = label + seed
    a = hmac.new(secret, seed, hashlib.sha256).digest()
    out = b""
    while len(out) < n:
        out += hmac.new(secret, a + seed, hashlib.sha256).digest()
        a = hmac.new(secret, a, hashlib.sha256).digest()
    return out[:n]


def hkdf(salt, ikm, info, n):
    prk = hmac.new(salt or b"\0" * 32, ikm, hashlib.sha256).digest()
    out, t, i = b"", b"", 1
    while len(out) < n:
        t = hmac.new(prk, t + info + bytes([i]), hashlib.sha256).digest()
        out += t
        i += 1
    return out[:n]


def main(argv):
    cmd, args = argv[0], argv[1:]
    if cmd == "prf":
        out = prf(h(args[0]), args[1].encode(), h(args[2]), int(args[3]))
    elif cmd == "psk_premaster":
        psk = h(args[0])
        n = len(psk).to_bytes(2, "big")
        out = n + b"\0" * len(psk) + n + psk
    elif cmd == "hmac":
        out = hmac.new(h(args[0]), b"".join(h(a) for a in args[1:]), hashlib.sha256).digest()
    elif cmd == "hkdf":
        out = hkdf(h(args[0]), h(args[1]), args[2].encode(), int(args[3]))
    elif cmd == "sha256":
        out = hashlib.sha256(b"".join(h(a) for a in args)).digest()
    elif cmd == "extract":
        out = hmac.new(h(args[0]) or b"\0" * 32, h(args[1]), hashlib.sha256).digest()
    elif cmd == "expand_label":
        secret, label, ctx, n = h(args[0]), b"tls13 " + args[1].encode(), h(args[2]), int(args[3])
        info = n.to_bytes(2, "big") + bytes([len(label)]) + label + bytes([len(ctx)]) + ctx
        out, t, i = b"", b"", 1
        while len(out) < n:
            t = hmac.new(secret, t + info + bytes([i]), hashlib.sha256).digest()
            out += t
            i += 1
        out = out[:n]
    elif cmd == "text":
        out = args[0].encode()
    else:
        raise SystemExit("unknown command " + cmd)
    print(out.hex())


if __name__ == "__main__":
    main(sys.argv[1:])
