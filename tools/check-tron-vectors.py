#!/usr/bin/env python3
"""Re-checks tests/vectors/tron.json (made by tronweb, tools/gen-tron-vectors.mjs) with tronpy.

For every vector, tronpy independently
  * re-encodes the JSON raw_data into protobuf (tronpy.proto.transaction) and compares the bytes with
    rawDataHex, and the txid (calculate_txid_from_raw_data) with txid;
  * derives the owner's address from the private key;
  * signs the txid (coincurve, RFC 6979) and compares r, s and the recovery id with the signature
    (tronpy gives v = 0/1, tronweb 27/28).

Run by the test command (tools/test-all.sh) with .venv/bin/python. Exits non-zero on any mismatch.
"""

import json
import pathlib
import sys

from tronpy.keys import PrivateKey
from tronpy.proto import transaction as tpb

VECTORS = pathlib.Path(__file__).resolve().parent.parent / "tests" / "vectors" / "tron.json"


def check(v: dict) -> list[str]:
    errors = []
    raw = tpb._raw_data_to_protobuf(v["rawData"])  # the helper calculate_txid_from_raw_data uses
    raw_hex = raw.SerializeToString().hex()
    if raw_hex != v["rawDataHex"]:
        errors.append(f"raw_data bytes differ:\n  tronpy  {raw_hex}\n  vector  {v['rawDataHex']}")
    txid = tpb.calculate_txid_from_raw_data(v["rawData"])
    if txid != v["txid"]:
        errors.append(f"txid differs: tronpy {txid}, vector {v['txid']}")
    key = PrivateKey(bytes.fromhex(v["privateKey"]))
    owner = key.public_key.to_base58check_address()
    if owner != v["owner"]:
        errors.append(f"owner differs: tronpy {owner}, vector {v['owner']}")
    sig = key.sign_msg_hash(bytes.fromhex(v["txid"])).hex()
    want = v["signature"].lower()
    v_tronpy, v_vector = int(sig[128:], 16), int(want[128:], 16)
    if sig[:128] != want[:128] or v_tronpy + 27 != v_vector:
        errors.append(f"signature differs:\n  tronpy  {sig} (v+27)\n  vector  {want}")
    return errors


def main() -> int:
    doc = json.loads(VECTORS.read_text())
    vectors = doc["vectors"]
    if not vectors:
        print("tron.json has no vectors", file=sys.stderr)
        return 1
    failed = 0
    for v in vectors:
        errors = check(v)
        if errors:
            failed += 1
            print(f"FAIL {v['name']}:", *errors, sep="\n  ", file=sys.stderr)
        else:
            print(f"ok   {v['name']}: raw_data, txid {v['txid'][:16]}…, signature")
    print(f"tronpy: {len(vectors) - failed}/{len(vectors)} vectors agree with tronweb")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
