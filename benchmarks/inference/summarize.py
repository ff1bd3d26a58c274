#!/usr/bin/env python3
"""The summary tables of a raw results file written by run.sh (Markdown, ready to paste).

Reads:
- CSV lines `backend,threads,batch,inferences_per_second` (from `aivm bench` and
  ort_bench.py; back-ends named `onnxruntime-*` are onnxruntime, the others aivm's);
- `RESULT key=value ...` lines (from the wrk scripts' done());
- `METRICS scenario=... items_per_engine_run=...` lines (run.sh, from the server's /metrics);
- `date:`, `commit:`, `cpu:`, `load average ...:` header lines.

Prints `WARNING: ...` lines for wrk errors or non-2xx answers (run.sh then fails).
Standard library only. Run: `python3 benchmarks/inference/summarize.py results-....txt`.
"""

import re
import sys

CSV = re.compile(r"^([A-Za-z0-9_.-]+),(\d+),(\d+),(\d+(?:\.\d+)?)$")
HEADER_KEYS = ("date", "commit", "cpu", "load average at start", "load average at the end")


def fields(line):
    return dict(part.split("=", 1) for part in line.split()[1:] if "=" in part)


def fmt_int(value):
    return f"{float(value):,.0f}"


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: summarize.py RESULTS_FILE")
    engine, http, metrics, header = [], [], {}, {}
    with open(sys.argv[1], encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("## summary"):
                break  # a file summarised before: read only the measurements
            m = CSV.match(line)
            if m:
                engine.append((m.group(1), int(m.group(2)), int(m.group(3)), float(m.group(4))))
            elif line.startswith("RESULT "):
                http.append(fields(line))
            elif line.startswith("METRICS "):
                f_ = fields(line)
                metrics[f_.get("scenario")] = f_
            else:
                for key in HEADER_KEYS:
                    if line.startswith(key + ":"):
                        header[key] = line.split(":", 1)[1].strip()

    for key in HEADER_KEYS:
        if key in header:
            print(f"{key}: {header[key]}")
    print()

    if engine:
        baseline = {(name, threads, batch): rate for name, threads, batch, rate in engine
                    if name.startswith("onnxruntime-")}
        print("In-process throughput (one engine call per batch, inferences per second):")
        print()
        print("| engine | back-end | threads | batch | inferences/s | × ort fp32 | × ort int8 |")
        print("| --- | --- | --- | --- | --- | --- | --- |")
        for name, threads, batch, rate in sorted(engine, key=lambda r: (r[1] != 1, -r[3])):
            ort = name.startswith("onnxruntime-")
            ratios = []
            for base in ("onnxruntime-fp32", "onnxruntime-int8-dynamic"):
                ref = baseline.get((base, threads, batch))
                ratios.append(f"{rate / ref:.2f}" if ref else "–")
            print(f"| {'onnxruntime' if ort else 'aivm'} | "
                  f"{name.removeprefix('onnxruntime-') if ort else name} | {threads} | {batch} | "
                  f"{fmt_int(rate)} | {ratios[0]} | {ratios[1]} |")
        print()

    warnings = []
    rows = [r for r in http if r.get("scenario") != "warm-up"]
    if rows:
        print("HTTP on loopback (wrk and the server share the machine's cores):")
        print()
        print("| scenario | wrk threads × connections | items/request | requests/s | "
              "inferences/s | p50 ms | p99 ms | items per engine run | errors |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
        for r in rows:
            errors = sum(int(r.get(k, 0)) for k in r if k.startswith("errors_"))
            per_run = metrics.get(r.get("scenario"), {}).get("items_per_engine_run", "–")
            print(f"| {r.get('scenario')} | {r.get('threads')} × {r.get('connections')} | "
                  f"{r.get('items')} | {fmt_int(r.get('requests_per_second', 0))} | "
                  f"{fmt_int(r.get('inferences_per_second', 0))} | {r.get('p50_ms')} | "
                  f"{r.get('p99_ms')} | {per_run} | {errors} |")
    for r in http:
        bad = {k: v for k, v in r.items() if k.startswith("errors_") and int(v) != 0}
        if bad or int(r.get("requests", 0)) == 0:
            warnings.append(f"{r.get('scenario')}: {r.get('requests')} requests, {bad or 'none'}"
                            " (errors_status = non-2xx answers)")
    if rows:
        print()
    for w in warnings:
        print(f"WARNING: {w}")


if __name__ == "__main__":
    main()
