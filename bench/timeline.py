#!/usr/bin/env python3
"""Summarises a BENCH_TIMELINE=1 run of bench/run.sh: per connector run and task, where the wall time went.

Usage: bench/timeline.py target/bench/run-<stamp>.log [run-name-substring]
Per run (webhook-r1-5, ...): drain wall time; per task: when it was first assigned, read its first and last
record, how long its consumption was paused (buffer full while a sync was in flight), its syncs (count, changes,
pages) and how busy its sender was (sum of sync durations / time from the first sync to the last delivery),
when its last sync was delivered; the tail (last record read -> drained) and the start (created -> first commit).
"""
import re
import sys
from datetime import datetime

def ms(stamp):
    t = datetime.strptime(stamp, "%H:%M:%S,%f")
    return ((t.hour * 60 + t.minute) * 60 + t.second) * 1000 + t.microsecond // 1000

log = sys.argv[1]
only = sys.argv[2] if len(sys.argv) > 2 else ""
runs = {}
LINE = re.compile(r"^(TL )?(\d\d:\d\d:\d\d,\d\d\d) (.*)$")
for raw in open(log, errors="replace"):
    m = LINE.match(raw.rstrip("\n"))
    if not m:
        continue
    t, rest = ms(m.group(2)), m.group(3)
    if m.group(1):
        name = rest.split()[0]
        run = runs.setdefault(name, {"tasks": {}, "samples": []})
        if rest.endswith(" created"):
            run["created"] = t
        elif " t=" in rest:
            committed = int(re.search(r"committed=(\d+)", rest).group(1))
            tasks = dict((k, list(map(int, v.split("/")))) for k, v in re.findall(r" (\d+)=([\d/]+)", rest))
            run["samples"].append((t, committed, tasks))
        continue
    th = re.search(r"\[task-thread-(\S+)-(\d+)\]", rest)
    if not th:
        continue
    name, task = th.group(1), th.group(2)
    run = runs.setdefault(name, {"tasks": {}, "samples": []})
    tk = run["tasks"].setdefault(task, {"syncs": [], "pauses": [], "assigned": [], "started": None})
    if "Sync started" in rest:
        n = re.search(r"(\d+) changes read, (\d+) members in (\d+) pages", rest)
        tk["started"] = (t, int(n.group(1)), int(n.group(3)), "full" if "buffer full" in rest else "due"
                         if "(due)" in rest else "idle")
    elif "Sync delivered" in rest and tk["started"]:
        s = tk["started"]
        tk["syncs"].append((s[0], t, s[1], s[2], s[3]))
        tk["started"] = None
    elif "pausing consumption" in rest:
        tk["pauses"].append([t, None])
    elif "Resuming consumption" in rest and tk["pauses"] and tk["pauses"][-1][1] is None:
        tk["pauses"][-1][1] = t
    elif "Assigned" in rest:
        tk["assigned"].append((t, rest.split("Assigned ")[1]))

for name, run in runs.items():
    if only not in name or "created" not in run or not run["samples"] or name.startswith("ceiling"):
        continue
    c0 = run["created"]
    samples = run["samples"]
    total = samples[-1][1]
    drained = next((t for t, c, _ in samples if c == total), samples[-1][0])
    first_commit = next((t for t, c, _ in samples if c > 0), None)
    print(f"== {name}: drained at {(drained - c0) / 1000:.2f} s, first commit {(first_commit - c0) / 1000:.2f} s")
    for task in sorted(set(run["tasks"]) | set(k for _, _, ts in samples for k in ts)):
        tk = run["tasks"].get(task, {"syncs": [], "pauses": [], "assigned": []})
        reads = [(t, ts[task][0]) for t, _, ts in samples if task in ts]
        if not reads:
            continue
        first_read = next((t for t, r in reads if r > 0), None)
        last = reads[-1][1]
        last_read = next(t for t, r in reads if r == last)
        paused = sum((e or drained) - s for s, e in tk["pauses"])
        syncs = tk["syncs"]
        busy = sum(e - s for s, e, *_ in syncs)
        span = (syncs[-1][1] - syncs[0][0]) if syncs else 0
        kinds = {k: sum(1 for *_, kk in syncs if kk == k) for k in ("due", "full", "idle")}
        print(f"  task {task}: assigned {[(round((t - c0) / 1000, 2), p) for t, p in tk['assigned']]}"
              f" first record {((first_read or c0) - c0) / 1000:.2f} s, last record {(last_read - c0) / 1000:.2f} s"
              f" ({last} read), paused {paused / 1000:.2f} s in {len(tk['pauses'])} pauses")
        if syncs:
            print(f"          {len(syncs)} syncs {kinds}, {sum(s[2] for s in syncs)} changes,"
                  f" {sum(s[3] for s in syncs)} pages; sender busy {busy / 1000:.2f} s of {span / 1000:.2f} s"
                  f" ({100 * busy / max(span, 1):.0f}%), {busy / max(1, sum(s[3] for s in syncs)):.1f} ms/page;"
                  f" last sync {(syncs[-1][0] - c0) / 1000:.2f}-{(syncs[-1][1] - c0) / 1000:.2f} s"
                  f" ({syncs[-1][2]} changes, {syncs[-1][4]})")
    last_read_all = max(next(t for t, r in [(t, ts[k][0]) for t, _, ts in samples if k in ts]
                             if r == [ts[k][0] for _, _, ts in samples if k in ts][-1])
                        for k in set(k for _, _, ts in samples for k in ts))
    print(f"  tail: last record read at {(last_read_all - c0) / 1000:.2f} s, drained {(drained - last_read_all) / 1000:.2f} s later")
