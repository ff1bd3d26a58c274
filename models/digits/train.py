#!/usr/bin/env python3
"""Train, quantise and export the DSYNC digits model (`.aivm` v1).

A 64-128-64-10 ReLU MLP trained in float on scikit-learn's bundled 8x8 digits set, then
quantised after training to the integer-only scheme of the `.aivm` v1 format (the format and
its arithmetic are specified in `primitives/aivm-core/src/lib.rs`):

- inputs are the raw pixel values 0..=16 as i8 (no rescaling: exact, zero point 0);
- weights are int8, symmetric (no zero point): per output neuron for the hidden layers, one
  scale for the whole last layer (so the int32 logits of all classes share one scale);
- biases are int32 in the accumulator's scale, with the next layer's input zero point folded in;
- hidden layers requantise to int8 with a per-neuron fixed-point multiplier and right shift
  (round half up), output zero point -128 and ReLU;
- the last layer emits raw int32 logits (accumulator + bias), no requantisation.

The integer forward pass below (`forward_int`) is the reference the Rust executor in
`dsync-aivm-core` reproduces bit for bit; the test vectors it writes are the Rust tests' oracle.

Outputs, next to this script:
- `digits-64-128-64-10.aivm`: the model;
- `digits-test-vectors.bin`: every test-split sample with its expected outputs and hashes;
- `MODEL.md`: data set, split, accuracies, size, hash, input quantisation.

Run: `python3 models/digits/train.py` (writes the three files) or
`python3 models/digits/train.py --check` (rebuilds in memory, compares with the files on disk,
exit status 1 on any difference, writes nothing).
"""

import os

# One BLAS thread: a fixed order of float reductions, so the float training run (and therefore
# the quantised file) repeats exactly with the pinned package versions. Set before numpy loads.
os.environ["OPENBLAS_NUM_THREADS"] = "1"
os.environ["OMP_NUM_THREADS"] = "1"
os.environ["MKL_NUM_THREADS"] = "1"

import argparse  # noqa: E402
import hashlib  # noqa: E402
import math  # noqa: E402
import struct  # noqa: E402
import sys  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
import sklearn  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
MODEL_NAME = "digits-64-128-64-10.aivm"
VECTORS_NAME = "digits-test-vectors.bin"
DOC_NAME = "MODEL.md"

SEED = 0
TEST_SIZE = 0.2
HIDDEN = (128, 64)
ALPHA = 1e-2  # L2 penalty: small weights quantise well
BATCH = 64
MAX_ITER = 300

# Format constants (must match dsync-aivm-core).
MAGIC = b"AIVM"
VERSION = 1
KIND_DENSE = 1
ACT_NONE, ACT_RELU = 0, 1
OUT_INT8, OUT_INT32 = 0, 1
MAX_LAYERS = 16
MAX_WIDTH = 4096
MAX_WEIGHTS = 1 << 22
BIAS_LIMIT = 1 << 30
HIDDEN_ZERO_POINT = -128

VECTORS_MAGIC = b"AIVT"
VECTORS_VERSION = 1


def blake2_256(data: bytes) -> bytes:
    """Substrate's `blake2_256`: unkeyed BLAKE2b with a 32-byte digest."""
    return hashlib.blake2b(data, digest_size=32).digest()


# --------------------------------------------------------------------------------------------
# Integer arithmetic of the format (the reference for the Rust executor)
# --------------------------------------------------------------------------------------------


