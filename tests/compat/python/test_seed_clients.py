"""The seeds' client flows with python-socketio, a second Socket.IO
client implementation beside socket.io-client, over every transport.

COMPAT_TARGET=signalbox (SIGNALBOX_BIN) runs the daemon; COMPAT_TARGET=
reference runs the seed replicas, so the assertions describe the seeds'
own behaviour. Waits have timeouts that only guard against hangs.
"""
import base64
import hashlib
import hmac
import json
import os
import queue
import select
import socket
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import engineio.client
import requests
import socketio
import websocket

HERE = os.path.dirname(os.path.abspath(__file__))
TARGET = os.environ.get("COMPAT_TARGET", "signalbox")
TIMEOUT = 15  # generous: ASan and TLS on a loaded 2-core machine
TRANSPORTS = {
    "websocket": ["websocket"],
    "polling then upgrade": ["polling", "websocket"],
    "polling": ["polling"],
}


class SerializedWebSocket:
    """A wss:// connection that one thread at a time reads or writes.

    python-engineio 4.3 (Debian 12) reads its WebSocket in one thread and
    writes it in another, and CPython's ssl module does not survive that
    (python-engineio #461, CPython #77271): a read that overlaps a write
    now and then ends in a spurious SSLEOFError, and the client drops a
    connection the server never closed. Seen here about once in a
    hundred wss:// connects on a loaded machine, always right after the
    client's namespace CONNECT, as the server's answer arrives while the
    client is still writing. Waits for data outside the lock and reads
    under it, the pattern of python-engineio's own fix; drop this once
    Debian ships a python-engineio with that fix."""

    def __init__(self, ws):
        self._ws = ws
        self._lock = threading.Lock()

    def __getattr__(self, name):
        return getattr(self._ws, name)

    def send(self, *args, **kwargs):
        with self._lock:
            return self._ws.send(*args, **kwargs)

    def close(self, *args, **kwargs):
        with self._lock:
            return self._ws.close(*args, **kwargs)

    def recv(self):
        timeout = self._ws.gettimeout()
        deadline = time.monotonic() + timeout if timeout else None
        while True:
            sock = self._ws.sock
            if sock is None or sock.fileno() < 0:
                raise websocket.WebSocketConnectionClosedException("socket is already closed.")
            # pending(): bytes already decrypted, which select() cannot see.
            if sock.pending() or select.select([sock], [], [], 0.05)[0]:
                with self._lock:
                    return self._ws.recv()
            if deadline is not None and time.monotonic() > deadline:
                raise websocket.WebSocketTimeoutException("no data from the server")


def _create_connection(url, *args, create=websocket.create_connection, **kwargs):
    ws = create(url, *args, **kwargs)
    return SerializedWebSocket(ws) if url.startswith("wss:") else ws


engineio.client.websocket.create_connection = _create_connection


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, seed, extra_args=()):
        self.port = free_port()
        if TARGET == "signalbox":
            argv = [os.environ["SIGNALBOX_BIN"], "--address", "127.0.0.1",
                    "--port", str(self.port), "--no-dbus", *extra_args]
            # A GLib critical aborts the daemon; stop() checks how it ended.
            env = dict(os.environ, G_DEBUG="fatal-criticals")
        else:
            argv = ["node", os.path.join(HERE, "..", "reference", f"seed{seed}.js")]
            env = dict(os.environ, PORT=str(self.port), QUIET="1")
        # A file, not a pipe: a pipe nobody reads until stop() would
        # stall a server that logs more than the pipe holds.
        self.stderr = tempfile.TemporaryFile()
        self.process = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL,
                                        stderr=self.stderr)
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stderr.seek(0)
                    raise RuntimeError(f"server did not start: {self.stderr.read()}")
                time.sleep(0.02)
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self):
        self.process.terminate()
        self.status = self.process.wait(timeout=10)
        self.stderr.seek(0)
        self.log = self.stderr.read().decode(errors="replace")
        self.stderr.close()
        # meson shows this only when the suite fails: what the server saw.
        sys.stderr.write(self.log)


class Peer:
    """A python-socketio client that queues every event it receives."""

    EVENTS = ["offer_sdp", "answer_sdp", "send_ice", "error",
              "offer", "answer", "candidate", "hangup"]

    def __init__(self, url, transports, auth=None, **client_options):
        self.client = socketio.Client(reconnection=False, **client_options)
        self.events = queue.Queue()
        # Seed 000 sends your_id on connect; seed 003's clients never
        # listen for it, so it is kept apart from the other events, as
        # signalbox's ice_servers is.
        self.ids = queue.Queue()
        self.ice_servers = queue.Queue()
        self.client.on("your_id", self.ids.put)
        self.client.on("ice_servers", self.ice_servers.put)
        for name in self.EVENTS:
            self.client.on(name, self._recorder(name))
        self.client.connect(url, transports=transports, wait_timeout=TIMEOUT, auth=auth)

    def _recorder(self, name):
        return lambda *args: self.events.put((name, args))

    def expect(self, name):
        event, args = self.events.get(timeout=TIMEOUT)
        if event != name:
            raise AssertionError(f"expected {name}, got {event} {args}")
        return args[0] if len(args) == 1 else args

    def your_id(self):
        return self.ids.get(timeout=TIMEOUT)

    def emit(self, event, data):
        self.client.emit(event, data)

    def close(self):
        self.client.disconnect()


