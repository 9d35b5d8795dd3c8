#!/usr/bin/env python3
"""The library's classes are complete, as seen through GObject
introspection, as soon as an application has a server: their signals
are there before the first peer connects (issue 12, item 16).

Exit 77 (skipped) without PyGObject.
"""
import sys

try:
    import gi
except ImportError:
    print("SKIP: gi is not installed (./run.sh test installs it)")
    sys.exit(77)

gi.require_version("Signaling", "1.0")
from gi.repository import GObject, Signaling  # noqa: E402

server = Signaling.Server()
assert server.props.client_count == 0

expected = {
    Signaling.Client: {"offer", "answer", "candidate", "hangup", "message"},
    Signaling.EngineioSocket: {"message", "closed"},
    Signaling.Server: {"client-connected", "client-disconnected", "room-added", "room-removed"},
}
for gtype, signals in expected.items():
    names = set(GObject.signal_list_names(gtype))
    assert signals <= names, f"{gtype.__name__}: {sorted(names)} lacks {sorted(signals - names)}"

# The socket classes of the Socket.IO layer announce their events too.
assert "event" in GObject.signal_list_names(Signaling.SocketioSocket), \
    GObject.signal_list_names(Signaling.SocketioSocket)
print("ok")
