#!/usr/bin/env python3
"""HTTP clients for the ingest reliability tests (tests/integration/test_ingest_*.sh).

  flood PORT PATH OUT [--threads N] [--seconds S] [--prefix P]
      N keep-alive senders POST one event each ({"id", "c", "t", "ts"}) with unique ids until
      S seconds passed or the daemon is gone; OUT gets one line per request: "STATUS ID"
      (STATUS "error" when the connection failed).
  burst PORT PATH OUT --n N [--prefix P] [--sent FILE]
      N requests sent at once, each on its own connection; OUT: "STATUS ID SECONDS" lines;
      FILE (if given) is created once every request is written to its socket.
  abandon PORT PATH OUT [--threads N] [--seconds S] [--prefix P]
      N senders; each takes turns: two keep-alive POSTs read to their answer ("STATUS ID"),
      one POST on a new connection reset (RST) right after it was sent, one closed after a
      random 0-5 ms without reading the answer ("abandoned ID"), one whose body stops half-way
      before the close ("partial ID": never complete, so never stored).
  hangup PORT PATH OUT --conns N [--source ADDR] [--every S] [--prefix P]
      N connections from ADDR, one every S seconds, that each send a request's headers and
      half its body and close at once, usually before the server reads them (libmicrohttpd 0.9.75 then misses the close:
      its short read clears the read readiness, connection.c:364, and the close came with
      the data, so no edge follows; the server keeps such a connection until its idle timeout).
      OUT gets "partial ID" for each (never stored).
  slow HOST PORT OUT --conns N [--source ADDR] [--every S] [--seconds S]
      N connections from ADDR that send one header byte every S seconds and never finish;
      OUT: "accepted N closed M early E": connections made, closed by the server before the
      run ended, and of those closed within 2 s (refused by a connection cap, not timed out).
Loopback only; every run is bounded by its arguments.
"""
import argparse
import http.client
import json
import random
import socket
import struct
import sys
import threading
import time


def event(i):
    return json.dumps({"id": i, "c": "cust-" + i[-1], "t": "login", "ts": 1793491200})


def run_threads(fn, n, out):
    """Run fn(0..n-1) on n threads, wait for all of them, then close their shared output."""
    ts = [threading.Thread(target=fn, args=(k,)) for k in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    out.close()


def flood(a):
    stop = time.monotonic() + a.seconds
    lock = threading.Lock()
    out = open(a.out, "w", buffering=1)  # line by line: a test watches it grow

    def sender(k):
        conn, n, errors = None, 0, 0
        while time.monotonic() < stop and errors < 50:
            i = "%s-%d-%d" % (a.prefix, k, n)
            n += 1
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", a.port, timeout=30)
                conn.request("POST", a.path, event(i), {"Content-Type": "application/json"})
                r = conn.getresponse()
                r.read()
                st = str(r.status)
                errors = 0
                if r.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException):
                st = "error"
                errors += 1
                if conn:
                    conn.close()
                conn = None
                time.sleep(0.01)
            with lock:
                out.write("%s %s\n" % (st, i))

    run_threads(sender, a.threads, out)


def burst(a):
    lines, lock = [], threading.Lock()
    go = threading.Event()
    sent = [0]

    def written():
        with lock:
            sent[0] += 1
            if sent[0] == a.n and a.sent:
                open(a.sent, "w").close()

    def one(k):
        i = "%s-%d" % (a.prefix, k)
        try:
            conn = http.client.HTTPConnection("127.0.0.1", a.port, timeout=60)
            conn.connect()
            go.wait()
            t0 = time.monotonic()
            conn.request("POST", a.path, event(i), {"Content-Type": "application/json"})
            written()
            r = conn.getresponse()
            r.read()
            st = "%d" % r.status
            retry = r.getheader("Retry-After")
            if r.status == 503 and not retry:
                st = "503-without-retry-after"
        except (OSError, http.client.HTTPException):
            st, t0 = "error", time.monotonic()
        with lock:
            lines.append("%s %s %.3f" % (st, i, time.monotonic() - t0))

    ts = [threading.Thread(target=one, args=(k,)) for k in range(a.n)]
    for t in ts:
        t.start()
    time.sleep(0.5)  # every connection is open: send them together
    go.set()
    for t in ts:
        t.join()
    with open(a.out, "w") as f:
        f.write("".join(l + "\n" for l in lines))