class SeedTest(unittest.TestCase):
    seed = None

    def setUp(self):
        self.server = Server(self.seed, self.server_args())
        self.peers = []

    def server_args(self):
        return ()

    def tearDown(self):
        for peer in self.peers:
            peer.close()
        self.server.stop()
        if TARGET == "signalbox":
            self.assertEqual(self.server.status, 0, "signalbox exits 0 on SIGTERM")
            self.assertNotRegex(self.server.log, r"-(CRITICAL|WARNING) \*\*", "no GLib critical or warning")

    def peer(self, transports, auth=None, **client_options):
        peer = Peer(self.server.url, transports, auth, **client_options)
        self.peers.append(peer)
        return peer


class Seed000(SeedTest):
    seed = "000"

    def test_offer_answer_ice(self):
        for name, transports in TRANSPORTS.items():
            with self.subTest(transport=name):
                a, b = self.peer(transports), self.peer(transports)
                id_a, id_b = a.your_id(), b.your_id()
                self.assertNotEqual(id_a, id_b)

                a.emit("offer_sdp", json.dumps({"targetClientId": id_b, "sdp": "v=0 offer"}))
                self.assertEqual(b.expect("offer_sdp"), {"from": id_a, "sdp": "v=0 offer"})
                b.emit("answer_sdp", json.dumps({"targetClientId": id_a, "sdp": "v=0 answer"}))
                self.assertEqual(a.expect("answer_sdp"), {"from": id_b, "sdp": "v=0 answer"})
                a.emit("send_ice", json.dumps({"targetClientId": id_b, "candidate": "candidate:1 1 udp 1 127.0.0.1 9 typ host", "mid": "0"}))
                self.assertEqual(b.expect("send_ice"),
                                 {"from": id_a, "candidate": "candidate:1 1 udp 1 127.0.0.1 9 typ host", "mid": "0"})

    def test_unknown_target(self):
        a = self.peer(["websocket"])
        a.your_id()
        a.emit("offer_sdp", json.dumps({"targetClientId": "nobody", "sdp": "x"}))
        self.assertEqual(a.expect("error"), {"message": "Target client not connected"})


class Seed003(SeedTest):
    seed = "003"

    def join(self, peer, room, members=()):
        """Joins, then proves it: io.to(room) reaches the sender too
        (and the members already there)."""
        peer.emit("JoinSocket", room)
        peer.emit("hangup", {"to": room, "from": room})
        for member in (peer, *members):
            self.assertEqual(member.expect("hangup"), {"from": room})

    def test_room_relay(self):
        for name, transports in TRANSPORTS.items():
            with self.subTest(transport=name):
                room = f"room {name}"
                a, b = self.peer(transports), self.peer(transports)
                self.join(a, room)
                self.join(b, room, [a])

                offer = {"type": "offer", "sdp": "v=0 offer"}
                a.emit("offer", {"to": room, "offer": offer, "from": room})
                self.assertEqual(b.expect("offer"), {"offer": offer, "from": room})
                self.assertEqual(a.expect("offer"), {"offer": offer, "from": room})

                candidate = {"candidate": "candidate:1", "sdpMid": "0", "sdpMLineIndex": 0}
                b.emit("candidate", {"to": room, "candidate": candidate, "from": room})
                self.assertEqual(a.expect("candidate"), {"candidate": candidate, "from": room})
                self.assertEqual(b.expect("candidate"), {"candidate": candidate, "from": room})

                a.emit("LeaveSocket", room)
                self.join(a, "elsewhere")
                b.emit("answer", {"to": room, "answer": {"type": "answer", "sdp": "v=0"}, "from": room})
                self.assertEqual(b.expect("answer")["from"], room)
                # a left: the next thing it hears is its own echo, not the answer.
                a.emit("hangup", {"to": "elsewhere", "from": "elsewhere"})
                self.assertEqual(a.expect("hangup"), {"from": "elsewhere"})


SECRET = "python-token-secret"
TURN_SECRET = "python-turn-secret"


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def token(claims, secret=SECRET):
    """An HS256 JWT made here with hmac, apart from signalbox's libjwt."""
    signing_input = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode()) + "." + \
        b64url(json.dumps(claims).encode())
    signature = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + b64url(signature)


