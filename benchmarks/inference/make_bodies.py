#!/usr/bin/env python3
"""Request bodies for the wrk scripts, made of real digits (scikit-learn's 8x8 digits set,
pixel values 0..=16 unchanged, as the served model takes them).

Writes into OUT_DIR:
- `single.jsonl`: one `{"model":"digits","input":[64 ints]}` body per line, all 1797 digits
  (`infer_single.lua` sends them in turn);
- `batch-<N>.json`: `{"model":"digits","inputs":[[64 ints] x N]}` (`infer_batch_json.lua`);
- `batch-<M>.bin`: M x 64 raw bytes, one byte per pixel (`infer_binary.lua`).
The batches take the digits in order and wrap around when N or M exceeds 1797.

Run: `python3 benchmarks/inference/make_bodies.py OUT_DIR [--json-batch 1024]
[--binary-batch 4096] [--model digits]`.
"""

import argparse
import json
import os

import numpy as np
from sklearn.datasets import load_digits


def rows(pixels, count):
    reps = -(-count // len(pixels))
    return np.tile(pixels, (reps, 1))[:count]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out_dir")
    ap.add_argument("--json-batch", type=int, default=1024)
    ap.add_argument("--binary-batch", type=int, default=4096)
    ap.add_argument("--model", default="digits")
    args = ap.parse_args()

    pixels = load_digits().data.astype(np.int64)
    assert pixels.shape[1] == 64 and pixels.min() >= 0 and pixels.max() <= 16
    os.makedirs(args.out_dir, exist_ok=True)
    compact = {"separators": (",", ":")}

    with open(os.path.join(args.out_dir, "single.jsonl"), "w") as f:
        for row in pixels:
            f.write(json.dumps({"model": args.model, "input": row.tolist()}, **compact) + "\n")

    batch = rows(pixels, args.json_batch)
    with open(os.path.join(args.out_dir, f"batch-{args.json_batch}.json"), "w") as f:
        f.write(json.dumps({"model": args.model, "inputs": batch.tolist()}, **compact))

    raw = rows(pixels, args.binary_batch).astype(np.int8).tobytes()
    with open(os.path.join(args.out_dir, f"batch-{args.binary_batch}.bin"), "wb") as f:
        f.write(raw)

    for name in sorted(os.listdir(args.out_dir)):
        print(f"{name}: {os.path.getsize(os.path.join(args.out_dir, name))} bytes")


if __name__ == "__main__":
    main()
