#!/usr/bin/env python3
"""Naive reference of docs/scoring.md (scoring), written from the text, not from the C code.

It keeps every event and, at every tick boundary, evaluates EVERY entity with history by
summing over all its events, so it shares no shortcut with the engine (no incremental sums,
no skipping). Used to cross-check `sigflow replay` on generated streams.

The noise guards (docs/scoring.md "Noise guards") are here too, as naively: at every
boundary the population's sums and the stale window's count are summed over every event of
the signal kept so far; slow spells (stale, or the population's clock of an `absent` with
`relative = cohort`) are kept as a list and intersected with (latest, t].

Usage: reference.py CONFIG.ini EVENTS.ndjson [--until RFC3339|MS]
Prints one JSON line per alert, like `sigflow replay`; bad lines are skipped (counted on
stderr). Only the canonical event shape is read.
"""
import configparser
import datetime
import hashlib
import json
import math
import sys

UNITS = {"ms": 1, "s": 1000, "m": 60000, "h": 3600000, "d": 86400000, "w": 604800000}


def duration(text):
    text = text.strip()
    for u in ("ms", "s", "m", "h", "d", "w"):
        if text.endswith(u) and text[: -len(u)].isdigit():
            return int(text[: -len(u)]) * UNITS[u]
    raise ValueError("bad duration %r" % text)


def parse_time(v):
    if isinstance(v, bool):
        raise ValueError("bool time")
    if isinstance(v, int):
        return v
    if isinstance(v, str):
        if v.lstrip("-").isdigit():
            return int(v)
        s = v.replace("z", "Z").replace("t", "T")
        if s.endswith("Z"):
            s = s[:-1] + "+00:00"
        d = datetime.datetime.fromisoformat(s)
        if d.tzinfo is None:
            raise ValueError("no zone")
        epoch = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
        delta = d - epoch
        return (delta.days * 86400 + delta.seconds) * 1000 + delta.microseconds // 1000
    raise ValueError("bad time")


def fmt_time(ms):
    sec, msec = divmod(ms, 1000)
    d = datetime.datetime(1970, 1, 1) + datetime.timedelta(seconds=sec)
    return d.strftime("%Y-%m-%dT%H:%M:%S") + ".%03dZ" % msec


