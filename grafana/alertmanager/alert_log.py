#!/usr/bin/env python3
"""A webhook receiver for Alertmanager that works without internet access.

POST /alerts: Alertmanager's webhook payload; prints one JSON line per alert
(status, name, severity, instance, summary, action, startsAt) to stdout and,
with ALERT_LOG_FILE set, appends it to that file. GET /health: 200 "ok".
Standard library only, so it runs in python:3-slim (docker-compose) or with
Debian's python3 (the end-to-end check in docs/runbook.md).
"""
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOG_FILE = os.environ.get("ALERT_LOG_FILE")
PORT = int(os.environ.get("ALERT_LOG_PORT", "9095"))


def line_for(alert, status):
    labels = alert.get("labels", {})
    notes = alert.get("annotations", {})
    return json.dumps(
        {
            "status": alert.get("status", status),
            "alertname": labels.get("alertname"),
            "severity": labels.get("severity"),
            "job": labels.get("job"),
            "instance": labels.get("instance"),
            "summary": notes.get("summary"),
            "action": notes.get("action"),
            "startsAt": alert.get("startsAt"),
            "endsAt": alert.get("endsAt"),
        }
    )


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/health":
            self.reply(200, b"ok\n")
        else:
            self.reply(404, b"not found\n")

    def do_POST(self):
        if self.path != "/alerts":
            self.reply(404, b"not found\n")
            return
        length = int(self.headers.get("content-length", "0"))
        try:
            payload = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            self.reply(400, b"expected JSON\n")
            return
        lines = [line_for(a, payload.get("status")) for a in payload.get("alerts", [])]
        for line in lines:
            print(line, flush=True)
        if LOG_FILE and lines:
            with open(LOG_FILE, "a", encoding="utf-8") as f:
                f.write("".join(l + "\n" for l in lines))
        self.reply(200, b"ok\n")

    def reply(self, status, body):
        self.send_response(status)
        self.send_header("content-type", "text/plain")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass  # one line per alert, not per request


if __name__ == "__main__":
    print(f"alert-log listening on :{PORT}", file=sys.stderr, flush=True)
    ThreadingHTTPServer(("0.0.0.0", PORT), Handler).serve_forever()
