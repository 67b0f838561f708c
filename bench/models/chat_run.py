#!/usr/bin/env python3
"""Sends a list of chat messages to a running Todo Chat, one conversation,
one turn at a time, the way a person would, and records each turn: status,
who answered (`answered_by`), tool calls, model calls, tasks after, seconds.
Figures go to docs/models.md ("Measured here") and docs/benchmarks.md
("Hybrid on a realistic mix").

It only talks to loopback: the API (todo-api) and the worker's /metrics
(WORKER_METRICS_PORT), which it reads before and after each turn to count
the turn's model calls (`openai_requests_total`).

    python3 bench/models/chat_run.py --api http://127.0.0.1:8070 \
        --metrics http://127.0.0.1:9170/metrics --messages run-a --out /tmp/llama/runs/e

--messages: `run-a` (the ten messages of docs/models.md's Run A), `mix`
(a day's 30 messages: adds with dates, priorities and tags, lists,
completes by number and by words, renames, questions, small talk), or a
file with one message a line. Writes turns.jsonl (one line per turn, with
the tasks after it), messages.json (the conversation as stored), and prints
a Markdown table and a summary. Standard library only.
"""

import argparse
import json
import os
import statistics
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

RUN_A = [
    "add call mom tomorrow, high priority",
    "add buy milk",
    "what's still open?",
    "complete the call mom task",
    "rename buy milk to buy oat milk",
    "add pay rent on Friday, tag it bills",
    "what's still open?",
    "delete the buy oat milk task",
    "show my completed tasks",
    "thanks, that's all",
]

# A day of one user's messages, in the order they might come.
MIX = [
    "add call mom tomorrow at 6pm, high priority",
    "add buy milk, eggs and bread",
    "pay rent on friday #bills",
    "remind me to water the plants every monday",
    "dentist appointment next tuesday at 10am",
    "what's still open?",
    "done with 2",
    "I bought the eggs",
    "rename 4 to buy whole wheat bread",
    "add finish the quarterly report by thursday, urgent, tag work",
    "what do I have today?",
    "hey, how's it going?",
    "push the dentist to wednesday",
    "can you change pay rent to pay rent and utilities",
    "email Sarah about the offsite p2 #work",
    "what's urgent?",
    "called mom",
    "which of my tasks are overdue?",
    "thanks!",
    "add pick up dry cleaning tomorrow morning",
    "show #work",
    "how many tasks do I have left this week?",
    "delete the milk",
    "complete 9",
    "what should I focus on first?",
    "book flights for christmas by dec 15, high priority",
    "move the report to monday",
    "what's still open?",
    "cool, thanks for the help",
    "good night",
]

LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")


def loopback_only(url):
    host = urllib.parse.urlsplit(url).hostname
    if host not in LOOPBACK and not (host or "").startswith("127."):
        sys.exit(f"refusing {url}: this script talks to loopback only")
    return url.rstrip("/")


def request(method, url, body=None, token=None, headers=None, timeout=120):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", f"Bearer {token}")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            raw = resp.read()
            return resp.status, dict(resp.headers), (json.loads(raw) if raw else None)
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            payload = json.loads(raw)
        except ValueError:
            payload = raw.decode(errors="replace")
        return e.code, dict(e.headers), payload


def model_counters(metrics_url):
    """openai_requests_total (all labels) and turns_answered_total{by}."""
    if not metrics_url:
        return {}
    with urllib.request.urlopen(metrics_url, timeout=10) as resp:
        text = resp.read().decode()
    out = {"model_requests": 0.0}
    for line in text.splitlines():
        if line.startswith("openai_requests_total"):
            out["model_requests"] += float(line.rsplit(" ", 1)[1])
        elif line.startswith("turns_answered_total"):
            by = line.split('by="', 1)[1].split('"', 1)[0]
            out[f"answered_{by}"] = float(line.rsplit(" ", 1)[1])
    return out


