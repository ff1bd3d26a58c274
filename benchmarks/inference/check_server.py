#!/usr/bin/env python3
"""Check a running `aivm` before load is put on it: it must answer the digits model's test
vectors (`models/digits/digits-test-vectors.bin`, the Rust tests' oracle) bit for bit.

- GET /health and GET /v1/models (printed);
- POST /v1/infer, one item (`"input"`): the first test sample's logits and class;
- POST /v1/infer, all 360 test samples as a JSON batch with `"merkle":true`: every item's
  logits and the batch Merkle root must be the vectors';
- POST /v1/infer/binary?model=digits&merkle=1, the same 360 samples as raw bytes: the raw
  little-endian i32 answer and the X-Aivm-Merkle-Root header must be the vectors'.

Standard library only. Exit status 1 on any difference.
Run: `python3 benchmarks/inference/check_server.py http://127.0.0.1:8710 [--model digits]`.
"""

import argparse
import json
import os
import struct
import sys
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
VECTORS = os.path.join(HERE, "..", "..", "models", "digits", "digits-test-vectors.bin")


def read_vectors(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"AIVT":
        raise ValueError(f"{path}: not a test-vector file")
    _version, _, count, in_len, out_len, correct = struct.unpack_from("<HHIIII", data, 4)
    pos = 4 + 20 + 32
    samples = []
    for _ in range(count):
        pixels = list(struct.unpack_from(f"<{in_len}b", data, pos))
        pos += in_len
        label = data[pos]
        pos += 1
        outputs = list(struct.unpack_from(f"<{out_len}i", data, pos))
        pos += 4 * out_len
        pos += 32  # the result hash
        samples.append((pixels, label, outputs))
    root = data[pos : pos + 32]
    return samples, in_len, out_len, correct, "0x" + root.hex()


def call(base, path, body=None, content_type=None):
    request = urllib.request.Request(base + path, data=body, method="POST" if body else "GET")
    if content_type:
        request.add_header("Content-Type", content_type)
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, dict(response.headers), response.read()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("base_url", help="e.g. http://127.0.0.1:8710")
    ap.add_argument("--model", default="digits")
    args = ap.parse_args()
    base = args.base_url.rstrip("/")
    samples, in_len, out_len, correct, root = read_vectors(VECTORS)
    failures = []

    def expect(what, ok):
        print(f"check: {what}: {'ok' if ok else 'FAILED'}")
        if not ok:
            failures.append(what)

    _, _, health = call(base, "/health")
    print(f"health: {health.decode()}")
    _, _, models = call(base, "/v1/models")
    print(f"models: {models.decode()}")

    pixels, label, outputs = samples[0]
    _, _, body = call(base, "/v1/infer",
                      json.dumps({"model": args.model, "input": pixels}).encode(),
                      "application/json")
    one = json.loads(body)
    expect(f"one item (label {label}): logits and class",
           one.get("output") == outputs and one.get("class") == outputs.index(max(outputs)))

    batch = {"model": args.model, "inputs": [s[0] for s in samples], "merkle": True}
    _, _, body = call(base, "/v1/infer", json.dumps(batch).encode(), "application/json")
    answer = json.loads(body)
    got = answer.get("outputs", [])
    same = sum(1 for g, s in zip(got, samples) if g == s[2])
    hits = sum(1 for c, s in zip(answer.get("classes", []), samples) if c == s[1])
    expect(f"JSON batch of {len(samples)}: {same}/{len(samples)} logits equal to the vectors' "
           f"(accuracy {hits}/{len(samples)}, vectors say {correct})",
           same == len(samples) and answer.get("count") == len(samples) and hits == correct)
    expect("JSON batch: Merkle root", answer.get("merkle_root") == root)

    raw = b"".join(struct.pack(f"<{in_len}b", *s[0]) for s in samples)
    _, headers, body = call(base, f"/v1/infer/binary?model={args.model}&merkle=1", raw,
                            "application/octet-stream")
    expected = b"".join(struct.pack(f"<{out_len}i", *s[2]) for s in samples)
    headers = {k.lower(): v for k, v in headers.items()}
    expect(f"binary batch of {len(samples)}: raw i32 answer ({len(body)} bytes)", body == expected)
    expect("binary batch: X-Aivm-Merkle-Root", headers.get("x-aivm-merkle-root") == root)

    if failures:
        print(f"check_server: {len(failures)} check(s) failed", file=sys.stderr)
        sys.exit(1)
    print("check_server: the server answers the test vectors bit for bit")


if __name__ == "__main__":
    main()
