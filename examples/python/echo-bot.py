#!/usr/bin/env python3
"""signalbox embedded in a Python application, through GObject
introspection: a signaling server with a bot among its peers.

Native clients (ws://HOST:PORT/ws) that send
    {"type": "message", "to": "bot", "data": ...}
get their data back from "bot"; everything else is relayed as usual.

    GI_TYPELIB_PATH=_build/src/libsignaling LD_LIBRARY_PATH=_build/src/libsignaling \
        examples/python/echo-bot.py --port 3000
"""
import argparse
import sys

import gi

gi.require_version("Signaling", "1.0")
from gi.repository import GLib, Signaling  # noqa: E402

BOT = "bot"


def on_message(client, message):
    if message.get_to() != BOT:
        return False  # not for us: let the server relay it
    data = message.get_payload().get_member("data")
    client.send_data(BOT, data)
    return True  # handled: the server does not look for a peer called "bot"


def on_client_connected(server, client):
    client.connect("message", on_message)


def main():
    parser = argparse.ArgumentParser(description="A signaling server with an echo bot")
    parser.add_argument("--address", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3000)
    args = parser.parse_args()

    server = Signaling.Server.new()
    server.connect("client-connected", on_client_connected)
    server.listen(args.address, args.port)
    print(f"echo-bot listening on ws://{args.address}:{server.get_port()}/ws", flush=True)

    loop = GLib.MainLoop()
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, 15, loop.quit)  # SIGTERM
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, 2, loop.quit)   # SIGINT
    loop.run()
    server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