def tasks_now(api, me, token):
    status, _, body = request("GET", f"{api}/api/{me}/tasks?status=all&sort=created&limit=200", token=token)
    if status != 200:
        return [f"GET /tasks: {status}"]
    rows = []
    for t in body["tasks"]:
        row = {"id": t["id"], "title": t["title"], "completed": t.get("completed")}
        for key in ("due_date", "due_at", "priority", "tags"):
            if t.get(key):
                row[key] = t[key]
        if t.get("recurrence"):
            row["recurrence"] = t["recurrence"].get("text") or t["recurrence"].get("rrule")
        rows.append(row)
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--api", default="http://127.0.0.1:8070")
    ap.add_argument("--metrics", default="", help="the worker's /metrics URL")
    ap.add_argument("--messages", default="run-a", help="run-a, mix, or a file")
    ap.add_argument("--out", required=True, help="a folder for the raw records")
    ap.add_argument("--time-zone", default="UTC")
    ap.add_argument("--wait", type=int, default=60, help="Prefer: wait=N")
    ap.add_argument("--turn-timeout", type=float, default=900, help="seconds before a turn is given up on")
    args = ap.parse_args()

    api = loopback_only(args.api)
    metrics = loopback_only(args.metrics) if args.metrics else ""
    messages = {"run-a": RUN_A, "mix": MIX}.get(args.messages)
    if messages is None:
        with open(args.messages) as f:
            messages = [line.strip() for line in f if line.strip() and not line.startswith("#")]
    os.makedirs(args.out, exist_ok=True)

    email = f"models-{uuid.uuid4().hex[:10]}@example.com"
    status, _, body = request("POST", f"{api}/api/auth/signup",
                              {"email": email, "password": "correct horse battery", "time_zone": args.time_zone})
    if status != 201:
        sys.exit(f"signup: {status} {body}")
    token, me = body["token"], body["user"]["id"]

    conversation = None
    turns = []
    log = open(os.path.join(args.out, "turns.jsonl"), "w")
    for n, text in enumerate(messages, 1):
        before = model_counters(metrics)
        payload = {"message": text}
        if conversation:
            payload["conversation_id"] = conversation
        key = uuid.uuid4().hex
        started = time.monotonic()
        while True:
            status, headers, turn = request("POST", f"{api}/api/{me}/chat", payload, token,
                                            {"prefer": f"wait={args.wait}", "idempotency-key": key},
                                            timeout=args.wait + 30)
            if status == 429:  # CHAT_RATE_LIMIT_PER_MINUTE: wait as told, not counted in the turn
                pause = float(headers.get("Retry-After") or headers.get("retry-after") or 5)
                time.sleep(pause)
                started += pause
                continue
            break
        if status not in (200, 202):
            sys.exit(f"turn {n}: POST /chat {status} {turn}")
        conversation = turn["conversation_id"]
        while turn["status"] not in ("completed", "failed"):
            if time.monotonic() - started > args.turn_timeout:
                break
            time.sleep(0.5)
            status, _, turn = request("GET", f"{api}/api/{me}/chat/{turn['message_id']}", token=token)
        seconds = time.monotonic() - started
        after = model_counters(metrics)
        meta = turn.get("metadata") or {}
        record = {
            "n": n,
            "message": text,
            "status": turn["status"],
            "seconds": round(seconds, 2),
            "answered_by": meta.get("answered_by"),
            "rounds": meta.get("rounds"),
            "wrapped_up": meta.get("wrapped_up", False),
            "model_calls": (round(after["model_requests"] - before["model_requests"])
                            if metrics else None),
            "tool_calls": [{"name": c["name"], "arguments": c.get("arguments"), "result": c.get("result")}
                           for c in turn.get("tool_calls") or []],
            "response": turn.get("response"),
            "error": turn.get("error"),
            "tasks_after": tasks_now(api, me, token),
        }
        turns.append(record)
        log.write(json.dumps(record) + "\n")
        log.flush()
        print(f"[{n}] {record['status']} {record['answered_by']} {record['seconds']} s, "
              f"{record['model_calls']} model calls: {text}", file=sys.stderr)

    _, _, stored = request("GET", f"{api}/api/{me}/conversations/{conversation}/messages?limit=500", token=token)
    with open(os.path.join(args.out, "messages.json"), "w") as f:
        json.dump(stored, f, indent=1)
    # Cross-check answered_by against the stored final messages.
    finals = [m for m in (stored or {}).get("messages", []) if m.get("is_final")]
    by_final = [(m.get("metadata") or {}).get("answered_by") for m in finals]

    print("| # | message | status | by | model calls | tool calls | tasks after (open/done) | seconds |")
    print("|---|---|---|---|---|---|---|---|")
    for r in turns:
        calls = ", ".join(c["name"] for c in r["tool_calls"]) or "none"
        tasks = r["tasks_after"]
        done = sum(1 for t in tasks if isinstance(t, dict) and t.get("completed"))
        print(f"| {r['n']} | {r['message']} | {r['status']} | {r['answered_by']} | {r['model_calls']} "
              f"| {calls} | {len(tasks) - done}/{done} | {r['seconds']} |")

    def stats(rows):
        s = [r["seconds"] for r in rows]
        if not s:
            return "none"
        return (f"{len(s)} turns, p50 {statistics.median(s):.2f} s, max {max(s):.2f} s, "
                f"total {sum(s):.1f} s")

    offline = [r for r in turns if r["answered_by"] == "offline"]
    model = [r for r in turns if r["answered_by"] == "model"]
    print()
    print(f"all: {stats(turns)}")
    print(f"answered offline: {stats(offline)}")
    print(f"answered by the model: {stats(model)}")
    if metrics:
        print(f"model calls: {sum(r['model_calls'] for r in turns)}")
    print(f"failed turns: {sum(1 for r in turns if r['status'] != 'completed')}")
    print(f"answered_by of the stored final messages: {by_final}")
    print(f"raw: {args.out}/turns.jsonl, {args.out}/messages.json")


if __name__ == "__main__":
    main()
