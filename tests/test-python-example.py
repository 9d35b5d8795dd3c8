#!/usr/bin/env python3
"""Runs examples/python/echo-bot.py, the library embedded through
GObject introspection, and talks to it as a native client.

Exit 77 (skipped) without PyGObject or websocket-client.
"""
import json
import os
import signal
import subprocess
import sys

try:
    import gi  # noqa: F401
    import websocket
except ImportError as error:
    print(f"SKIP: {error.name} is not installed (./run.sh test installs it)")
    sys.exit(77)

example = sys.argv[1]
process = subprocess.Popen([sys.executable, example, "--port", "0"],
                           stdout=subprocess.PIPE, text=True)
try:
    line = process.stdout.readline()
    assert "listening on " in line, f"unexpected first line: {line!r}"
    url = line.split("listening on ")[1].strip()

    ws = websocket.create_connection(url, timeout=10)
    welcome = json.loads(ws.recv())
    assert welcome["type"] == "welcome", welcome

    ws.send(json.dumps({"type": "message", "to": "bot", "data": {"echo": [1, "two"]}}))
    reply = json.loads(ws.recv())
    assert reply == {"type": "message", "to": welcome["id"], "data": {"echo": [1, "two"]}, "from": "bot"}, reply

    # What is not for the bot goes through the server as usual.
    ws.send(json.dumps({"type": "message", "to": "nobody", "data": 1, "rid": "r"}))
    error = json.loads(ws.recv())
    assert error["type"] == "error" and error["code"] == "unknown-target" and error["rid"] == "r", error

    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=10) == 0
    print("ok")
finally:
    if process.poll() is None:
        process.kill()
