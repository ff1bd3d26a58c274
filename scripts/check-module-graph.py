#!/usr/bin/env python3
"""The import graph of the runtime's and the node's modules has no cycle, and the runtime's
modules depend in one direction: constants <- governance <- configs <- benchmarks.

Reads every `crate::...` path in the code (comments and doc links are ignored) of
`runtime/src` and `node/src`, maps each to the module file it names, and fails (exit 1) on a
cycle between two modules that are not nested in each other, or on an import against the
runtime's direction. The crate root (`lib.rs`, `main.rs`: the `Runtime` type, the pallet
list) is left out: every module uses it, as in every FRAME runtime.

    scripts/check-module-graph.py          # run by scripts/test.sh
"""

import os
import re
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
PATH = re.compile(r"[a-z_][a-z_0-9]*(?:::[a-z_][a-z_0-9]*)*")

# Runtime modules in dependency order: each may import only from those before it.
RUNTIME_ORDER = ["constants", "governance", "configs", "benchmarks"]


def module_files(src):
    """Module path (`a::b`, '' for the crate root) -> file."""
    mods = {}
    for directory, _, files in os.walk(src):
        for name in files:
            if not name.endswith(".rs"):
                continue
            file = os.path.join(directory, name)
            parts = os.path.relpath(file, src)[:-3].split(os.sep)
            if parts[-1] == "mod":
                parts = parts[:-1]
            if parts in (["lib"], ["main"]):
                parts = []
            mods["::".join(parts)] = file
    return mods


def imported_paths(code):
    """Every path written after `crate::`, including every item of `crate::{...}` groups."""
    for match in re.finditer(r"crate::", code):
        start = match.end()
        if not code.startswith("{", start):
            path = PATH.match(code, start)
            if path:
                yield path.group(0)
            continue
        # A group, with nested groups: its text up to the matching brace.
        depth, end = 0, start
        while end < len(code):
            depth += {"{": 1, "}": -1}.get(code[end], 0)
            end += 1
            if depth == 0:
                break
        # Every path at the start of an item (`a::b::{c, d}` yields `a::b`).
        for item in re.finditer(r"(?:^|[{,])\s*(" + PATH.pattern + ")", code[start + 1:end - 1]):
            yield item.group(1)


def graph(src):
    mods = module_files(src)
    edges = {}
    for module, file in mods.items():
        if module == "":
            continue
        with open(file, encoding="utf-8") as handle:
            code = re.sub(r"//[^\n]*", "", handle.read())
        for path in imported_paths(code):
            parts = path.split("::")
            for end in range(len(parts), 0, -1):
                target = "::".join(parts[:end])
                if target in mods:
                    nested = module.startswith(target + "::") or target.startswith(module + "::")
                    if target != module and not nested:
                        edges.setdefault(module, set()).add(target)
                    break
    return edges


def find_cycle(edges):
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(edges):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def top(module):
    return module.split("::")[0]


def main():
    failures = []
    for crate in ("runtime/src", "node/src"):
        edges = graph(os.path.join(ROOT, crate))
        modules = {top(m): set() for m in edges}
        for module, targets in edges.items():
            for target in targets:
                if top(module) != top(target):
                    modules[top(module)].add(top(target))
        for level, g in (("file", edges), ("module", modules)):
            cycle = find_cycle(g)
            if cycle:
                failures.append(f"{crate}: {level} import cycle: {' -> '.join(cycle)}")
        if crate == "runtime/src":
            for module, targets in modules.items():
                if module not in RUNTIME_ORDER:
                    continue
                later = RUNTIME_ORDER[RUNTIME_ORDER.index(module) + 1:]
                for target in sorted(targets & set(later)):
                    failures.append(
                        f"{crate}: `{module}` imports from `{target}`, against the direction "
                        + " <- ".join(RUNTIME_ORDER)
                    )
        print(f"{crate}: " + "; ".join(f"{m} -> {', '.join(sorted(t))}" for m, t in sorted(modules.items()) if t))
    for failure in failures:
        print(f"error: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
