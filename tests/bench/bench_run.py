#!/usr/bin/python3
"""`make bench`, part 3 (driven by tests/bench/bench_run.sh): the whole daemon, `sigflow run`.

The file connector reads gen_events.py's 1M-event stream; every event is journaled (group
commit, cursor in the same transaction) at the given durability, scored (bench.ini's four
signals, clock = event), and each alert stored in the outbox and POSTed by the webhook delivery
to a local HTTP receiver (tests/support/http_receiver.py). Per run it prints:

  read+journal  start -> the connector's "reached end of file"
  scored        start -> sigflow_events_scored_total (GET /metrics) equals the event count
  lag           the last alert's arrival at the receiver minus the end of the stream
                (read+journal): "alerts delivered within 1 s of the last event"
  cpu           the daemon's user+sys seconds (getrusage of the child) and µs per event

With --baseline OTHER_SIGFLOW the two binaries run in turn (A B A B ...) and the ratios of the
pairs are printed (A = this build). The 1-minute load average is recorded before and after;
above --max-load the run is reported NOT VALID. Not a pass/fail test.
"""
import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def load1():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def metric(port, name):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=2) as r:
            for line in r.read().decode().splitlines():
                if line.startswith(name + " "):
                    return float(line.split()[1])
    except OSError:
        pass
    return None


def count_lines(path):
    try:
        with open(path, "rb") as f:
            return sum(1 for _ in f)
    except FileNotFoundError:
        return 0


def write_ini(a, out, plugins, var, admin, recv_port, durability):
    with open(a.conf) as f:
        conf = f.read().replace("tick        = 1h", "tick        = 1h\ndeliver     = hook", 1)
    conf += ("[sigflow]\nplugin_dir = %s\nstate_dir = %s\nclock = event\ndurability = %s\n"
             "admin = 127.0.0.1:%d\n" % (plugins, var, durability, admin))
    conf += "[connector events]\nplugin = file\npath = %s\nfollow = false\n" % a.events
    conf += "[delivery hook]\nplugin = webhook\nurl = http://127.0.0.1:%d/hook\n" % recv_port
    path = os.path.join(out, "run.ini")
    with open(path, "w") as f:
        f.write(conf)
    return path


def one_run(a, binary, plugins, durability, recv_port, n_events, tag, perf_out=None):
    out = a.out
    var = os.path.join(out, "var")
    shutil.rmtree(var, ignore_errors=True)
    received = os.path.join(out, "received.ndjson")
    subprocess.run(["curl", "-s", "-o", "/dev/null", "-d", '{"clear": true}',
                    "http://127.0.0.1:%d/_control" % recv_port], check=False)
    if os.path.exists(received):
        os.unlink(received)
    admin = free_port()
    ini = write_ini(a, out, plugins, var, admin, recv_port, durability)
    log_path = os.path.join(out, "log." + tag)
    logf = open(log_path, "w")
    t0 = time.monotonic()
    wall0 = time.time()
    cmd = [binary, "run", "--init", "-c", ini]
    if perf_out:
        # From the start to the last alert delivered (--perf). The daemon runs under `perf
        # record`, which follows every thread from the first: attached with -p to a process
        # that was starting, perf missed the threads created while it set itself up (on
        # 2026-12-03 it recorded sf-journal and sf-checkpoint, not one of the others). At
        # the end perf is interrupted and stops the daemon with SIGTERM; the rusage below is
        # then perf's and the daemon's together (the --perf run is not counted).
        cmd = ["perf", "record", "-q", "-F", "999", "-g", "-o", perf_out, "--"] + cmd
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=logf)
    t_read = t_scored = commits = None
    deadline = t0 + a.timeout
    while time.monotonic() < deadline and p.poll() is None:
        now = time.monotonic()
        if t_read is None:
            with open(log_path) as f:
                if "reached end of file" in f.read():
                    t_read = now
        if t_read is not None and t_scored is None:
            if metric(admin, "sigflow_events_scored_total") == n_events:
                t_scored = now
                commits = metric(admin, "sigflow_journal_commits_total")
                break
        time.sleep(0.02)
    # Every alert the scorer stored is logged once ("alert alert=..."); wait for the receiver
    # to have them all (webhook delivery, one POST per alert).
    alerts = -1
    t_last = None
    while time.monotonic() < deadline and p.poll() is None:
        with open(log_path) as f:
            n_alerts = len(re.findall(r'component=score msg="alert ', f.read()))
        if n_alerts == alerts and count_lines(received) >= alerts:
            break
        alerts = n_alerts
        time.sleep(0.05)
    if perf_out:
        p.send_signal(signal.SIGINT)
    else:
        p.terminate()  # a clean stop (SIGTERM); its rusage is the daemon's alone
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    logf.close()
    cpu = ru.ru_utime + ru.ru_stime
    delivered = 0
    try:
        with open(received) as f:
            times = [json.loads(l)["time"] for l in f if l.strip()]
        delivered = len(times)
        t_last = max(times) - wall0 if times else None
    except FileNotFoundError:
        pass
    if t_read is None or t_scored is None:
        sys.exit("bench_run: %s did not finish (see %s)" % (binary, log_path))
    return {
        "read": t_read - t0, "scored": t_scored - t0, "cpu": cpu, "alerts": alerts,
        "delivered": delivered, "lag": (t_last - (t_read - t0)) if t_last is not None else None,
        "rss_mb": ru.ru_maxrss / 1024.0, "commits": commits,
    }


