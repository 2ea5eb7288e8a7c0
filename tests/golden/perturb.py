#!/usr/bin/env python3
"""perturb.py IN OUT [SEED]: make a sorted event stream harder, deterministically: move some
events later in the file (so they arrive late), duplicate some times exactly, add events of a
type no signal reads, events on tick boundaries, epoch-ms times and a few bad lines."""
import json
import random
import sys


def main():
    rnd = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 7)
    lines = [json.loads(x) for x in open(sys.argv[1]) if x.strip()]
    out = []
    for o in lines:
        r = rnd.random()
        if r < 0.03:
            out.append({"entity": o["entity"], "type": "page.view", "time": o["time"]})
        elif r < 0.05:
            o = dict(o, time=o["time"][:14] + "00:00Z")  # exactly on an hour boundary
        elif r < 0.07:
            out.append(dict(o))  # same event twice, same time
        elif r < 0.08:
            out.append({"entity": o["entity"], "type": o["type"], "time": o["time"]})  # no value
        out.append(o)
    # move ~5% of events up to 300 positions later: they become late events
    for _ in range(len(out) // 20):
        i = rnd.randrange(len(out))
        j = min(len(out) - 1, i + rnd.randrange(1, 300))
        out.insert(j, out.pop(i))
    with open(sys.argv[2], "w") as f:
        for k, o in enumerate(out):
            if k % 997 == 13:
                f.write('{"entity": "broken", "type": \n')  # a bad line, counted not fatal
            if k % 50 == 7:
                from datetime import datetime
                t = datetime.fromisoformat(o["time"].replace("Z", "+00:00"))
                o = dict(o, time=int(t.timestamp() * 1000))
            f.write(json.dumps(o) + "\n")


if __name__ == "__main__":
    main()
