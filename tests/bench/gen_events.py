#!/usr/bin/env python3
"""gen_events.py - the project's own workload generator for benchmarks and cross-checks.

Writes N business events as NDJSON, deterministic for given arguments (only
random.Random(seed) and integer arithmetic, so the bytes are the same on any CPython 3):

    gen_events.py -n 1000000 -c 10000 -d 60 -s 42 -o events.ndjson

The world: C customers over D days from --start (default 2026-11-01T00:00:00Z). Event i
happens at start + floor(i * D*86400 / N) seconds (times never decrease). Types by share:
login 70%, usage 15% (with a value), ticket.opened 10%, subscription.downgrade 5%.
A --churn share of customers (default 0.2) churn on a day drawn from [10, D-5]: from two weeks
before it they attract most tickets and downgrades, and after it they mostly stop logging in.

Options for the noise and learning tests (all off by default):
  --cancel           a churner also sends `subscription.canceled` LAG days after its churn
                     day (LAG in [3, 10]); outcome events are extra, not part of N
  --labels FILE      write `entity,churn_time` (RFC 3339) for every churner
  --dip DAY:DAYS:F   a population-wide dip: logins from day DAY for DAYS days are kept with
                     probability F (a holiday week: --dip 30:7:0.4)
  --outage T:DAY:DAYS  a broken source: no events of type T from day DAY for DAYS days
  --format source    the shape a tool sends ({"customer_id", "ts", "type", ...}: map.entity =
                     customer_id, map.time = ts) instead of sigflow's canonical event
"""
import argparse
import random
import sys
from datetime import datetime, timezone

TYPES = (("login", 70), ("usage", 15), ("ticket.opened", 10), ("subscription.downgrade", 5))
PLANS = ("free", "starter", "pro", "enterprise")
DAY = 86400


def iso(t):
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_start(text):
    return int(datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
               .timestamp())


class World:
    def __init__(self, a):
        self.rng = random.Random(a.seed)
        self.a = a
        self.ids = ["c%05d" % i for i in range(a.customers)]
        self.plan = {c: PLANS[self.rng.randrange(len(PLANS))] for c in self.ids}
        n_churn = a.customers * int(round(a.churn * 1000)) // 1000
        churners = self.rng.sample(self.ids, n_churn) if a.days > 15 else []
        self.churn_day = {c: self.rng.randint(10, a.days - 5) for c in sorted(churners)}
        self.churners = sorted(churners)
        self.type_table = [t for t, share in TYPES for _ in range(share)]
        self.fading_by_day = {}

    def churned(self, c, day):
        d = self.churn_day.get(c)
        return d is not None and day >= d

    def fading(self, c, day):
        d = self.churn_day.get(c)
        return d is not None and d - 14 <= day < d + 3

    def pick(self, typ, day):
        rng = self.rng
        if typ in ("ticket.opened", "subscription.downgrade") and self.churners and \
                rng.random() < 0.6:
            fading = self.fading_by_day.get(day)
            if fading is None:
                fading = [c for c in self.churners if self.fading(c, day)]
                self.fading_by_day[day] = fading
            if fading:
                return fading[rng.randrange(len(fading))]
        for _ in range(8):
            c = self.ids[rng.randrange(len(self.ids))]
            if typ == "login" and self.churned(c, day) and rng.random() < 0.9:
                continue
            return c
        return c


def parse_dip(text):
    day, days, factor = text.split(":")
    return int(day), int(days), float(factor)


def parse_outage(text):
    typ, day, days = text.rsplit(":", 2)
    return typ, int(day), int(days)


def line(a, w, entity, typ, t, value=None):
    key_e, key_t = ("customer_id", "ts") if a.format == "source" else ("entity", "time")
    out = '{"%s":"%s","type":"%s","%s":"%s"' % (key_e, entity, typ, key_t, iso(t))
    if value is not None:
        out += ',"value":%d.%d' % (value // 10, value % 10)
    return out + ',"plan":"%s"}\n' % w.plan[entity]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-n", type=int, default=1000000, help="events (default 1,000,000)")
    ap.add_argument("-c", "--customers", type=int, default=10000)
    ap.add_argument("-d", "--days", type=int, default=60)
    ap.add_argument("-s", "--seed", type=int, default=42)
    ap.add_argument("-o", "--out", default="-")
    ap.add_argument("--start", default="2026-11-01T00:00:00Z")
    ap.add_argument("--churn", type=float, default=0.2)
    ap.add_argument("--cancel", action="store_true")
    ap.add_argument("--labels")
    ap.add_argument("--dip", type=parse_dip)
    ap.add_argument("--outage", type=parse_outage)
    ap.add_argument("--format", choices=("canonical", "source"), default="canonical")
    a = ap.parse_args()
    if a.n < 0 or a.customers < 1 or a.days < 1:
        sys.exit("gen_events: -n must be >= 0, -c and -d >= 1")
    start = parse_start(a.start)
    w = World(a)
    cancels = sorted((start + (d + w.rng.randint(3, 10)) * DAY + 12 * 3600, c)
                     for c, d in w.churn_day.items()) if a.cancel else []
    out = sys.stdout if a.out == "-" else open(a.out, "w")
    span = a.days * DAY
    ci = 0
    for i in range(a.n):
        t = start + i * span // max(a.n, 1)
        while ci < len(cancels) and cancels[ci][0] <= t:
            out.write(line(a, w, cancels[ci][1], "subscription.canceled", cancels[ci][0]))
            ci += 1
        day = (t - start) // DAY
        typ = w.type_table[w.rng.randrange(100)]
        entity = w.pick(typ, day)
        value = w.rng.randrange(10, 1000) if typ == "usage" else None
        keep = w.rng.random()
        if a.dip and typ == "login" and a.dip[0] <= day < a.dip[0] + a.dip[1] and \
                keep >= a.dip[2]:
            continue
        if a.outage and typ == a.outage[0] and a.outage[1] <= day < a.outage[1] + a.outage[2]:
            continue
        out.write(line(a, w, entity, typ, t, value))
    for t, c in cancels[ci:]:
        if t < start + span:
            out.write(line(a, w, c, "subscription.canceled", t))
    if out is not sys.stdout:
        out.close()
    if a.labels:
        with open(a.labels, "w") as f:
            f.write("entity,churn_time\n")
            for c in w.churners:
                f.write("%s,%s\n" % (c, iso(start + w.churn_day[c] * DAY)))


if __name__ == "__main__":
    main()