def perf_summary(path, durability):
    """Where the time went in a --perf run: self samples by thread, library and function."""
    for sort, rows in (("comm", 12), ("dso", 10), ("sym", 25)):
        print("--- perf: sigflow run at %s, self samples by %s" % (durability, sort))
        out = subprocess.run(["perf", "report", "-i", path, "--no-children", "-g", "none",
                              "--sort", sort], capture_output=True, text=True).stdout
        print("\n".join([l for l in out.splitlines() if "%" in l and not l.startswith("#")][:rows]))


def show(label, r, n):
    lag = "%.2fs" % r["lag"] if r["lag"] is not None else "-"
    print("  %-9s read+journal %.2fs (%.0f ev/s)  scored %.2fs (%.0f ev/s)  cpu %.2fs "
          "(%.2f us/event)  journal commits %s  alerts %d delivered %d  lag after the last "
          "event %s"
          % (label, r["read"], n / r["read"], r["scored"], n / r["scored"], r["cpu"],
             r["cpu"] * 1e6 / n, "%.0f (%.0f events each)" % (r["commits"], n / r["commits"])
             if r["commits"] else "-", r["alerts"], r["delivered"], lag))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sigflow", required=True)
    ap.add_argument("--plugins", required=True, help="directory with connector_file.so and "
                    "delivery_webhook.so")
    ap.add_argument("--baseline", help="another sigflow binary to run in turn (A/B)")
    ap.add_argument("--baseline-plugins")
    ap.add_argument("--conf", required=True)
    ap.add_argument("--events", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--receiver", required=True)
    ap.add_argument("--durability", default="fsync")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--max-load", type=float, default=2.0)
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("--perf", action="store_true", help="one more run of --sigflow per level "
                    "under `perf record`, not counted: where its time goes")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    n = count_lines(a.events)
    recv_log = os.path.join(a.out, "received.ndjson")
    # The receiver: the C sink (tests/bench/http_sink.c --log) by default, or the Python test
    # receiver (tests/support/http_receiver.py), which costs more CPU per request.
    cmd = ["/usr/bin/python3"] if a.receiver.endswith(".py") else []
    recv = subprocess.Popen(cmd + [a.receiver, "--log", recv_log],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        recv_port = int(recv.stdout.readline())
        l0 = load1()
        print("bench run: %d events, %s; receiver %s; load before %.2f (NOT VALID above %.1f)"
              % (n, a.durability, os.path.basename(a.receiver), l0, a.max_load))
        for durability in a.durability.split():
            res = {"A": [], "B": []}
            for i in range(a.runs):
                r = one_run(a, a.sigflow, a.plugins, durability, recv_port, n, "A")
                show("A%d %s" % (i + 1, durability), r, n)
                res["A"].append(r)
                if a.baseline:
                    r = one_run(a, a.baseline, a.baseline_plugins or a.plugins, durability,
                                recv_port, n, "B")
                    show("B%d %s" % (i + 1, durability), r, n)
                    res["B"].append(r)
            med = lambda k, rs: statistics.median(x[k] for x in rs)
            A = res["A"]
            lags = [x["lag"] for x in A if x["lag"] is not None]
            print("run durability=%s median of %d: scored %.0f events/s (read+journal %.0f), "
                  "cpu %.2f us/event, alerts %d, delivered %d, lag after the last event %s, "
                  "peak RSS %.0f MB"
                  % (durability, len(A), n / med("scored", A), n / med("read", A),
                     med("cpu", A) * 1e6 / n, A[0]["alerts"], min(x["delivered"] for x in A),
                     "%.2fs (max %.2fs)" % (statistics.median(lags), max(lags)) if lags else "-",
                     max(x["rss_mb"] for x in A)))
            if a.baseline:
                B = res["B"]
                cpu = [x["cpu"] / y["cpu"] for x, y in zip(A, B)]
                sc = [x["scored"] / y["scored"] for x, y in zip(A, B)]
                print("  A/B (this build / baseline), pairwise median: cpu %.3f, scored wall %.3f;"
                      " baseline scored %.0f events/s, lag %s"
                      % (statistics.median(cpu), statistics.median(sc), n / med("scored", B),
                         "%.2fs" % statistics.median([x["lag"] for x in B if x["lag"] is not None])
                         if any(x["lag"] is not None for x in B) else "-"))
            if a.perf:
                data = os.path.join(a.out, "perf-%s.data" % durability)
                one_run(a, a.sigflow, a.plugins, durability, recv_port, n, "perf", data)
                perf_summary(data, durability)
            if durability == "fsync":
                eps_ok = n / med("scored", A) >= 300000
                lag_ok = bool(lags) and statistics.median(lags) <= 1.0
                print("  issue #14 target >= 300k events/s scored at fsync: %s (%.0f/s);"
                      " alerts within 1 s of the last event: %s (%s); load now %.2f"
                      % ("met" if eps_ok else "NOT MET", n / med("scored", A),
                         "met" if lag_ok else "NOT MET",
                         "%.2fs" % statistics.median(lags) if lags else "-", load1()))
        l1 = load1()
        valid = max(l0, l1) <= a.max_load
        print("bench run: load after %.2f; %s" % (
            l1, "VALID" if valid else "NOT VALID (1-minute load above %.1f: other work on "
            "the machine; read the A/B ratios, not the absolute figures)" % a.max_load))
    finally:
        recv.terminate()
        recv.wait()


if __name__ == "__main__":
    main()