def requantize(acc, multiplier, shift, zero_point, relu):
    """int32 accumulators -> int8, exactly as `dsync_aivm_core::requantize`.

    `acc`: int64 array [..., out]; `multiplier` (0..2^31-1) and `shift` (1..62): per output.
    r = floor((acc * multiplier + 2^(shift-1)) / 2^shift)   (round half up)
    v = r + zero_point; with ReLU v = max(v, zero_point); result = clamp(v, -128, 127).
    """
    acc = acc.astype(np.int64)
    m = multiplier.astype(np.int64)
    s = shift.astype(np.int64)
    prod = acc * m  # |acc| < 2^31, m < 2^31: |prod| < 2^62, no int64 overflow
    r = np.right_shift(prod + np.left_shift(np.int64(1), s - 1), s)  # arithmetic shift = floor
    v = r + np.int64(zero_point)
    if relu:
        v = np.maximum(v, np.int64(zero_point))
    return np.clip(v, -128, 127).astype(np.int8)


def forward_int(layers, x):
    """The integer forward pass. `x`: int8 [batch, input_len]. Returns int32 [batch, outputs]."""
    h = x.astype(np.int64)
    for i, layer in enumerate(layers):
        w = layer["weights"].astype(np.int64)  # [out, in]
        acc = h @ w.T + layer["bias"].astype(np.int64)[None, :]
        assert np.all(np.abs(acc) < 2**31), "accumulator left int32"
        last = i == len(layers) - 1
        if last:
            if layer["activation"] == ACT_RELU:
                acc = np.maximum(acc, 0)
            return acc.astype(np.int32)
        h = requantize(
            acc,
            layer["multiplier"],
            layer["shift"],
            layer["zero_point"],
            layer["activation"] == ACT_RELU,
        ).astype(np.int64)
    raise AssertionError("no layers")


def result_hash(outputs) -> bytes:
    """`result_hash`: blake2_256 of the outputs as little-endian int32."""
    return blake2_256(np.asarray(outputs, dtype="<i4").tobytes())


def merkle_root(leaves):
    """`batch_merkle_root`: node = blake2_256(0x01 ++ left ++ right); an odd last node is
    promoted unchanged to the next level; one leaf is its own root; no leaves: 32 zero bytes."""
    if not leaves:
        return bytes(32)
    level = list(leaves)
    while len(level) > 1:
        nxt = [blake2_256(b"\x01" + level[j] + level[j + 1]) for j in range(0, len(level) - 1, 2)]
        if len(level) % 2 == 1:
            nxt.append(level[-1])
        level = nxt
    return level[0]


# --------------------------------------------------------------------------------------------
# Quantisation
# --------------------------------------------------------------------------------------------


def fixed_point(real_multiplier: float):
    """Real multiplier M > 0 -> (m, shift) with M ~= m / 2^shift, 2^30 <= m < 2^31."""
    assert real_multiplier > 0.0
    frac, exp = math.frexp(real_multiplier)  # M = frac * 2^exp, 0.5 <= frac < 1
    m = int(round(frac * (1 << 31)))
    if m == 1 << 31:
        m //= 2
        exp += 1
    shift = 31 - exp
    assert 1 <= shift <= 62, f"multiplier {real_multiplier} out of range"
    assert 0 < m < 1 << 31
    return m, shift


def quantize_weights(w, per_row):
    """Symmetric int8 weights in [-127, 127]. Returns (q, scale per output row)."""
    if per_row:
        amax = np.max(np.abs(w), axis=1)
    else:
        amax = np.full(w.shape[0], np.max(np.abs(w)))
    # Floor: rows 2^12 times smaller than the layer's largest weight (units that training left
    # dead, ~1e-76) get a finite scale, so their bias stays in range; they quantise to zeros.
    floor = max(float(np.max(np.abs(w))), 1e-30) / 127.0 / 4096.0
    scale = np.maximum(amax / 127.0, floor)
    q = np.clip(np.round(w / scale[:, None]), -127, 127).astype(np.int8)
    return q, scale


