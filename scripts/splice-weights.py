#!/usr/bin/env python3
"""Replace some weight functions of a pallet's `weights.rs` by those of a newer benchmark run.

`scripts/benchmark.sh pallet_x=call_a,call_b` benchmarks only those calls (the CLI's
`--extrinsic a,b`) into a temporary file; this script copies each of their functions, with its
storage comments, from that file into both implementations of the pallet's `weights.rs`
(`SubstrateWeight<T>` and `()`), and adds a line under the file's header naming the calls, the
date and the host of the partial run. Every other function stays as it was.

    scripts/splice-weights.py <partial weights.rs> <pallet weights.rs> <call> [<call> ...]
"""

import re
import socket
import sys
import datetime


def sections(lines):
    """(start, end) line ranges of the `impl ... WeightInfo for ...` blocks."""
    found = []
    for index, line in enumerate(lines):
        if line.startswith("impl") and "WeightInfo for" in line:
            end = index + 1
            while not lines[end].startswith("}"):
                end += 1
            found.append((index, end))
    return found


def function(lines, start, end, name):
    """(first, last) lines of function `name` in lines[start:end], with its doc comments."""
    pattern = re.compile(r"^\tfn " + re.escape(name) + r"\(")
    for index in range(start, end):
        if pattern.match(lines[index]):
            first = index
            while first > start + 1 and lines[first - 1].startswith("\t///"):
                first -= 1
            last = index
            while lines[last] != "\t}\n":
                last += 1
            return first, last
    raise SystemExit(f"function {name} not found")


def main():
    partial_path, target_path, *calls = sys.argv[1:]
    if not calls:
        raise SystemExit(__doc__)
    partial = open(partial_path).readlines()
    target = open(target_path).readlines()
    new_sections = sections(partial)
    if len(new_sections) != len(sections(target)):
        raise SystemExit("the two files have different implementations")
    for call in calls:
        # Replace from the last section backwards so earlier line numbers stay valid.
        for (t_start, t_end), (p_start, p_end) in reversed(
            list(zip(sections(target), new_sections))
        ):
            first, last = function(target, t_start, t_end, call)
            p_first, p_last = function(partial, p_start, p_end, call)
            target[first : last + 1] = partial[p_first : p_last + 1]
    date = datetime.date.today().isoformat()
    note = (
        f"//! PARTIAL RE-RUN: {date} on `{socket.gethostname()}`: {', '.join(calls)} "
        f"(`scripts/benchmark.sh <pallet>={','.join(calls)}`).\n"
    )
    marker = next(i for i, line in enumerate(target) if line.startswith("//! Do not edit by hand"))
    target.insert(marker, note)
    target.insert(marker + 1, "//!\n")
    open(target_path, "w").writelines(target)


if __name__ == "__main__":
    main()
