#!/usr/bin/env python3
"""onnxruntime on the digits model: the baseline `aivm bench` is compared with.

Rebuilds the float 64-128-64-10 MLP exactly as `models/digits/train.py` trains it (same data
split, same `MLPClassifier` arguments and seed, one BLAS thread: the functions and constants
are imported from train.py), checks that quantising it with train.py's own quantiser gives the
committed `.aivm` byte for byte (so this is the float model behind the served one), then:

1. exports it to ONNX (float32 MatMul/Add/Relu graph, input `x` [N, 64] = pixel / 16, output
   `logits` [N, 10]) and checks the ONNX model's argmax predictions on the test split against
   scikit-learn's;
2. makes an int8 copy with `onnxruntime.quantization.quantize_dynamic` (defaults: int8 weights,
   uint8 dynamically quantised activations) and checks its test accuracy too;
3. measures throughput (inferences per second) of both at one batch size (default 4096) with
   `intra_op_num_threads` = all cores and 1: a warm-up, then a timed loop of `--seconds`.

Output on stdout: lines starting with `#` are information (versions, accuracies); the rest is
CSV in the same columns as `aivm bench`:

    backend,threads,batch,inferences_per_second
    onnxruntime-fp32,2,4096,123456
    onnxruntime-int8-dynamic,2,4096,123456

Run: `python3 benchmarks/inference/ort_bench.py [--seconds 3] [--batch 4096] [--threads 0,1]`
(with the packages of `benchmarks/inference/requirements.txt`).
"""

import argparse
import importlib.util
import logging
import os
import sys
import tempfile
import time
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
TRAIN_PY = os.path.join(ROOT, "models", "digits", "train.py")


def load_train():
    """Import models/digits/train.py as a module. It sets OPENBLAS/OMP/MKL_NUM_THREADS=1 before
    numpy loads (the reproducible training run), so it must be imported before numpy.
    onnxruntime's CPU provider uses its own thread pool (intra_op_num_threads), not these."""
    sys.dont_write_bytecode = True  # leave no __pycache__ in models/digits
    spec = importlib.util.spec_from_file_location("digits_train", TRAIN_PY)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


train = load_train()

import numpy as np  # noqa: E402
import onnx  # noqa: E402
import onnxruntime as ort  # noqa: E402
import sklearn  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402
from onnxruntime.quantization import quantize_dynamic  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402

OPSET = 17
IR_VERSION = 8  # opset 17's IR version: loadable by every onnxruntime of the last years


def train_float_model():
    """The float model, trained exactly as train.py's main() does."""
    digits = load_digits()
    x_all = digits.data.astype(np.int64)  # 0..=16
    y_all = digits.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(
        x_all, y_all, test_size=train.TEST_SIZE, stratify=y_all, random_state=train.SEED
    )
    clf = MLPClassifier(
        hidden_layer_sizes=train.HIDDEN,
        activation="relu",
        solver="adam",
        alpha=train.ALPHA,
        batch_size=train.BATCH,
        max_iter=train.MAX_ITER,
        random_state=train.SEED,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(x_train / 16.0, y_train)
    return clf, x_all, x_train, x_test, y_test


def committed_model_matches(clf, x_train):
    """Quantise with train.py's quantiser: True when it gives the committed .aivm's bytes."""
    model = train.write_aivm(train.quantize(clf, x_train))
    path = os.path.join(os.path.dirname(TRAIN_PY), train.MODEL_NAME)
    with open(path, "rb") as f:
        committed = f.read()
    return model == committed, train.blake2_256(model), train.read_aivm(committed)


def to_onnx(clf):
    """The MLP as a float32 ONNX graph: (MatMul, Add, Relu) x 2, MatMul, Add."""
    if clf.activation != "relu":
        raise ValueError(f"expected a ReLU MLP, got {clf.activation}")
    nodes, inits = [], []
    current = "x"
    layers = len(clf.coefs_)
    for i, (w, b) in enumerate(zip(clf.coefs_, clf.intercepts_)):
        # sklearn stores the weights [in, out]: x @ w + b directly.
        inits.append(numpy_helper.from_array(w.astype(np.float32), f"w{i}"))
        inits.append(numpy_helper.from_array(b.astype(np.float32), f"b{i}"))
        nodes.append(helper.make_node("MatMul", [current, f"w{i}"], [f"mm{i}"], name=f"matmul{i}"))
        last = i == layers - 1
        added = "logits" if last else f"add{i}"
        nodes.append(helper.make_node("Add", [f"mm{i}", f"b{i}"], [added], name=f"add{i}"))
        if not last:
            nodes.append(helper.make_node("Relu", [added], [f"relu{i}"], name=f"relu{i}"))
            current = f"relu{i}"
    n_in = clf.coefs_[0].shape[0]
    n_out = clf.coefs_[-1].shape[1]
    graph = helper.make_graph(
        nodes,
        "digits-64-128-64-10",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", n_in])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", n_out])],
        initializer=inits,
    )
    model = helper.make_model(
        graph,
        producer_name="dsync-benchmarks-inference",
        opset_imports=[helper.make_opsetid("", OPSET)],
    )
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model, full_check=True)
    return model


def session(path, threads):
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3  # errors only
    return ort.InferenceSession(path, sess_options=options, providers=["CPUExecutionProvider"])


def predict(sess, x):
    return np.argmax(sess.run(["logits"], {"x": x})[0], axis=1)