def quantize(clf, x_calib_int):
    """Post-training quantisation of the float MLP, calibrated on the training inputs.

    Works layer by layer on the integer pipeline itself: the output scale of hidden layer k is
    chosen from what the already-quantised layers 0..k produce on the calibration set, so each
    scale sees the real (quantised) inputs it will get.
    """
    weights = [w.T.astype(np.float64) for w in clf.coefs_]  # sklearn stores [in, out]
    biases = [b.astype(np.float64) for b in clf.intercepts_]
    in_scale = 1.0 / 16.0  # the float model saw pixel / 16; the int8 input is the pixel
    in_zero_point = 0
    layers = []
    h = x_calib_int.astype(np.int64)
    for i, (w, b) in enumerate(zip(weights, biases)):
        last = i == len(weights) - 1
        wq, wscale = quantize_weights(w, per_row=not last)
        acc_scale = in_scale * wscale  # real value of one accumulator unit, per output
        # bias in accumulator units, minus the input zero point times the row sums:
        # sum_i w[j,i] * (q_i - zp) = sum_i w[j,i] * q_i - zp * sum_i w[j,i]
        bq = np.round(b / acc_scale).astype(np.int64)
        bq -= in_zero_point * wq.astype(np.int64).sum(axis=1)
        assert np.all(np.abs(bq) <= BIAS_LIMIT)
        layer = {
            "in": w.shape[1],
            "out": w.shape[0],
            "activation": ACT_NONE if last else ACT_RELU,
            "output": OUT_INT32 if last else OUT_INT8,
            "zero_point": 0 if last else HIDDEN_ZERO_POINT,
            "weights": wq,
            "bias": bq.astype(np.int32),
            "weight_scale": wscale,
            "in_scale": in_scale,
        }
        acc = h @ wq.astype(np.int64).T + bq[None, :]
        if not last:
            real = np.maximum(acc * acc_scale[None, :], 0.0)
            out_scale = float(real.max()) / 255.0  # ReLU output [0, max] onto [-128, 127]
            mults, shifts = zip(*(fixed_point(s / out_scale) for s in acc_scale))
            layer["multiplier"] = np.array(mults, dtype=np.int64)
            layer["shift"] = np.array(shifts, dtype=np.int64)
            layer["out_scale"] = out_scale
            h = requantize(acc, layer["multiplier"], layer["shift"], HIDDEN_ZERO_POINT, True)
            h = h.astype(np.int64)
            in_scale, in_zero_point = out_scale, HIDDEN_ZERO_POINT
        layers.append(layer)
    return layers


# --------------------------------------------------------------------------------------------
# The `.aivm` v1 file
# --------------------------------------------------------------------------------------------


def write_aivm(layers) -> bytes:
    out = bytearray()
    out += MAGIC
    out += struct.pack("<HHII", VERSION, len(layers), layers[0]["in"], layers[-1]["out"])
    for layer in layers:
        out += struct.pack(
            "<BBBbII",
            KIND_DENSE,
            layer["activation"],
            layer["output"],
            layer["zero_point"],
            layer["in"],
            layer["out"],
        )
        out += layer["weights"].astype(np.int8).tobytes()  # row-major [out][in]
        out += layer["bias"].astype("<i4").tobytes()
        if layer["output"] == OUT_INT8:
            out += layer["multiplier"].astype("<i4").tobytes()
            out += layer["shift"].astype(np.uint8).tobytes()
    return bytes(out)


