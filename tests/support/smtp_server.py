#!/usr/bin/env python3
"""A real SMTP server (aiosmtpd, Debian's python3-aiosmtpd) for sigflow's email tests.

Listens on 127.0.0.1 (port 0 = any free port), prints the port as its first stdout line,
writes every accepted message to --dir as NNN.eml (the bytes received) and appends one JSON
line per SMTP transaction to --log (mail_from, rcpt_tos, answer).

Recipients choose the answer, so a test can script failures per message:
  bounce@...   RCPT is answered 550 5.1.1 (a permanent failure)
  busy@...     RCPT is answered 451 4.3.0 the first --busy times for that address, then 250
anything else is accepted. Run it with /usr/bin/python3 (the Debian interpreter).
"""
import argparse
import asyncio
import json
import os
import socket
import sys
import threading

from aiosmtpd.controller import Controller


class Handler:
    def __init__(self, args):
        self.args = args
        self.busy_seen = {}
        self.count = 0
        self.lock = threading.Lock()

    def log(self, entry):
        with self.lock, open(self.args.log, "a", encoding="utf-8") as f:
            f.write(json.dumps(entry, sort_keys=True) + "\n")

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@", 1)[0].lower()
        if local == "bounce":
            self.log({"rcpt": address, "answer": 550})
            return "550 5.1.1 <%s>: no such mailbox here" % address
        if local == "busy":
            n = self.busy_seen.get(address, 0)
            self.busy_seen[address] = n + 1
            if n < self.args.busy:
                self.log({"rcpt": address, "answer": 451})
                return "451 4.3.0 mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.count += 1
            path = os.path.join(self.args.dir, "%03d.eml" % self.count)
        with open(path, "wb") as f:
            f.write(envelope.original_content or envelope.content)
        self.log({"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos,
                  "file": path, "answer": 250})
        return "250 Message accepted"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--busy", type=int, default=1)
    args = ap.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    port = args.port or free_port()
    ctl = Controller(Handler(args), hostname="127.0.0.1", port=port)
    ctl.start()
    print(port, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    ctl.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