def abandon(a):
    stop = time.monotonic() + a.seconds
    lock = threading.Lock()
    out = open(a.out, "w", buffering=1)

    def raw(i, cut):
        body = event(i).encode()
        head = ("POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                "Content-Length: %d\r\n\r\n" % (a.path, len(body))).encode()
        s = socket.create_connection(("127.0.0.1", a.port), timeout=10)
        try:
            if cut == "partial":
                s.sendall(head + body[: len(body) // 2])
                time.sleep(random.uniform(0, 0.002))
            elif cut == "reset":
                s.sendall(head + body)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            else:
                s.sendall(head + body)
                time.sleep(random.uniform(0, 0.005))
        finally:
            s.close()

    def sender(k):
        conn, n = None, 0
        while time.monotonic() < stop:
            i = "%s-%d-%d" % (a.prefix, k, n)
            turn = n % 5
            n += 1
            if turn >= 2:
                cut = ("reset", "close", "partial")[turn - 2]
                try:
                    raw(i, cut)
                    st = "partial" if cut == "partial" else "abandoned"
                except OSError:
                    st = "error"
                with lock:
                    out.write("%s %s\n" % (st, i))
                continue
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", a.port, timeout=30)
                conn.request("POST", a.path, event(i), {"Content-Type": "application/json"})
                r = conn.getresponse()
                r.read()
                st = str(r.status)
                if r.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException):
                st = "error"
                if conn:
                    conn.close()
                conn = None
                time.sleep(0.01)
            with lock:
                out.write("%s %s\n" % (st, i))

    run_threads(sender, a.threads, out)


def hangup(a):
    ids = []
    for k in range(a.conns):
        i = "%s-%d" % (a.prefix, k)
        body = event(i).encode()
        head = ("POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                "Content-Length: %d\r\n\r\n" % (a.path, len(body))).encode()
        s = socket.socket()
        s.settimeout(2)
        try:
            s.bind((a.source, 0))
            s.connect(("127.0.0.1", a.port))
            s.sendall(head + body[: len(body) // 2])
            ids.append(i)
        except OSError:
            pass
        s.close()
        time.sleep(a.every)
    with open(a.out, "w") as f:
        f.write("".join("partial %s\n" % i for i in ids))


def slow(a):
    socks = []
    for _ in range(a.conns):
        s = socket.socket()
        s.settimeout(2)
        try:
            s.bind((a.source, 0))
            s.connect((a.host, a.port))
            s.sendall(b"P")
            socks.append(s)
        except OSError:
            s.close()
    accepted = len(socks)
    text = b"OST / HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 4096
    closed, pos, early = set(), 0, 0
    t0 = time.monotonic()
    stop = t0 + a.seconds
    while time.monotonic() < stop and len(closed) < accepted:
        for k, s in enumerate(socks):
            if k in closed:
                continue
            try:
                s.sendall(text[pos % len(text):pos % len(text) + 1])
                s.setblocking(False)
                try:
                    gone = s.recv(4096) == b""
                except BlockingIOError:
                    gone = False
                s.settimeout(2)
            except OSError:
                gone = True
            if gone:
                closed.add(k)
                early += time.monotonic() - t0 < 2
        pos += 1
        time.sleep(a.every)
    for s in socks:
        s.close()
    with open(a.out, "w") as f:
        f.write("accepted %d closed %d early %d\n" % (accepted, len(closed), early))


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)

    def mode(name, prefix):
        """A mode that posts to PORT PATH and writes OUT."""
        m = sub.add_parser(name)
        m.add_argument("port", type=int)
        m.add_argument("path")
        m.add_argument("out")
        m.add_argument("--prefix", default=prefix)
        return m
    f = mode("flood", "e")
    f.add_argument("--threads", type=int, default=4)
    f.add_argument("--seconds", type=float, default=10)
    b = mode("burst", "b")
    b.add_argument("--n", type=int, default=100)
    b.add_argument("--sent")
    ab = mode("abandon", "a")
    ab.add_argument("--threads", type=int, default=16)
    ab.add_argument("--seconds", type=float, default=5)
    h = mode("hangup", "h")
    h.add_argument("--conns", type=int, default=20)
    h.add_argument("--source", default="127.0.0.1")
    h.add_argument("--every", type=float, default=0)
    s = sub.add_parser("slow")
    s.add_argument("host")
    s.add_argument("port", type=int)
    s.add_argument("out")
    s.add_argument("--conns", type=int, default=100)
    s.add_argument("--source", default="127.0.0.2")
    s.add_argument("--every", type=float, default=1.0)
    s.add_argument("--seconds", type=float, default=30)
    a = p.parse_args()
    {"flood": flood, "burst": burst, "abandon": abandon, "hangup": hangup, "slow": slow}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
