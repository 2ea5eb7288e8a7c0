#!/usr/bin/env python3
"""churn_world.py SEED OUT_EVENTS OUT_LABELS [ACCOUNTS DAYS]: a generated, labelled world for
the learning tests (docs/scoring.md "Outcomes and learning").

Every account logs in at its own daily rate and views pages at a rate drawn independently of
everything else (pure noise). About a third of the accounts churn on a random day: their
logins fade over the three weeks before it (to a tenth), they stop altogether on that day,
and billing sends `subscription.canceled` then. A few of the noisy accounts have bursts of
page views that look alarming and mean nothing.

Writes NDJSON events sorted by time (canonical fields) and a labels CSV `entity,churn_time`
(epoch ms) of the churners. Deterministic in SEED (Python's own Mersenne Twister)."""
import json
import random
import sys

DAY = 86400000
START = 1767225600000  # 2026-01-01T00:00:00Z


def account(rng, i, days, events, labels):
    eid = "acct%04d" % i
    rate = rng.uniform(1.0, 4.0)  # logins a day
    views = rng.uniform(0.2, 6.0)  # page views a day: independent of churn
    churn = None
    if rng.random() < 0.35:
        churn = rng.uniform(40, days + 60)  # some churn after the world ends
        if churn < days:
            labels.append((eid, START + int(churn * DAY)))
    end = min(churn, days) if churn is not None else days
    t = 0.0
    while True:  # logins: Poisson, fading to 10% over the 21 days before churn
        t += rng.expovariate(rate)
        if t >= end:
            break
        if churn is not None and t > churn - 21:
            keep = 1.0 - 0.9 * (t - (churn - 21)) / 21.0
            if rng.random() > keep:
                continue
        events.append((START + int(t * DAY), eid, "login"))
    t = 0.0
    while True:  # page views: noise, whatever happens to the account
        t += rng.expovariate(views)
        if t >= end:
            break
        events.append((START + int(t * DAY), eid, "page.view"))
    if churn is not None and churn < days:
        events.append((START + int(churn * DAY), eid, "subscription.canceled"))


def main():
    seed = int(sys.argv[1])
    accounts = int(sys.argv[4]) if len(sys.argv) > 4 else 400
    days = int(sys.argv[5]) if len(sys.argv) > 5 else 120
    rng = random.Random(seed)
    events, labels = [], []
    for i in range(accounts):
        account(rng, i, days, events, labels)
    events.sort()
    with open(sys.argv[2], "w") as f:
        for t, eid, typ in events:
            f.write(json.dumps({"entity": eid, "type": typ, "time": t}) + "\n")
    with open(sys.argv[3], "w") as f:
        f.write("entity,churn_time\n")
        for eid, t in sorted(labels):
            f.write("%s,%d\n" % (eid, t))


if __name__ == "__main__":
    main()
