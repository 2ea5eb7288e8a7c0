#!/usr/bin/env python3
"""A local Slack-compatible incoming webhook for sigflow's slack delivery tests.

Listens on 127.0.0.1 (port 0 = any free port), prints the port as its first stdout line and
appends every POST as one JSON line to --log: path, headers, body, the answer given, and
"errors", the Block Kit problems found in the body (empty when it is valid).

Every body is checked structurally as Slack documents Block Kit for incoming webhooks:
a non-empty "text" fallback; "blocks" a list of at most 50; header blocks with plain_text of
at most 150 characters; section blocks with mrkdwn/plain_text text of at most 3000
characters or at most 10 fields of at most 2000; actions blocks with at most 25 elements,
buttons with plain_text of at most 75 characters and an http(s) url of at most 3000. A body
with problems is answered like Slack does: 400 "invalid_blocks".

--script answers the first POSTs in order, then 200 "ok": a comma-separated list of
STATUS, STATUS/RETRY_AFTER_SECONDS or STATUS=BODY, e.g. "429/1,500,200" or "404=no_service".
"""
import argparse
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 1 << 20


def text_obj(obj, where, limit, errors, kinds=("plain_text", "mrkdwn")):
    if not isinstance(obj, dict) or obj.get("type") not in kinds:
        errors.append(f"{where}: text object type not in {kinds}")
        return
    t = obj.get("text")
    if not isinstance(t, str) or not t:
        errors.append(f"{where}: empty text")
    elif len(t) > limit:
        errors.append(f"{where}: {len(t)} characters, limit {limit}")


def check_block(i, b, errors):
    kind = b.get("type") if isinstance(b, dict) else None
    where = f"blocks[{i}] ({kind})"
    if kind == "header":
        text_obj(b.get("text"), where, 150, errors, ("plain_text",))
    elif kind == "section":
        if "text" not in b and "fields" not in b:
            errors.append(f"{where}: neither text nor fields")
        if "text" in b:
            text_obj(b["text"], where, 3000, errors)
        fields = b.get("fields", [])
        if not isinstance(fields, list) or len(fields) > 10:
            errors.append(f"{where}: more than 10 fields")
        for k, f in enumerate(fields if isinstance(fields, list) else []):
            text_obj(f, f"{where}.fields[{k}]", 2000, errors)
    elif kind == "actions":
        els = b.get("elements")
        if not isinstance(els, list) or not 1 <= len(els) <= 25:
            errors.append(f"{where}: 1 to 25 elements expected")
            return
        for k, e in enumerate(els):
            if e.get("type") != "button":
                errors.append(f"{where}.elements[{k}]: not a button")
                continue
            text_obj(e.get("text"), f"{where}.elements[{k}]", 75, errors, ("plain_text",))
            url = e.get("url", "")
            if not (url.startswith("http://") or url.startswith("https://")) or len(url) > 3000:
                errors.append(f"{where}.elements[{k}]: bad url {url[:80]!r}")
    elif kind not in ("context", "divider"):
        errors.append(f"{where}: unknown block type")


def check_message(body):
    errors = []
    try:
        m = json.loads(body)
    except ValueError as e:
        return [f"not JSON: {e}"]
    if not isinstance(m, dict):
        return ["not an object"]
    if not isinstance(m.get("text"), str) or not m["text"]:
        errors.append("no text fallback")
    blocks = m.get("blocks")
    if not isinstance(blocks, list) or not blocks:
        return errors + ["no blocks"]
    if len(blocks) > 50:
        errors.append(f"{len(blocks)} blocks, limit 50")
    for i, b in enumerate(blocks):
        check_block(i, b, errors)
    return errors


def parse_script(text):
    steps = []
    for item in filter(None, (s.strip() for s in (text or "").split(","))):
        body, retry = "", ""
        if "=" in item:
            item, body = item.split("=", 1)
        if "/" in item:
            item, retry = item.split("/", 1)
        steps.append((int(item), retry, body))
    return steps


def make_handler(args):
    lock = threading.Lock()
    script = parse_script(args.script)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *a):
            pass

        def answer(self, status, text, retry_after=""):
            data = text.encode()
            self.send_response(status)
            if retry_after:
                self.send_header("Retry-After", retry_after)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self):
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(min(n, MAX_BODY)) if n > 0 else b""
            errors = check_message(body)
            with lock:
                status, retry, text = script.pop(0) if script else (200, "", "")
            if errors and status == 200:
                status, text = 400, "invalid_blocks"
            text = text or ("ok" if status == 200 else "error")
            entry = {"time": time.time(), "path": self.path,
                     "headers": {k.lower(): v for k, v in self.headers.items()},
                     "body": body.decode("utf-8", "replace"), "errors": errors,
                     "status": status, "retry_after": retry}
            with lock:
                with open(args.log, "a", encoding="utf-8") as f:
                    f.write(json.dumps(entry, sort_keys=True) + "\n")
            self.answer(status, text, retry)

    return Handler


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--log", required=True)
    ap.add_argument("--script", default="")
    args = ap.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(args))
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
