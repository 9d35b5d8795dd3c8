#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""/metrics of a real signalbox, read over loopback (TAP):
 - `promtool check metrics` (Debian's prometheus) accepts the live
   exposition, before and after traffic;
 - the values move with real native WebSocket peers: connections,
   clients, rooms, relayed messages by kind and bytes, rejections by
   reason; and they agree with /healthz; Socket.IO peers (python-socketio)
   are counted by transport;
 - only --metrics-allow addresses are served (default loopback), others
   get 403.
"""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import socketio  # python3-socketio
import websocket  # python3-websocket

SIGNALBOX = os.environ["SIGNALBOX_BIN"]
TIMEOUT = 10
results = []


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Daemon:
    def __init__(self, *args):
        self.port = free_port()
        self.process = subprocess.Popen(
            [SIGNALBOX, "--no-dbus", "--port", str(self.port), *args],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + TIMEOUT
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError("signalbox did not start: " + self.process.stderr.read().decode())
                time.sleep(0.05)

    def get(self, path, host="127.0.0.1"):
        """(status, body) of a GET."""
        url = f"http://{host}:{self.port}{path}"
        try:
            with urllib.request.urlopen(url, timeout=TIMEOUT) as response:
                return response.status, response.read().decode(), response.headers
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(), error.headers

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=TIMEOUT)


def samples(text):
    """{'name{labels}': value} of an exposition."""
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, value = line.rsplit(" ", 1)
            values[key] = float(value)
    return values


def check(ok, description, details=""):
    results.append((bool(ok), description, details))


def promtool(text, when):
    tool = shutil.which("promtool")
    if tool is None:
        results.append((None, f"promtool check metrics ({when})",
                        "SKIP promtool is not installed (Debian prometheus; ./run.sh test installs it)"))
        return
    run = subprocess.run([tool, "check", "metrics"], input=text, capture_output=True, text=True)
    check(run.returncode == 0, f"promtool check metrics accepts the exposition ({when})",
          run.stdout + run.stderr)


class Peer:
    def __init__(self, daemon):
        self.ws = websocket.create_connection(f"ws://127.0.0.1:{daemon.port}/ws", timeout=TIMEOUT)
        self.id = self.receive("welcome")["id"]

    def send(self, message):
        self.ws.send(json.dumps(message))

    def receive(self, kind):
        while True:
            message = json.loads(self.ws.recv())
            if message["type"] == kind:
                return message


def test_traffic():
    daemon = Daemon()
    try:
        status, before_text, headers = daemon.get("/metrics")
        check(status == 200, "/metrics answers a loopback peer by default", f"status {status}")
        check(headers.get("Content-Type", "").startswith("text/plain; version=0.0.4"),
              "the content type is Prometheus text 0.0.4", headers.get("Content-Type", ""))
        promtool(before_text, "idle")
        before = samples(before_text)
        check(before.get('signalbox_build_info{version="%s"}' % version(), 0) == 1,
              "signalbox_build_info carries the version", before_text[:2000])
        for series in ("process_cpu_seconds_total", "process_resident_memory_bytes",
                       "process_open_fds", "process_start_time_seconds"):
            check(before.get(series, 0) > 0, f"{series} is there and positive")
        start = before.get("process_start_time_seconds", 0)
        check(abs(start - time.time()) < 120, "process_start_time_seconds is about now", str(start))

        a, b = Peer(daemon), Peer(daemon)
        a.send({"type": "join", "room": "metrics"})
        a.receive("joined")
        b.send({"type": "join", "room": "metrics"})
        b.receive("joined")
        a.send({"type": "offer", "to": b.id, "sdp": "v=0 offer"})
        b.receive("offer")
        b.send({"type": "answer", "to": "metrics", "sdp": "v=0 answer"})
        a.receive("answer")
        a.send({"type": "offer", "to": "nobody-here", "sdp": "x"})
        a.receive("error")
        a.ws.send("{not json")
        a.receive("error")

        status, during_text, _ = daemon.get("/metrics")
        promtool(during_text, "with two peers")
        during = samples(during_text)
        health = json.loads(daemon.get("/healthz")[1])

        def moved(key, expected):
            got = during.get(key, 0) - before.get(key, 0)
            check(got == expected, f"{key} moved by {expected}", f"moved by {got}")

        moved('signalbox_connections_total{protocol="native"}', 2)
        moved('signalbox_clients{protocol="native",transport="websocket"}', 2)
        moved("signalbox_rooms", 1)
        moved('signalbox_messages_relayed_total{kind="offer"}', 1)
        moved('signalbox_messages_relayed_total{kind="answer"}', 1)
        moved('signalbox_messages_relayed_total{kind="join"}', 1)  # b's join, told to a
        moved('signalbox_messages_rejected_total{reason="unknown-target"}', 1)
        moved('signalbox_messages_rejected_total{reason="bad-json"}', 1)
        moved('signalbox_connections_total{protocol="socket.io"}', 0)
        bytes_moved = during["signalbox_relayed_bytes_total"] - before["signalbox_relayed_bytes_total"]
        check(bytes_moved > len("v=0 offer") + len("v=0 answer"),
              "signalbox_relayed_bytes_total grew by at least the SDPs", str(bytes_moved))
        check(during['signalbox_clients{protocol="native",transport="websocket"}'] == health["clients"]
              and during["signalbox_rooms"] == health["rooms"],
              "/metrics and /healthz agree", f"{health}")
        check(during["process_open_fds"] >= before["process_open_fds"] + 2,
              "process_open_fds counts the peers' sockets",
              f'{before["process_open_fds"]} then {during["process_open_fds"]}')
        check(not re.search(re.escape(a.id) + "|" + re.escape(b.id), during_text),
              "no series names a peer")

        a.ws.close()
        b.ws.close()
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            after = samples(daemon.get("/metrics")[1])
            if after['signalbox_clients{protocol="native",transport="websocket"}'] == 0:
                break
            time.sleep(0.05)
        check(after['signalbox_clients{protocol="native",transport="websocket"}'] == 0
              and after["signalbox_rooms"] == 0
              and after['signalbox_connections_total{protocol="native"}'] == during['signalbox_connections_total{protocol="native"}'],
              "gauges fall back when the peers leave, counters stay", str(after))
    finally:
        daemon.stop()


def test_socketio():
    """Socket.IO peers are counted by protocol and by transport."""
    daemon = Daemon()
    clients = []
    try:
        before = samples(daemon.get("/metrics")[1])
        for transports in (["websocket"], ["polling"]):
            client = socketio.Client(reconnection=False)
            client.connect(f"http://127.0.0.1:{daemon.port}", transports=transports, wait_timeout=TIMEOUT)
            clients.append(client)
        text = daemon.get("/metrics")[1]
        promtool(text, "with Socket.IO peers")
        after = samples(text)
        for key, expected in (('signalbox_connections_total{protocol="socket.io"}', 2),
                              ('signalbox_clients{protocol="socket.io",transport="websocket"}', 1),
                              ('signalbox_clients{protocol="socket.io",transport="polling"}', 1),
                              ('signalbox_clients{protocol="native",transport="websocket"}', 0)):
            got = after.get(key, 0) - before.get(key, 0)
            check(got == expected, f"{key} moved by {expected}", f"moved by {got}")
    finally:
        for client in clients:
            client.disconnect()
        daemon.stop()


def version():
    return subprocess.run([SIGNALBOX, "--version"], capture_output=True, text=True).stdout.split()[-1]


def test_allow_list():
    # Only 192.0.2.0/24 (TEST-NET-1): loopback is refused.
    daemon = Daemon("--metrics-allow=192.0.2.0/24")
    try:
        status, body, _ = daemon.get("/metrics")
        check(status == 403, "a peer outside --metrics-allow gets 403", f"status {status}")
        check("signalbox_" not in body, "and no metric")
        check(daemon.get("/healthz")[0] == 200, "/healthz stays open to all")
    finally:
        daemon.stop()

    daemon = Daemon("--metrics-allow=192.0.2.0/24", "--metrics-allow=127.0.0.0/8")
    try:
        check(daemon.get("/metrics")[0] == 200, "a peer in one of several --metrics-allow networks is served")
    finally:
        daemon.stop()

    # A non-loopback address of this host, if it has one: refused by default.
    daemon = Daemon()
    try:
        own = [a for a in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
               if not a[4][0].startswith("127.")]
        if own:
            status = daemon.get("/metrics", host=own[0][4][0])[0]
            check(status == 403, "by default a non-loopback peer gets 403", f"status {status}")
        else:
            results.append((None, "by default a non-loopback peer gets 403",
                            "SKIP this host has no non-loopback IPv4 address"))
        if socket.has_ipv6:
            try:
                status = daemon.get("/metrics", host="[::1]")[0]
                check(status == 200, "by default ::1 is served", f"status {status}")
            except urllib.error.URLError as error:
                results.append((None, "by default ::1 is served", f"SKIP no IPv6 loopback: {error}"))
    finally:
        daemon.stop()


def main():
    for test in (test_traffic, test_socketio, test_allow_list):
        try:
            test()
        except Exception as error:  # noqa: BLE001 - a crash is a failure of its own
            check(False, f"{test.__name__} ran to the end", repr(error))
    print(f"1..{len(results)}")
    failed = 0
    for n, (ok, description, details) in enumerate(results, 1):
        if ok is None:
            print(f"ok {n} - {description} # {details}")
        elif ok:
            print(f"ok {n} - {description}")
        else:
            failed += 1
            print(f"not ok {n} - {description}")
            for line in str(details).splitlines():
                print(f"# {line}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