def fmt_duration(ms):
    for u, k in (("d", 86400000), ("h", 3600000), ("m", 60000), ("s", 1000)):
        if ms and ms % k == 0:
            return "%d%s" % (ms // k, u)
    return "%dms" % ms


def load_config(path):
    cp = configparser.ConfigParser(interpolation=None, inline_comment_prefixes=None)
    cp.optionxform = str
    cp.read(path)
    d = cp["decision"]
    dec = {
        "name": d.get("name", "decision"),
        "bias": float(d.get("bias", "0")),
        "threshold": float(d["threshold"]),
        "cooldown": duration(d.get("cooldown", "0s")),
        "tick": duration(d.get("tick", "1h")),
    }
    dec["rearm_below"] = float(d.get("rearm_below", d["threshold"]))
    sigs = []
    for sec in cp.sections():
        if not sec.startswith("signal "):
            continue
        s = cp[sec]
        sig = {"name": sec[len("signal "):].strip(), "event": s["event"],
               "measure": s["measure"], "of_value": s.get("of", "count") == "value",
               "weight": float(s.get("weight", "1")), "explain": s.get("explain", "")}
        for k in ("recent", "usual", "window"):
            if k in s:
                sig[k] = duration(s[k])
        sig["span"] = float(s.get("span", "1"))
        cohort = s.get("relative", "self") == "cohort"
        sig["cohort"] = cohort and sig["measure"] in ("drop", "rise")
        sig["clock"] = cohort and sig["measure"] == "absent"  # the population's clock
        sig["stale_below"] = float(s.get("stale_below", "0"))
        sig["stale_window"] = duration(s.get("stale_window", "1d"))
        sig["stale_min"] = float(s.get("stale_min", "100"))
        if "cap" in s:
            sig["cap"] = float(s["cap"])
        if "limit" in s:
            sig["limit"] = float(s["limit"])
        sigs.append(sig)
    return dec, sigs


def decayed(evs, t, tau):
    return sum(a * math.exp(-(t - ti) / tau) for ti, a, _ in evs if ti <= t)


def feature(sig, evs, t, guard=None):
    """x of one signal and what its template may show, under the guards' state."""
    if guard and guard["stale"]:
        x, info = measure(sig, evs, t)
        x = 0.0  # a stale signal counts 0 in every score
    else:
        x, info = measure(sig, evs, t, guard["rho"] if guard else 1.0,
                          guard["spells"] if guard else ())
    if evs and sig["measure"] in ("drop", "rise", "count"):
        info["latest"] = max(e[0] for e in evs)
    return x, info


def real_feature(sig, evs, t, guard):
    """x of one signal as if it were not stale (docs/scoring.md "Suppressed alerts"): a stale
    signal is read as it would be without its stale judgement (an `absent` that counts live
    time only because it is judged reads the wall clock; one on the population's clock keeps
    its spells); a fresh one as usual."""
    if not guard["stale"]:
        return feature(sig, evs, t, guard)
    if sig["measure"] == "absent" and not sig["clock"]:
        x, info = measure(sig, evs, t)
    else:
        x, info = measure(sig, evs, t, guard["rho"], guard["spells"])
    return x, info


def stale_time(spells, a, b):
    """Time of the slow spells [from, to) inside (a, b] that does not count: `lost` eighths
    of each, rounded up to whole milliseconds."""
    lost8 = sum(max(0, min(to, b) - max(fr, a)) * lost for fr, to, lost in spells)
    return -(-lost8 // 8)


def measure(sig, evs, t, rho=1.0, spells=()):
    """x of one signal; evs = [(time, amount, value_or_None)] in applied order. rho: the
    cohort's ratio (relative = cohort); spells: the signal's stale spells (absent counts only
    live time)."""
    m = sig["measure"]
    if m in ("drop", "rise"):
        if not evs:
            return 0.0, {}
        sr = decayed(evs, t, sig["recent"])
        su = decayed(evs, t, sig["usual"])
        info = {"sr": sr, "su": su}  # templates show the rates even before the history
        if t - min(e[0] for e in evs) < sig["usual"] or su == 0:
            return 0.0, info
        r = (sr / sig["recent"]) / (su / sig["usual"]) / rho
        x = 1 - r if m == "drop" else (r - 1) / sig["span"]
        return min(max(x, 0.0), 1.0), info
    if m == "count":
        n = sum(1 for ti, _, _ in evs if t - sig["window"] < ti <= t)
        return min(n, sig["cap"]) / sig["cap"], {"n": n}
    if m in ("recent", "absent"):
        if not evs:
            return 0.0, {}
        latest = max(e[0] for e in evs)
        if m == "recent":
            return (1.0 if latest > t - sig["window"] else 0.0), {"latest": latest}
        live = t - latest - stale_time(spells, latest, t)
        return (1.0 if live >= sig["window"] else 0.0), {"latest": latest}
    # value_below / value_above: latest by time, later applied wins ties; no value: ignored
    best = None
    for ti, _, v in evs:
        if v is not None and (best is None or ti >= best[0]):
            best = (ti, v)
    if best is None:
        return 0.0, {}
    hit = best[1] < sig["limit"] if m == "value_below" else best[1] > sig["limit"]
    return (1.0 if hit else 0.0), {"value": best[1], "latest": best[0]}


def coarse(ms):
    for u, k in (("d", 86400000), ("h", 3600000), ("m", 60000)):
        if ms >= k:
            return "%d%s" % (ms // k, u)
    return "%ds" % (ms // 1000)


def render(sig, x, info, t):
    m = sig["measure"]
    decay = m in ("drop", "rise")
    isval = m in ("value_below", "value_above")
    v = {"pct": "%d" % math.floor(100 * x + 0.5), "signal": sig["name"]}
    if m == "count":
        kcap = math.ceil(sig["cap"])
        n = info["n"]
        v["n"] = "%d+" % kcap if n >= kcap else "%d" % n
    elif decay:
        v["n"] = "%.0f" % info.get("sr", 0.0)
    elif isval:
        v["n"] = ("%g" % info["value"]) if "value" in info else ""
    else:
        v["n"] = ("%d" % ((t - info["latest"]) // 86400000)) if "latest" in info else ""
    v["window"] = (fmt_duration(sig["recent"]) if decay else
                   "" if isval else fmt_duration(sig["window"]))
    week = 604800000.0
    v["recent_rate"] = "%.1f" % (info.get("sr", 0.0) / sig["recent"] * week) if decay else ""
    v["usual_rate"] = "%.1f" % (info.get("su", 0.0) / sig["usual"] * week) if decay else ""
    v["value"] = ("%g" % info["value"]) if isval and "value" in info else ""
    v["limit"] = ("%g" % sig["limit"]) if isval else ""
    latest = info.get("latest")
    v["since"] = coarse(t - latest) if latest is not None else ""
    out, s = [], sig["explain"]
    while True:
        i = s.find("{{")
        j = s.find("}}", i + 2) if i >= 0 else -1
        if j < 0:
            out.append(s)
            break
        out.append(s[:i])
        name = s[i + 2:j].strip(" ")
        out.append(v[name] if name in v else s[i:j + 2])
        s = s[j + 2:]
    return "".join(out)


class Reference:
    def __init__(self, dec, sigs, out):
        self.dec, self.sigs, self.out = dec, sigs, out
        self.ents = {}  # id -> {"evs": [list per signal], "armed", "last"}
        self.next_tick = None
        self.watermark = None
        self.alerts = 0
        self.health = 0
        self.suppressed = 0
        # per signal: every event of it, whatever the entity: (time, amount)
        self.pop = [[] for _ in sigs]
        self.guard = [{"rho": 1.0, "stale": False, "spells": []} for _ in sigs]

    def evaluate(self, eid, t):
        ent = self.ents[eid]
        xs, infos = [], []
        for sig, evs, g in zip(self.sigs, ent["evs"], self.guard):
            x, info = feature(sig, evs, t, g)
            xs.append(x)
            infos.append(info)
        z = self.dec["bias"] + sum(s["weight"] * x for s, x in zip(self.sigs, xs))
        p = 1.0 / (1.0 + math.exp(-z))
        if p < self.dec["rearm_below"]:
            ent["armed"] = True
        if ent["armed"] and p >= self.dec["threshold"] and (
                ent["last"] is None or t - ent["last"] >= self.dec["cooldown"]):
            ent["armed"] = False
            ent["last"] = t
            self.fire(eid, t, p, xs, infos)
        elif ent["armed"] and not ent["recorded"] and (
                ent["last"] is None or t - ent["last"] >= self.dec["cooldown"]) and any(
                g["stale"] and s["weight"] != 0 for s, g in zip(self.sigs, self.guard)):
            self.maybe_suppressed(eid, t)

    def maybe_suppressed(self, eid, t):
        """The alert it would have fired had no signal been stale: recorded, nothing else."""
        ent = self.ents[eid]
        xs, infos = [], []
        for sig, evs, g in zip(self.sigs, ent["evs"], self.guard):
            x, info = real_feature(sig, evs, t, g)
            xs.append(x)
            infos.append(info)
        z = self.dec["bias"] + sum(s["weight"] * x for s, x in zip(self.sigs, xs))
        p = 1.0 / (1.0 + math.exp(-z))
        if p < self.dec["threshold"]:
            return
        ent["recorded"] = True
        why = [s["name"] for s, g, x in zip(self.sigs, self.guard, xs)
               if g["stale"] and s["weight"] * x != 0]
        self.fire(eid, t, p, xs, infos, "stale " + ", ".join(why))

    def fire(self, eid, t, p, xs, infos, suppressed=None):
        order = sorted(range(len(self.sigs)), key=lambda i: (-self.sigs[i]["weight"] * xs[i], i))
        reasons = [{"signal": self.sigs[i]["name"], "x": xs[i], "weight": self.sigs[i]["weight"],
                    "contribution": self.sigs[i]["weight"] * xs[i],
                    "text": render(self.sigs[i], xs[i], infos[i], t)} for i in order]
        tag = b"" if suppressed is None else b"\x1fsuppressed"
        h = hashlib.sha256(self.dec["name"].encode() + tag + b"\0" + eid.encode() + b"\0" +
                           str(t).encode()).hexdigest()[:32]
        a = {"kind": "decision", "alert_id": h, "decision": self.dec["name"], "entity": eid,
             "time": fmt_time(t), "score": p, "reasons": reasons}
        if suppressed is not None:
            a["kind"], a["suppressed"] = "suppressed", suppressed
            self.suppressed += 1
        else:
            self.alerts += 1
        self.out.write(json.dumps(a) + "\n")

    def judge(self, T):
        """The guards at boundary T, from every event of each signal (docs/scoring.md "Noise guards")."""
        tick = self.dec["tick"]
        for i, sig in enumerate(self.sigs):
            g, evs = self.guard[i], self.pop[i]
            if sig["cohort"]:
                pr = sum(a * math.exp(-(T - ti) / sig["recent"]) for ti, a in evs)
                pu = sum(a * math.exp(-(T - ti) / sig["usual"]) for ti, a in evs)
                rho = 1.0
                if pu != 0:
                    rho = (pr / sig["recent"]) / (pu / sig["usual"])
                    if not (math.isfinite(rho) and rho > 0):
                        rho = 1.0
                g["rho"] = rho
            if sig["stale_below"] > 0 or sig["clock"]:
                usual = sig["usual"] if sig["measure"] in ("drop", "rise") else 28 * 86400000
                w = sig["stale_window"]
                n = sum(1 for ti, _ in evs if T - w < ti <= T)
                expected = sum(math.exp(-(T - ti) / usual) for ti, _ in evs) / usual * w
                stale = sig["stale_below"] > 0 and expected >= sig["stale_min"] and \
                    n < sig["stale_below"] * expected
                lost = 8 if stale else 0
                first = min((ti for ti, _ in evs), default=None)
                if not stale and sig["clock"] and first is not None and T > first:
                    # the population's activity over the window, in eighths (at most 8): its
                    # events against its usual rate since its first event
                    age = T - first
                    pu = sum(math.exp(-(T - ti) / usual) for ti, _ in evs)
                    exp_c = pu / usual / -math.expm1(-age / usual) * min(w, age)
                    if exp_c >= sig["stale_min"] and exp_c > 0 and math.isfinite(exp_c):
                        lost = max(0, 8 - math.floor(8.0 * n / exp_c + 0.5))
                if lost:
                    sp = g["spells"]
                    if sp and sp[-1][1] == T and sp[-1][2] == lost:
                        sp[-1] = (sp[-1][0], T + tick, lost)
                    else:
                        sp.append((T, T + tick, lost))
                if stale != g["stale"]:
                    g["stale"] = stale
                    self.health_alert(sig, T, n, expected, stale)
        if not any(g["stale"] for g in self.guard):  # a stale spell is over: records anew
            for ent in self.ents.values():
                ent["recorded"] = False

    def health_alert(self, sig, T, n, expected, stale):
        state = "stale" if stale else "recovered"
        win = fmt_duration(sig["stale_window"])
        name, ev = sig["name"], sig["event"]
        if stale:
            text = ("%s is stale: %d %s events in the last %s, %.0f expected; %s does not "
                    "raise scores until it recovers" % (name, n, ev, win, expected, name))
        else:
            text = "%s recovered: %d %s events in the last %s, %.0f expected" % (
                name, n, ev, win, expected)
        key = "health\x1f%s\x1fsignal\x1f%s" % (state, name)
        h = hashlib.sha256(self.dec["name"].encode() + b"\0" + key.encode() + b"\0" +
                           str(T).encode()).hexdigest()[:32]
        self.out.write(json.dumps({
            "kind": "health", "alert_id": h, "decision": self.dec["name"], "time": fmt_time(T),
            "state": state, "signal": name, "text": text,
            "figures": {"events": n, "expected": math.floor(expected + 0.5), "window": win,
                        "event": ev}}) + "\n")
        self.health += 1

    def ticks_until(self, limit_inclusive):
        tick = self.dec["tick"]
        while self.next_tick <= limit_inclusive:
            T = self.next_tick
            self.judge(T)
            for eid in sorted(self.ents, key=lambda s: s.encode()):
                self.evaluate(eid, T)
            self.next_tick = T + tick

    def push(self, ev):
        t = ev["time"]
        tick = self.dec["tick"]
        if self.next_tick is None:
            self.next_tick = -((-t) // tick) * tick
            self.watermark = t
        self.ticks_until(t - 1)  # boundaries T < t
        self.watermark = max(self.watermark, t)
        idx = [i for i, s in enumerate(self.sigs) if s["event"] == ev["type"]]
        if not idx:
            return
        ent = self.ents.setdefault(ev["entity"], {"evs": [[] for _ in self.sigs],
                                                  "armed": True, "last": None,
                                                  "recorded": False})
        v = ev.get("value")
        for i in idx:
            amount = (v if v is not None else 0.0) if self.sigs[i]["of_value"] else 1.0
            ent["evs"][i].append((t, amount, v))
            self.pop[i].append((t, amount))
        self.evaluate(ev["entity"], self.watermark)


def main():
    args = sys.argv[1:]
    until = None
    if "--until" in args:
        k = args.index("--until")
        until = parse_time(args[k + 1])
        del args[k:k + 2]
    dec, sigs = load_config(args[0])
    ref = Reference(dec, sigs, sys.stdout)
    bad = 0
    with open(args[1]) as f:
        for line in f:
            try:
                o = json.loads(line)
                ev = {"entity": o["entity"], "type": o["type"], "time": parse_time(o["time"])}
                if not isinstance(ev["entity"], str) or not ev["entity"] or \
                        not isinstance(ev["type"], str) or not ev["type"]:
                    raise ValueError("entity/type")
                if len(ev["entity"].encode()) > 256:
                    raise ValueError("entity too long")
                if not -62167219200000 <= ev["time"] <= 253402300799999:
                    raise ValueError("time outside years 0000-9999")
                v = o.get("value")
                if v is not None:
                    if isinstance(v, bool) or not isinstance(v, (int, float)):
                        raise ValueError("value")
                    v = float(v)
                    if not math.isfinite(v):
                        raise ValueError("value not finite")
                ev["value"] = v
            except (ValueError, KeyError, TypeError):
                bad += 1
                continue
            ref.push(ev)
    if until is not None and ref.next_tick is not None:
        ref.ticks_until(until)
    sys.stderr.write("reference: alerts=%d health=%d suppressed=%d bad=%d\n" % (
        ref.alerts, ref.health, ref.suppressed, bad))


if __name__ == "__main__":
    main()
