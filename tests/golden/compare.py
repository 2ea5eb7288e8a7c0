#!/usr/bin/env python3
"""compare.py EXPECTED ACTUAL: two alert streams (one JSON object a line) are equal: same
alerts in the same order, ids/entities/times/texts exactly, numbers to 1e-9."""
import json
import sys

TOL = 1e-9


def load(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def close(a, b):
    return abs(float(a) - float(b)) <= TOL


def diff_health(e, a):
    for k in ("kind", "alert_id", "decision", "time", "state", "signal", "connector", "field",
              "text"):
        if e.get(k) != a.get(k):
            return "%s: %r != %r" % (k, e.get(k), a.get(k))
    fe, fa = e.get("figures", {}), a.get("figures", {})
    if sorted(fe) != sorted(fa):
        return "figures: %r != %r" % (fe, fa)
    for k in fe:
        if isinstance(fe[k], str) or isinstance(fa[k], str):
            if fe[k] != fa[k]:
                return "figure %s: %r != %r" % (k, fe[k], fa[k])
        elif not close(fe[k], fa[k]):
            return "figure %s: %r != %r" % (k, fe[k], fa[k])
    return None


def diff(e, a):
    if e.get("kind", "decision") != a.get("kind", "decision"):
        return "kind: %r != %r" % (e.get("kind"), a.get("kind"))
    if e.get("kind") == "health":
        return diff_health(e, a)
    for k in ("alert_id", "decision", "entity", "time", "suppressed"):
        if e.get(k) != a.get(k):
            return "%s: %r != %r" % (k, e.get(k), a.get(k))
    if not close(e["score"], a["score"]):
        return "score: %r != %r" % (e["score"], a["score"])
    if len(e["reasons"]) != len(a["reasons"]):
        return "reason count differs"
    for re_, ra in zip(e["reasons"], a["reasons"]):
        if re_["signal"] != ra["signal"] or re_["text"] != ra["text"]:
            return "reason: %r != %r" % (re_, ra)
        for k in ("x", "weight", "contribution"):
            if not close(re_[k], ra[k]):
                return "reason %s %s: %r != %r" % (re_["signal"], k, re_[k], ra[k])
    return None


def main():
    exp, act = load(sys.argv[1]), load(sys.argv[2])
    bad = 0
    for i in range(max(len(exp), len(act))):
        if i >= len(exp) or i >= len(act):
            print("alert %d: only in %s" % (i + 1, sys.argv[1] if i < len(exp) else sys.argv[2]))
            bad += 1
            continue
        d = diff(exp[i], act[i])
        if d:
            print("alert %d (%s %s): %s" % (i + 1, exp[i].get("entity", exp[i].get("kind")), exp[i]["time"], d))
            bad += 1
        if bad >= 10:
            break
    if bad:
        print("compare: %d difference(s); expected %d alerts, got %d" % (bad, len(exp), len(act)))
        return 1
    print("compare: %d alerts equal" % len(exp))
    return 0


if __name__ == "__main__":
    sys.exit(main())
