#!/usr/bin/python3
"""`make bench`, parts 1-2 (driven by tests/bench/run.sh): `sigflow replay` over gen_events.py's
files. Each (file, shards) runs --runs times; per run it reads replay's own summary line
(events/s over its elapsed time, ticks, alerts, entities, state bytes) and the process's
user+sys CPU and peak RSS (wait4), and prints the medians. The alert streams of every run of
one file must be byte-identical whatever the shard count (replays are deterministic): a
difference is an error. With --baseline OTHER_SIGFLOW the two binaries run in turn (A B A B)
and the pairwise CPU ratios are printed (A = this build). The 1-minute load average is
recorded before and after; above --max-load the figures are reported NOT VALID.
"""
import argparse
import hashlib
import os
import re
import statistics
import subprocess
import sys
import tempfile


def load1():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def one(binary, conf, events, shards):
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        p = subprocess.Popen([binary, "replay", "-c", conf, "--shards", str(shards), events],
                             stdout=out, stderr=err)
        _, status, ru = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        text = err.read().decode(errors="replace")
        if p.returncode != 0:
            sys.exit("bench_replay: %s failed (exit %d): %s" % (binary, p.returncode, text))
        out.seek(0)
        digest = hashlib.sha256(out.read()).hexdigest()
    line = [l for l in text.splitlines() if l.startswith("replay: events=")][-1]
    kv = dict(re.findall(r"(\w+)=([\d.]+)", line))
    return {"eps": float(kv["events_per_s"]), "cpu": ru.ru_utime + ru.ru_stime,
            "rss": ru.ru_maxrss / 1024.0, "kv": kv, "digest": digest}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sigflow", required=True)
    ap.add_argument("--baseline")
    ap.add_argument("--conf", required=True)
    ap.add_argument("--file", action="append", required=True, help="LABEL=PATH")
    ap.add_argument("--shards", default="1 2")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--max-load", type=float, default=2.0)
    a = ap.parse_args()
    l0 = load1()
    print("bench replay: %d cores; load before %.2f (NOT VALID above %.1f); %d runs each, medians"
          % (os.cpu_count(), l0, a.max_load, a.runs))
    target = None
    for spec in a.file:
        label, path = spec.split("=", 1)
        digests = set()
        for shards in a.shards.split():
            A, B = [], []
            for _ in range(a.runs):
                A.append(one(a.sigflow, a.conf, path, shards))
                if a.baseline:
                    B.append(one(a.baseline, a.conf, path, shards))
            digests.update(r["digest"] for r in A)
            kv = A[0]["kv"]
            ents = int(kv["entities"])
            eps = statistics.median(r["eps"] for r in A)
            cpu = statistics.median(r["cpu"] for r in A)
            print("%-20s shards=%s events=%s ticks=%s alerts=%s entities=%d events/s=%.0f "
                  "(%.0f-%.0f) cpu=%.2fs (%.2f us/event) peak_rss=%.0fMB state=%.1fMB "
                  "bytes/entity=%.0f" % (
                      label, shards, kv["events"], kv["ticks"], kv["alerts"], ents, eps,
                      min(r["eps"] for r in A), max(r["eps"] for r in A), cpu,
                      cpu * 1e6 / max(int(kv["events"]), 1),
                      max(r["rss"] for r in A), int(kv["state_bytes"]) / 1e6,
                      int(kv["state_bytes"]) / max(ents, 1)))
            if B and any(r["digest"] not in digests for r in B):
                sys.exit("bench_replay: %s shards=%s: the baseline's alert stream differs from "
                         "this build's" % (label, shards))
            if B:
                ratios = [x["cpu"] / y["cpu"] for x, y in zip(A, B)]
                print("  A/B (this build / baseline), pairwise median: cpu %.3f (%.3f-%.3f); "
                      "baseline events/s %.0f, cpu %.2fs" % (
                          statistics.median(ratios), min(ratios), max(ratios),
                          statistics.median(r["eps"] for r in B),
                          statistics.median(r["cpu"] for r in B)))
            if target is None and shards == "1":
                target = eps
        if len(digests) != 1:
            sys.exit("bench_replay: %s: the alert streams differ between runs or shard counts"
                     % label)
        print("  %s: alert streams byte-identical across shards %s" % (label, a.shards))
    l1 = load1()
    if target is not None:
        print("  issue #14 target (replay >= 1M events/s, first file, --shards 1): %s (%.0f/s; "
              "load %.2f before, %.2f after)"
              % ("met" if target >= 1e6 else "NOT MET", target, l0, l1))
    print("bench replay: load after %.2f; %s" % (
        l1, "VALID" if max(l0, l1) <= a.max_load else
        "NOT VALID (1-minute load above %.1f: other work on the machine)" % a.max_load))


if __name__ == "__main__":
    main()