def read_aivm(data: bytes):
    """Parse a `.aivm` v1 file with the same checks as the Rust parser (used to run the test
    vectors from the bytes actually written, not from the in-memory model)."""
    pos = 0

    def take(n):
        nonlocal pos
        if pos + n > len(data):
            raise ValueError("truncated")
        chunk = data[pos : pos + n]
        pos += n
        return chunk

    if take(4) != MAGIC:
        raise ValueError("bad magic")
    version, count, input_len, output_len = struct.unpack("<HHII", take(12))
    if version != VERSION:
        raise ValueError("version")
    if not 1 <= count <= MAX_LAYERS:
        raise ValueError("layer count")
    layers = []
    prev = input_len
    total = 0
    for i in range(count):
        kind, act, output, zp, n_in, n_out = struct.unpack("<BBBbII", take(12))
        last = i == count - 1
        if kind != KIND_DENSE or act not in (ACT_NONE, ACT_RELU):
            raise ValueError("kind/activation")
        if output != (OUT_INT32 if last else OUT_INT8) or (last and zp != 0):
            raise ValueError("output kind / zero point")
        if not (1 <= n_in <= MAX_WIDTH and 1 <= n_out <= MAX_WIDTH) or n_in != prev:
            raise ValueError("shape")
        total += n_in * n_out
        if total > MAX_WEIGHTS:
            raise ValueError("too many weights")
        layer = {"in": n_in, "out": n_out, "activation": act, "output": output, "zero_point": zp}
        layer["weights"] = np.frombuffer(take(n_in * n_out), dtype=np.int8).reshape(n_out, n_in)
        layer["bias"] = np.frombuffer(take(4 * n_out), dtype="<i4").astype(np.int64)
        if np.any(np.abs(layer["bias"]) > BIAS_LIMIT):
            raise ValueError("bias")
        if output == OUT_INT8:
            layer["multiplier"] = np.frombuffer(take(4 * n_out), dtype="<i4").astype(np.int64)
            layer["shift"] = np.frombuffer(take(n_out), dtype=np.uint8).astype(np.int64)
            bad_shift = (layer["shift"] < 1) | (layer["shift"] > 62)
            if np.any(layer["multiplier"] < 0) or np.any(bad_shift):
                raise ValueError("requantisation")
        layers.append(layer)
        prev = n_out
    if prev != output_len:
        raise ValueError("output length")
    if pos != len(data):
        raise ValueError("trailing bytes")
    return layers


def write_vectors(model_hash, x, labels, outputs, correct) -> bytes:
    """Test vectors, little-endian:
    magic "AIVT", version u16 = 1, reserved u16 = 0, count u32, input_len u32, output_len u32,
    correct u32 (samples whose argmax equals the label), model hash [32];
    count records of: input [input_len] i8, label u8, outputs [output_len] i32, result hash [32];
    then the batch Merkle root [32] of the count result hashes."""
    count, input_len = x.shape
    output_len = outputs.shape[1]
    out = bytearray()
    out += VECTORS_MAGIC
    out += struct.pack("<HHIIII", VECTORS_VERSION, 0, count, input_len, output_len, correct)
    out += model_hash
    hashes = []
    for xi, yi, oi in zip(x, labels, outputs):
        h = result_hash(oi)
        hashes.append(h)
        out += xi.astype(np.int8).tobytes()
        out += struct.pack("<B", int(yi))
        out += oi.astype("<i4").tobytes()
        out += h
    out += merkle_root(hashes)
    return bytes(out)


# --------------------------------------------------------------------------------------------