@unittest.skipUnless(TARGET == "signalbox", "tokens are a signalbox feature")
class Tokens(SeedTest):
    """python-socketio's connect(auth=...) against --auth-secret-file."""
    seed = "000"

    def server_args(self):
        self.secrets = tempfile.TemporaryDirectory()
        auth = os.path.join(self.secrets.name, "auth")
        turn = os.path.join(self.secrets.name, "turn")
        for path, secret in ((auth, SECRET), (turn, TURN_SECRET)):
            with open(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
                f.write(secret + "\n")
        return ("--auth-secret-file", auth, "--turn-secret-file", turn,
                "--turn-uri", "turn:127.0.0.1:3478?transport=udp")

    def tearDown(self):
        super().tearDown()
        self.secrets.cleanup()

    def test_auth_payload(self):
        exp = int(time.time()) + 60
        for name, transports in TRANSPORTS.items():
            with self.subTest(transport=name):
                sub = "py-" + name.replace(" ", "-")
                a = self.peer(transports, {"token": token({"sub": sub, "exp": exp})})
                self.assertEqual(a.your_id(), sub)
                servers = a.ice_servers.get(timeout=TIMEOUT)
                turn = servers[0]
                self.assertEqual(turn["urls"], ["turn:127.0.0.1:3478?transport=udp"])
                self.assertEqual(turn["username"].split(":")[1], sub)
                expected = base64.b64encode(hmac.new(TURN_SECRET.encode(), turn["username"].encode(),
                                                     hashlib.sha1).digest()).decode()
                self.assertEqual(turn["credential"], expected)

                b = self.peer(transports, {"token": token({"sub": sub + "-b", "exp": exp})})
                b.your_id()
                a.emit("offer_sdp", json.dumps({"targetClientId": sub + "-b", "sdp": "v=0"}))
                self.assertEqual(b.expect("offer_sdp"), {"from": sub, "sdp": "v=0"})

    def test_refused(self):
        exp = int(time.time()) + 60
        for auth in ({"token": token({"sub": "x", "exp": exp}, "wrong")},
                     {"token": token({"sub": "x", "exp": int(time.time()) - 5})},
                     None):
            with self.subTest(auth=auth):
                client = socketio.Client(reconnection=False)
                errors = queue.Queue()
                client.on("connect_error", errors.put)
                # python-socketio 5.7 waits out wait_timeout after a
                # connect_error: shorter than TIMEOUT, still ample.
                with self.assertRaises(socketio.exceptions.ConnectionError):
                    client.connect(self.server.url, transports=["websocket"], auth=auth,
                                   wait_timeout=5)
                self.assertEqual(errors.get(timeout=TIMEOUT), {"message": "unauthorized"})
                client.disconnect()


@unittest.skipUnless(TARGET == "signalbox", "the seed servers serve no TLS; signalbox only")
class Seed000OverTls(SeedTest):
    """Issue 15: the same flow over https:// and wss://, with a
    certificate made for the test, which the client trusts as its only
    authority (and python-socketio's ssl_verify=False, as a quick
    self-signed setup would use)."""
    seed = "000"

    def server_args(self):
        self.dir = tempfile.mkdtemp(prefix="signalbox-tls-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        cert = os.path.join(self.dir, "cert.pem")
        key = os.path.join(self.dir, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
                        "-subj", "/CN=signalbox test", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", key, "-out", cert],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.cert = cert
        return ("--tls-certificate", cert, "--tls-key", key)

    @staticmethod
    def session(verify=True):
        session = requests.Session()
        # Not REQUESTS_CA_BUNDLE and the like from the environment: they
        # would win over the session's own verify (requests #3829).
        session.trust_env = False
        session.verify = verify
        return session

    def test_offer_over_tls(self):
        self.server.url = self.server.url.replace("http://", "https://")
        for name, transports in TRANSPORTS.items():
            with self.subTest(transport=name):
                a = self.peer(transports, http_session=self.session(self.cert))
                b = self.peer(transports, ssl_verify=False, http_session=self.session())
                id_a, id_b = a.your_id(), b.your_id()
                a.emit("offer_sdp", json.dumps({"targetClientId": id_b, "sdp": "v=0 tls"}))
                self.assertEqual(b.expect("offer_sdp"), {"from": id_a, "sdp": "v=0 tls"})

    def test_plain_http_fails(self):
        with self.assertRaises(socketio.exceptions.ConnectionError):
            self.peer(["polling"])

    def test_untrusted_fails(self):
        self.server.url = self.server.url.replace("http://", "https://")
        with self.assertRaises(socketio.exceptions.ConnectionError):
            self.peer(["polling"], http_session=self.session())


if __name__ == "__main__":
    unittest.main(verbosity=2)