def throughput(sess, x, seconds, warmup_seconds):
    """Inferences per second of `sess` on batch `x`, by the same method as `aivm bench`: one
    engine call after another for `seconds`, rate = calls x batch / elapsed. Input and output
    are bound once (IO binding into a preallocated array), so the loop measures the model."""
    out = np.empty((x.shape[0], 10), dtype=np.float32)
    binding = sess.io_binding()
    binding.bind_cpu_input("x", x)
    binding.bind_ortvalue_output("logits", ort.OrtValue.ortvalue_from_numpy(out))
    sess.run_with_iobinding(binding)
    expected = sess.run(["logits"], {"x": x})[0]
    if not np.array_equal(out, expected):
        raise AssertionError("IO-bound output differs from a plain run")
    started = time.perf_counter()
    while time.perf_counter() - started < warmup_seconds:
        sess.run_with_iobinding(binding)
    runs = 0
    started = time.perf_counter()
    while True:
        sess.run_with_iobinding(binding)
        runs += 1
        elapsed = time.perf_counter() - started
        if elapsed >= seconds:
            return runs * x.shape[0] / elapsed


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=3.0, help="timed seconds per measurement")
    ap.add_argument("--warmup", type=float, default=0.5, help="warm-up seconds per measurement")
    ap.add_argument("--batch", type=int, default=4096, help="items per session run")
    ap.add_argument(
        "--threads",
        default="0,1",
        help="comma-separated intra_op_num_threads to measure; 0 = all cores (default 0,1)",
    )
    ap.add_argument("--keep", metavar="DIR", help="write the two .onnx files into DIR")
    args = ap.parse_args()
    cores = os.cpu_count() or 1
    thread_counts = [int(t) or cores for t in args.threads.split(",") if t.strip()]

    print(f"# onnxruntime {ort.__version__}, onnx {onnx.__version__}, "
          f"scikit-learn {sklearn.__version__}, numpy {np.__version__}, "
          f"python {sys.version.split()[0]}, {cores} cores")
    print(f"# onnxruntime providers: {','.join(ort.get_available_providers())}")

    clf, x_all, x_train, x_test, y_test = train_float_model()
    same, model_hash, layers = committed_model_matches(clf, x_train)
    print(f"# float model: trained as models/digits/train.py ({clf.n_iter_} epochs); quantised "
          f"by train.py it gives 0x{model_hash.hex()}: "
          f"{'the committed .aivm, byte for byte' if same else 'NOT the committed .aivm'}")
    if not same:
        print("# warning: different package versions or BLAS? the float model is not the one "
              "behind the served .aivm (pin benchmarks/inference/requirements.txt)", flush=True)

    x_test_f = (x_test / 16.0).astype(np.float32)
    sk_pred = clf.predict(x_test / 16.0)
    int_pred = np.argmax(train.forward_int(layers, x_test.astype(np.int8)), axis=1)
    n = len(y_test)

    def acc(pred):
        return f"{np.mean(pred == y_test):.2%} ({int(np.sum(pred == y_test))}/{n})"

    print(f"# scikit-learn float64, test split: accuracy {acc(sk_pred)}")
    print(f"# aivm int8 (train.py's integer pipeline = the Rust executor), test split: "
          f"accuracy {acc(int_pred)}")

    with tempfile.TemporaryDirectory() as tmp:
        out_dir = args.keep or tmp
        os.makedirs(out_dir, exist_ok=True)
        fp32_path = os.path.join(out_dir, "digits-fp32.onnx")
        int8_path = os.path.join(out_dir, "digits-int8-dynamic.onnx")
        onnx.save(to_onnx(clf), fp32_path)
        # Its advice to pre-process first (shape inference) is logged as a warning: quiet it.
        logging.getLogger().setLevel(logging.ERROR)
        quantize_dynamic(fp32_path, int8_path)  # QInt8 weights, QUInt8 activations (defaults)
        ops = sorted({node.op_type for node in onnx.load(int8_path).graph.node})
        print(f"# onnx files: fp32 {os.path.getsize(fp32_path)} bytes, int8-dynamic "
              f"{os.path.getsize(int8_path)} bytes (ops: {', '.join(ops)})")

        check = session(fp32_path, 1)
        fp32_pred = predict(check, x_test_f)
        agree = int(np.sum(fp32_pred == sk_pred))
        print(f"# onnxruntime fp32, test split: accuracy {acc(fp32_pred)}; "
              f"argmax agrees with scikit-learn on {agree}/{n}")
        if agree != n:
            print("error: the fp32 ONNX model's predictions differ from scikit-learn's",
                  file=sys.stderr)
            sys.exit(1)
        int8_pred = predict(session(int8_path, 1), x_test_f)
        print(f"# onnxruntime int8-dynamic, test split: accuracy {acc(int8_pred)}; "
              f"agrees with fp32 on {int(np.sum(int8_pred == fp32_pred))}/{n}, "
              f"with aivm int8 on {int(np.sum(int8_pred == int_pred))}/{n}")

        # The benchmark batch: the data set's real digits (all 1797, pixel / 16), repeated.
        reps = -(-args.batch // len(x_all))
        x_bench = np.ascontiguousarray(
            np.tile(x_all / 16.0, (reps, 1))[: args.batch], dtype=np.float32
        )
        print(f"# throughput: batch {args.batch} (the 1797 digits repeated), "
              f"{args.warmup} s warm-up + {args.seconds} s timed per line")
        print("backend,threads,batch,inferences_per_second", flush=True)
        for name, path in (("onnxruntime-fp32", fp32_path),
                           ("onnxruntime-int8-dynamic", int8_path)):
            for threads in thread_counts:
                rate = throughput(session(path, threads), x_bench, args.seconds, args.warmup)
                print(f"{name},{threads},{args.batch},{rate:.0f}", flush=True)


if __name__ == "__main__":
    main()
