#!/usr/bin/env python3
"""A test API for sigflow's http_poll connector: three paging shapes over growing record lists.

Listens on 127.0.0.1 (port 0 = any free port) and prints the port as its first stdout line.
Each shape has its own list of records (ids 1, 2, ...), which grows by one record every
--add-every seconds until it holds --total (and starts with --initial):

  GET /zendesk/api/v2/incremental/tickets/cursor.json?cursor=C   Zendesk's cursor export:
      {"tickets": [...], "after_cursor": "...", "before_cursor": ..., "end_of_stream": bool}
      C empty is the start; after_cursor is opaque (base64 of the next index). Requires
      "Authorization: Bearer <--token>" (else 401, as Zendesk answers a missing token).
  GET /stripe/v1/customers?limit=N&starting_after=ID            Stripe's list endpoints:
      {"object": "list", "url": "/v1/customers", "data": [...], "has_more": bool}
      the records after the one whose id is ID (empty: from the first), oldest first.
  GET /hub/crm/v3/objects/contacts?after=N                      HubSpot-style next links:
      {"results": [...], "paging": {"next": {"after": "N", "link": "http://.../?after=N"}}}
      without "paging" on the last page for now.

Every response carries an ETag (a hash of its body); a matching If-None-Match gets 304.
Faults come on a fixed schedule of request numbers (per shape, counted from 1), so every run
meets each of them: 429 with Retry-After in seconds, 500, a hang of --hang seconds (longer
than the client's timeout) before answering, 503 with Retry-After as an HTTP date, 502.
--no-faults turns them off. Every request is appended to --log as one JSON line (time, shape,
path, status answered, fault, the headers that matter).
GET /_state returns {"shape": {"total": n, "done": bool}} for the test to know when the lists
stopped growing.
"""
import argparse
import base64
import email.utils
import hashlib
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

PAGE = 7
SHAPES = ("zendesk", "stripe", "hub")
# request number (mod CYCLE) -> fault
CYCLE = 23
FAULTS = {3: "429", 8: "500", 12: "hang", 17: "503date", 20: "502"}


class State:
    def __init__(self, args):
        self.lock = threading.Lock()
        self.args = args
        self.records = {s: [] for s in SHAPES}
        self.requests = {s: 0 for s in SHAPES}
        for s in SHAPES:
            for _ in range(args.initial):
                self.add(s)

    def add(self, shape):
        recs = self.records[shape]
        n = len(recs) + 1
        if shape == "zendesk":
            rec = {"id": n, "requester_id": 1000 + n % 5, "status": "open",
                   "subject": "ticket %d" % n,
                   "updated_at": "2026-11-01T%02d:%02d:00Z" % (n // 60 % 24, n % 60)}
        elif shape == "stripe":
            rec = {"id": "cus_%05d" % n, "object": "customer", "created": 1793491200 + 60 * n,
                   "email": "c%d@example.com" % n, "metadata": {"n": n}}
        else:
            rec = {"id": str(n), "properties": {"email": "h%d@example.com" % n,
                   "lastmodifieddate": "2026-11-01T00:%02d:%02d.000Z" % (n // 60 % 60, n % 60)},
                   "archived": False}
        recs.append(rec)

    def grow(self):
        while True:
            time.sleep(self.args.add_every)
            with self.lock:
                for s in SHAPES:
                    if len(self.records[s]) < self.args.total:
                        self.add(s)

    def log(self, entry):
        with self.lock:
            with open(self.args.log, "a", encoding="utf-8") as f:
                f.write(json.dumps(entry, sort_keys=True) + "\n")


def enc_cursor(i):
    return base64.urlsafe_b64encode(("pos:%d" % i).encode()).decode()


def dec_cursor(c):
    if not c:
        return 0
    return int(base64.urlsafe_b64decode(c.encode()).decode().split(":")[1])


def make_handler(state):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):
            pass

        def answer(self, status, body=b"", headers=None):
            try:
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except OSError:
                pass  # the client gave up (timeout): nothing to do

        def page(self, shape, q, recs):
            if shape == "zendesk":
                start = dec_cursor(q.get("cursor", [""])[0])
                items = recs[start:start + PAGE]
                nxt = start + len(items)
                return {"tickets": items, "after_cursor": enc_cursor(nxt),
                        "before_cursor": enc_cursor(start) if start else None,
                        "end_of_stream": nxt >= len(recs)}
            if shape == "stripe":
                after = q.get("starting_after", [""])[0]
                limit = int(q.get("limit", [str(PAGE)])[0])
                start = 0
                if after:
                    start = [r["id"] for r in recs].index(after) + 1
                items = recs[start:start + limit]
                return {"object": "list", "url": "/v1/customers", "data": items,
                        "has_more": start + len(items) < len(recs)}
            after = int(q.get("after", ["0"])[0])
            items = recs[after:after + PAGE]
            body = {"results": items}
            nxt = after + len(items)
            if nxt < len(recs):
                host = self.headers.get("Host")
                body["paging"] = {"next": {"after": str(nxt), "link":
                                  "http://%s/hub/crm/v3/objects/contacts?after=%d" % (host, nxt)}}
            return body

        def do_GET(self):
            u = urlsplit(self.path)
            if u.path == "/_state":
                with state.lock:
                    st = {s: {"total": len(state.records[s]),
                              "done": len(state.records[s]) >= state.args.total} for s in SHAPES}
                return self.answer(200, json.dumps(st).encode())
            shape = u.path.split("/")[1]
            if shape not in SHAPES:
                return self.answer(404, b'{"error":"not found"}')
            with state.lock:
                state.requests[shape] += 1
                n = state.requests[shape]
                recs = list(state.records[shape])
            fault = None if state.args.no_faults else FAULTS.get(n % CYCLE)
            entry = {"time": time.time(), "shape": shape, "path": self.path, "n": n,
                     "fault": fault, "auth": self.headers.get("Authorization"),
                     "accept": self.headers.get("Accept"),
                     "if_none_match": self.headers.get("If-None-Match")}
            status, body, hdrs = self.respond(shape, u, recs, fault)
            entry["status"] = status
            state.log(entry)
            self.answer(status, body, hdrs)

        def respond(self, shape, u, recs, fault):
            if shape == "zendesk" and self.headers.get("Authorization") != "Bearer " + state.args.token:
                return 401, b'{"error":"Couldn\'t authenticate you"}', {}
            if fault == "429":
                return 429, b'{"error":"rate limited"}', {"Retry-After": "1"}
            if fault == "503date":
                when = email.utils.formatdate(time.time() + 2, usegmt=True)
                return 503, b'{"error":"maintenance"}', {"Retry-After": when}
            if fault in ("500", "502"):
                return int(fault), b'{"error":"internal"}', {}
            if fault == "hang":
                time.sleep(state.args.hang)
            body = json.dumps(self.page(shape, parse_qs(u.query), recs)).encode()
            etag = '"%s"' % hashlib.sha256(body).hexdigest()[:16]
            if self.headers.get("If-None-Match") == etag:
                return 304, b"", {"ETag": etag}
            return 200, body, {"ETag": etag}

    return Handler


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--log", required=True)
    ap.add_argument("--initial", type=int, default=20)
    ap.add_argument("--total", type=int, default=200)
    ap.add_argument("--add-every", type=float, default=0.05)
    ap.add_argument("--hang", type=float, default=3.0)
    ap.add_argument("--token", default="zd-test-token")
    ap.add_argument("--no-faults", action="store_true")
    args = ap.parse_args()
    state = State(args)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(state))
    server.daemon_threads = True
    threading.Thread(target=state.grow, daemon=True).start()
    print(server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
