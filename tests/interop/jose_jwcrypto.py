#!/usr/bin/env python3
"""The independent side of seam's JOSE interop test, with jwcrypto.

Reads one JSON job on stdin:
  {"keys":  {name: JWK},
   "check": [{"id", "kind": "jws"|"jwe", "key", "token", "alg"?}],
   "make":  [{"id", "kind": "jws", "alg", "key", "payload": hex, "compact": bool}
             | {"id", "kind": "jwe", "alg", "enc", "key", "plaintext": hex, "compact": bool}]}
and writes {"checked": {id: {"ok": bool, "payload": hex, "error": str}},
            "made": {id: token}} on stdout.
"""
import json
import sys

from jwcrypto import jwe, jwk, jws
from jwcrypto.common import json_encode

ALLOWED = ["ES256", "HS256", "dir", "A128KW", "A256KW", "ECDH-ES+A128KW",
           "A128GCM", "A256GCM"]


def check(item, keys):
    key = keys[item["key"]]
    try:
        if item["kind"] == "jws":
            obj = jws.JWS()
            obj.deserialize(item["token"])
            obj.verify(key, alg=item.get("alg"))
            payload = obj.payload
        else:
            obj = jwe.JWE()
            obj.allowed_algs = ALLOWED
            obj.deserialize(item["token"], key=key)
            payload = obj.payload
        return {"ok": True, "payload": payload.hex()}
    except Exception as e:  # the Rust side asserts on ok and reports the error
        return {"ok": False, "error": f"{type(e).__name__}: {e}"}


def make(item, keys):
    key = keys[item["key"]]
    if item["kind"] == "jws":
        obj = jws.JWS(bytes.fromhex(item["payload"]))
        obj.add_signature(key, None, json_encode({"alg": item["alg"]}))
        return obj.serialize(compact=item["compact"])
    obj = jwe.JWE(bytes.fromhex(item["plaintext"]),
                  protected=json_encode({"alg": item["alg"], "enc": item["enc"]}))
    obj.allowed_algs = ALLOWED
    obj.add_recipient(key)
    return obj.serialize(compact=item["compact"])


def main():
    job = json.load(sys.stdin)
    keys = {name: jwk.JWK(**k) for name, k in job["keys"].items()}
    out = {
        "checked": {c["id"]: check(c, keys) for c in job.get("check", [])},
        "made": {m["id"]: make(m, keys) for m in job.get("make", [])},
    }
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
