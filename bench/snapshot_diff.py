#!/usr/bin/env python3
"""bench/snapshot_diff.py A B: compare two lineage.snapshot/v1 files of the same machine.

Processes are matched by (pid, start_time_ns); those in only one file (born
or ended between the two runs) are counted, not compared. Prints every other
difference as a path. Fields that change while a process runs (cpu_ticks,
rss_kb, vsz_kb, state, stat, nlwp) are counted apart as "volatile"."""
import json, sys

VOLATILE = {"cpu_ticks", "rss_kb", "vsz_kb", "state", "stat", "nlwp"}
a, b = (json.load(open(p)) for p in sys.argv[1:3])
diffs, volatile = [], 0

def walk(x, y, path):
    global volatile
    if type(x) != type(y):
        diffs.append((path, x, y)); return
    if isinstance(x, dict):
        if list(x) != list(y):
            diffs.append((path + " keys", list(x), list(y))); return
        for k in x:
            if k in ("start_time", "generated_at"):
                continue
            if k in VOLATILE and x[k] != y[k]:
                volatile += 1; continue
            walk(x[k], y[k], f"{path}.{k}")
    elif isinstance(x, list):
        if len(x) != len(y):
            diffs.append((path + " len", len(x), len(y))); return
        for i, (u, v) in enumerate(zip(x, y)):
            walk(u, v, f"{path}[{i}]")
    elif x != y:
        diffs.append((path, x, y))

def flat_tree(doc):
    out, stack = {}, list(doc["tree"]["processes"])
    while stack:
        p = stack.pop()
        kids = p.get("children", [])
        stack.extend(kids)
        q = dict(p); q["children"] = sorted(c["pid"] for c in kids)
        out[(p["pid"], p["start_time_ns"])] = q
    return out

def by_pid(doc, section, starts):
    return {(e["pid"], starts.get(e["pid"])): e for e in doc[section]}

ta, tb = flat_tree(a), flat_tree(b)
sa = {pid: s for pid, s in ta}; sb = {pid: s for pid, s in tb}
common = ta.keys() & tb.keys()
print(f"processes: {len(ta)} and {len(tb)}, {len(common)} in both")
for key in sorted(common):
    walk(ta[key], tb[key], f"tree[{key[0]}]")
for section in ("raw", "why"):
    ea, eb = by_pid(a, section, sa), by_pid(b, section, sb)
    for key in sorted(common):
        if key in ea and key in eb:
            walk(ea[key], eb[key], f"{section}[{key[0]}]")
for section in ("sockets", "zombies", "history"):
    walk(a[section], b[section], section)
if list(a) != list(b):
    diffs.append(("top-level keys", list(a), list(b)))
for d in diffs[:40]:
    print(*d)
print(f"{len(diffs)} differences, {volatile} in volatile fields")
sys.exit(1 if diffs else 0)
