#!/usr/bin/env python3
"""gen_world.py: a labelled, deterministic test world for the noise guards (docs/scoring.md
"Noise guards"): customers who log in, use the product and open tickets; some churn (their
logins fade out, tickets rise, then they cancel); a holiday when everybody logs in less; an
outage when the login feed sends nothing at all.

Usage: gen_world.py -o EVENTS.ndjson [--labels LABELS.json] [-c CUSTOMERS] [-d DAYS]
                    [-s SEED] [--start 2026-01-05] [--holiday DAY:LEN:FACTOR]
                    [--outage DAY:LEN] [--churn SHARE]

Events are sorted by time ({"entity","type","time","value"?}). LABELS gets
{"churners": {entity: cancel_time_ms}, "holiday": [from_ms, to_ms], "outage": [from, to]}.
"""
import argparse
import datetime
import json
import random

DAY = 86400000


def iso(ms):
    d = datetime.datetime(1970, 1, 1) + datetime.timedelta(milliseconds=ms)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (ms % 1000)


def span(text):
    parts = [float(p) for p in text.split(":")]
    return parts


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-o", required=True)
    ap.add_argument("--labels")
    ap.add_argument("-c", type=int, default=60)
    ap.add_argument("-d", type=int, default=60)
    ap.add_argument("-s", type=int, default=1)
    ap.add_argument("--start", default="2026-01-05")
    ap.add_argument("--holiday", default="")
    ap.add_argument("--outage", default="")
    ap.add_argument("--churn", type=float, default=0.1)
    a = ap.parse_args()
    rnd = random.Random(a.s)
    t0 = int(datetime.datetime.fromisoformat(a.start).replace(
        tzinfo=datetime.timezone.utc).timestamp() * 1000)
    end = t0 + a.d * DAY
    hol = span(a.holiday) if a.holiday else None
    out = span(a.outage) if a.outage else None
    hol_ms = [t0 + int(hol[0] * DAY), t0 + int((hol[0] + hol[1]) * DAY)] if hol else None
    out_ms = [t0 + int(out[0] * DAY), t0 + int((out[0] + out[1]) * DAY)] if out else None
    events, churners = [], {}
    for c in range(a.c):
        ent = "c%04d" % c
        rate = rnd.uniform(2.0, 6.0)  # logins a day
        usage = rnd.uniform(5, 20)
        # churners start fading after the first month and cancel 2-3 weeks later
        churn_at = None
        if rnd.random() < a.churn:
            churn_at = t0 + int(rnd.uniform(0.5, 0.85) * a.d * DAY)
            churners[ent] = churn_at + int(rnd.uniform(14, 21) * DAY)
        t = t0 + int(rnd.uniform(0, 0.5) * DAY)
        while t < end:
            r = rate
            if churn_at is not None and t > churn_at:
                if t >= churners[ent]:
                    break
                r = rate * max(0.05, 1 - (t - churn_at) / (12.0 * DAY))
            if hol_ms and hol_ms[0] <= t < hol_ms[1]:
                r *= hol[2]
            nxt = t + int(rnd.expovariate(r) * DAY) + 1
            # The holiday's rate holds from its first to its last moment: a gap drawn at one
            # rate that crosses a holiday edge starts again from the edge at the other rate
            # (exact for a Poisson process, which has no memory).
            edge = [e for e in (hol_ms or ()) if t < e < nxt]
            if edge:
                t = edge[0]
                continue
            t = nxt
            if t >= end or (churn_at is not None and t >= churners[ent]):
                break
            if not (out_ms and out_ms[0] <= t < out_ms[1]):
                events.append({"entity": ent, "type": "login", "time": t})
            if rnd.random() < 0.15:
                u = usage * (0.3 if churn_at is not None and t > churn_at else 1.0)
                events.append({"entity": ent, "type": "usage", "time": t + 1,
                               "value": round(u * rnd.uniform(0.7, 1.3), 2)})
            tickets = 0.02 + (0.25 if churn_at is not None and t > churn_at else 0.0)
            if rnd.random() < tickets:
                events.append({"entity": ent, "type": "ticket.opened", "time": t + 2})
        if ent in churners and churners[ent] < end:
            events.append({"entity": ent, "type": "subscription.canceled",
                           "time": churners[ent]})
    events.sort(key=lambda e: (e["time"], e["entity"], e["type"]))
    with open(a.o, "w") as f:
        for e in events:
            e = dict(e, time=iso(e["time"]))
            f.write(json.dumps(e) + "\n")
    if a.labels:
        with open(a.labels, "w") as f:
            json.dump({"churners": churners, "holiday": hol_ms, "outage": out_ms}, f)


if __name__ == "__main__":
    main()
