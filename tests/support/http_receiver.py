#!/usr/bin/env python3
"""A test HTTP receiver for sigflow's delivery tests (webhook plugin, outage and kill -9 tests).

Listens on 127.0.0.1 (port 0 = any free port), prints the port as its first stdout line, and
appends every request as one JSON line (method, path, headers, body, time, mode answered,
signature check) to --log. Behaviour is switched with flags at start or at run time by a
POST to /_control with a JSON body, e.g. {"mode": "refuse", "status": 503, "retry_after": "7"}:

  ok                    answer 200 (default)
  refuse                answer --status (default 503) with Retry-After when given
  stall                 sleep --stall seconds (longer than the client's timeout), then 200
  crash                 exit the process at once without answering (os._exit)

"count": N (or --count N) applies the mode to the next N deliveries only, then goes back to
ok (e.g. two 503s, then success). "clear": true forgets the requests recorded so far.

With --secret the X-Sigflow-Signature header (t=<unix>,v1=<hex hmac-sha256(secret, "t.body")>)
is verified and "signature_ok" recorded (true/false; null when the header is absent).
GET /_requests returns the log so far as a JSON array; /_control requests are not logged.
"""
import argparse
import hashlib
import hmac
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 1 << 20


class State:
    def __init__(self, args):
        self.lock = threading.Lock()
        self.mode = args.mode
        self.status = args.status
        self.retry_after = args.retry_after
        self.stall = args.stall
        self.body = args.body
        self.count = args.count  # deliveries left in the mode; -1: no limit
        self.secret = args.secret.encode() if args.secret else None
        self.log_path = args.log
        self.requests = []

    def record(self, entry):
        line = json.dumps(entry, sort_keys=True)
        with self.lock:
            self.requests.append(entry)
            if self.log_path:
                with open(self.log_path, "a", encoding="utf-8") as f:
                    f.write(line + "\n")  # flushed at close: readers see whole lines


def verify_signature(secret, header, body):
    if header is None:
        return None
    try:
        parts = dict(p.split("=", 1) for p in header.split(","))
        msg = parts["t"].encode() + b"." + body
        want = hmac.new(secret, msg, hashlib.sha256).hexdigest()
        return hmac.compare_digest(want, parts["v1"])
    except (KeyError, ValueError):
        return False


def make_handler(state):
    class Handler(BaseHTTPRequestHandler):
        disable_nagle_algorithm = True  # headers and body go out in separate writes
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):  # keep test output quiet
            pass

        def read_body(self):
            n = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(min(n, MAX_BODY)) if n > 0 else b""

        def answer(self, status, body=b"", headers=None):
            self.send_response(status)
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def control(self, body):
            try:
                c = json.loads(body or b"{}")
            except ValueError:
                return self.answer(400, b"bad control json")
            with state.lock:
                state.mode = c.get("mode", state.mode)
                state.status = int(c.get("status", state.status))
                state.retry_after = c.get("retry_after", state.retry_after)
                state.stall = float(c.get("stall", state.stall))
                state.body = c.get("body", state.body)
                state.count = int(c.get("count", -1))
                if c.get("clear"):
                    state.requests = []
            return self.answer(200, b"ok")

        def do_GET(self):
            if self.path == "/_requests":
                with state.lock:
                    data = json.dumps(state.requests).encode()
                return self.answer(200, data)
            return self.handle_delivery(b"")

        def do_POST(self):
            body = self.read_body()
            if self.path == "/_control":
                return self.control(body)
            return self.handle_delivery(body)

        def handle_delivery(self, body):
            with state.lock:
                mode, status = state.mode, state.status
                retry_after, stall, text = state.retry_after, state.stall, state.body
                if state.count == 0:
                    mode = state.mode = "ok"
                if state.count > 0:
                    state.count -= 1
            entry = {
                "time": time.time(),
                "method": self.command,
                "path": self.path,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": body.decode("utf-8", "replace"),
                "mode": mode,
            }
            if state.secret is not None:
                entry["signature_ok"] = verify_signature(
                    state.secret, self.headers.get("X-Sigflow-Signature"), body)
            if mode == "crash":
                state.record(entry)
                os._exit(3)
            if mode == "stall":
                time.sleep(stall)
            state.record(entry)
            if mode == "refuse":
                hdrs = {"Retry-After": str(retry_after)} if retry_after else {}
                return self.answer(status, (text or "refused").encode(), hdrs)
            return self.answer(200, (text or "ok").encode())

    return Handler


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--log", help="NDJSON file every request is appended to")
    ap.add_argument("--mode", choices=["ok", "refuse", "stall", "crash"], default="ok")
    ap.add_argument("--status", type=int, default=503)
    ap.add_argument("--retry-after", default="")
    ap.add_argument("--stall", type=float, default=30.0)
    ap.add_argument("--body", default="", help="response body text")
    ap.add_argument("--count", type=int, default=-1,
                    help="apply --mode to this many deliveries, then answer ok")
    ap.add_argument("--secret", help="verify X-Sigflow-Signature with this key")
    args = ap.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(State(args)))
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