def render_doc(r) -> str:
    layer_rows = "\n".join(
        f"| {i} | {l['in']} → {l['out']} | {'ReLU' if l['activation'] == ACT_RELU else 'none'} "
        f"| {'int8, zero point -128' if l['output'] == OUT_INT8 else 'int32 logits'} "
        f"| {'per neuron' if l['output'] == OUT_INT8 else 'one for the layer'} |"
        for i, l in enumerate(r["layers"])
    )
    return f"""# digits-64-128-64-10

A 64-128-64-10 ReLU multilayer perceptron that reads an 8×8 hand-written digit and scores the
classes 0–9: the first real model of the DSYNC inference network. Generated by
[`train.py`](train.py), which is the source of truth; this file, the model and the test vectors
are its output (do not edit by hand).

| | |
| --- | --- |
| file | `{MODEL_NAME}` |
| format | `.aivm` v1 (specified in `primitives/aivm-core/src/lib.rs`) |
| size | {r['size']} bytes |
| model id (blake2-256 of the file) | `0x{r['hash'].hex()}` |
| input | 64 × i8: the pixels row by row, each 0..=16 |
| output | 10 × i32: one logit per digit 0–9, argmax (lowest index on ties) is the prediction |
| float accuracy, test split | {r['float_test_acc']:.2%} ({r['float_test_correct']}/{r['n_test']}) |
| int8 accuracy, test split (the integer pipeline, bit-exact with the Rust executor) | **{r['int_test_acc']:.2%} ({r['int_test_correct']}/{r['n_test']})** |
| float / int8 accuracy, training split | {r['float_train_acc']:.2%} / {r['int_train_acc']:.2%} |
| float and int8 predictions that agree, test split | {r['agree']}/{r['n_test']} |
| test vectors | `{VECTORS_NAME}` ({r['vectors_size']} bytes, all {r['n_test']} test samples) |
| Merkle root of the test split's result hashes | `0x{r['root'].hex()}` |

## Data set

scikit-learn's bundled digits set (`sklearn.datasets.load_digits`, scikit-learn {sklearn.__version__}):
{r['n_total']} images of 8×8 pixels, 17 grey levels per pixel (values 0..=16), 10 classes: the
test part of the UCI "Optical Recognition of Handwritten Digits" data.

Split: `train_test_split(test_size={TEST_SIZE}, stratify=labels, random_state={SEED})` →
{r['n_train']} training and {r['n_test']} test images. The test split is used only to measure
accuracy; quantisation is calibrated on the training split.

## Training

`MLPClassifier(hidden_layer_sizes={HIDDEN}, activation="relu", solver="adam",
alpha={ALPHA}, batch_size={BATCH}, max_iter={MAX_ITER}, random_state={SEED})` on pixel / 16
(inputs in [0, 1]); stopped after {r['n_iter']} epochs (scikit-learn's default tolerance).
One BLAS thread, so the float reductions repeat in the same order.

## Quantisation (post-training, integer only at inference)

| layer | shape | activation | output | weight scale |
| --- | --- | --- | --- | --- |
{layer_rows}

- **Input**: the pixel value itself, 0..=16, as i8 (zero point 0, real value pixel / 16). Exact:
  no information is lost, and a client sends the data set's numbers unchanged.
- **Weights**: int8 in [-127, 127], symmetric, `round(w / scale)` with `scale = max|w| / 127`,
  one scale per output neuron in the hidden layers and one for the whole last layer (so the ten
  logits share one scale and their argmax is the float model's, up to rounding). A scale never
  goes below the layer's largest weight / 127 / 4096: units that training left dead (weights
  ~1e-76 after L2 decay) quantise to zero rows and their bias stays in range.
- **Biases**: int32 in accumulator units, `round(b / (input scale × weight scale))`, minus the
  layer's input zero point times the row sum of its weights (the zero point is folded in, so the
  executor never subtracts one).
- **Hidden outputs**: ReLU, then int8 with zero point -128 (0..max onto -128..127). The scale is
  the largest ReLU output on the training split divided by 255, measured on the integer pipeline
  layer by layer. Each neuron's real multiplier (input scale × weight scale / output scale) is a
  fixed-point pair `(m, shift)`, 2^30 ≤ m < 2^31, applied as
  `floor((acc × m + 2^(shift−1)) / 2^shift)` (round half up), plus -128, floored at -128 (ReLU),
  clamped to [-128, 127].
- **Logits**: the last layer's int32 accumulators plus bias, not requantised.

## Test vectors

`{VECTORS_NAME}`, the oracle of the Rust tests (`primitives/aivm-core/src/tests.rs`), is
little-endian: magic `AIVT`, version u16 = 1, reserved u16 = 0, count u32, input length u32,
output length u32, correct predictions u32, the model's blake2-256 [32]; then per test sample:
input [64] i8, label u8, outputs [10] i32, result hash [32]; then the batch Merkle root [32] of
the result hashes in order.

## Reproduce

```sh
pip install -r models/digits/requirements.txt
python3 models/digits/train.py          # rewrites the model, the vectors and this file
python3 models/digits/train.py --check  # rebuilds in memory and compares with the files
```

With the pinned versions the run is expected to reproduce the same bytes and hash; a different
numpy/BLAS build can change the float training by rounding, and with it the file. The committed
file is the model of record: its hash above is its id.
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="compare with the files, write nothing")
    args = ap.parse_args()

    digits = load_digits()
    x_all = digits.data.astype(np.int64)  # 0..=16
    y_all = digits.target.astype(np.int64)
    assert x_all.min() >= 0 and x_all.max() <= 16
    x_train, x_test, y_train, y_test = train_test_split(
        x_all, y_all, test_size=TEST_SIZE, stratify=y_all, random_state=SEED
    )

    clf = MLPClassifier(
        hidden_layer_sizes=HIDDEN,
        activation="relu",
        solver="adam",
        alpha=ALPHA,
        batch_size=BATCH,
        max_iter=MAX_ITER,
        random_state=SEED,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(x_train / 16.0, y_train)
    float_test_pred = clf.predict(x_test / 16.0)
    float_train_pred = clf.predict(x_train / 16.0)

    layers = quantize(clf, x_train)
    model = write_aivm(layers)
    model_hash = blake2_256(model)
    parsed = read_aivm(model)  # run everything below from the bytes written

    int_train_pred = np.argmax(forward_int(parsed, x_train.astype(np.int8)), axis=1)
    test_out = forward_int(parsed, x_test.astype(np.int8))
    int_test_pred = np.argmax(test_out, axis=1)  # first maximum on ties, as the Rust argmax
    int_test_correct = int(np.sum(int_test_pred == y_test))
    vectors = write_vectors(model_hash, x_test, y_test, test_out, int_test_correct)

    r = {
        "layers": layers,
        "size": len(model),
        "hash": model_hash,
        "n_total": len(x_all),
        "n_train": len(x_train),
        "n_test": len(x_test),
        "n_iter": clf.n_iter_,
        "float_test_correct": int(np.sum(float_test_pred == y_test)),
        "float_test_acc": float(np.mean(float_test_pred == y_test)),
        "float_train_acc": float(np.mean(float_train_pred == y_train)),
        "int_test_correct": int_test_correct,
        "int_test_acc": int_test_correct / len(x_test),
        "int_train_acc": float(np.mean(int_train_pred == y_train)),
        "agree": int(np.sum(int_test_pred == float_test_pred)),
        "vectors_size": len(vectors),
        "root": merkle_root([result_hash(o) for o in test_out]),
    }
    doc = render_doc(r)
    files = {MODEL_NAME: model, VECTORS_NAME: vectors, DOC_NAME: doc.encode()}

    print(f"float accuracy: test {r['float_test_acc']:.4f}, train {r['float_train_acc']:.4f}")
    print(f"int8  accuracy: test {r['int_test_acc']:.4f} ({int_test_correct}/{len(x_test)}), "
          f"train {r['int_train_acc']:.4f}")
    print(f"model: {len(model)} bytes, blake2-256 0x{model_hash.hex()}")
    for i, l in enumerate(layers):
        extra = ""
        if "out_scale" in l:
            extra = f", out scale {l['out_scale']:.6g}, "
            extra += f"shifts {l['shift'].min()}..{l['shift'].max()}"
        print(f"layer {i}: {l['in']}->{l['out']}{extra}")

    if args.check:
        ok = True
        for name, data in files.items():
            path = os.path.join(HERE, name)
            same = os.path.exists(path) and open(path, "rb").read() == data
            print(f"{name}: {'same' if same else 'DIFFERENT'}")
            ok &= same
        sys.exit(0 if ok else 1)
    for name, data in files.items():
        with open(os.path.join(HERE, name), "wb") as f:
            f.write(data)
        print(f"wrote {name}")


if __name__ == "__main__":
    main()
