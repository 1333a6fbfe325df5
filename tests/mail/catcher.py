"""The tests' SMTP server: aiosmtpd on 127.0.0.1:PORT, keeping every message it accepts
as DIR/<n>.json ({"from", "to", "data"}), written under a temporary name and renamed so a
reader never sees half of one. Prints "listening" once it accepts connections.

  catcher.py PORT DIR [--auth USER:PASSWORD] [--refuse-first N]

--auth requires SMTP AUTH (PLAIN or LOGIN) with those credentials, over the plain
connection (loopback only); --refuse-first answers the first N messages 451 (a temporary
failure), as a busy server would.
"""
import argparse
import asyncio
import itertools
import json
import os
import signal
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Keep:
    def __init__(self, folder, refuse_first):
        self.folder = folder
        self.refuse_left = refuse_first
        self.numbers = itertools.count(len(os.listdir(folder)))

    async def handle_DATA(self, server, session, envelope):
        if self.refuse_left > 0:
            self.refuse_left -= 1
            return "451 4.3.0 try again later"
        n = next(self.numbers)
        body = {
            "from": envelope.mail_from,
            "to": list(envelope.rcpt_tos),
            "data": envelope.content.decode("utf-8", "replace"),
        }
        tmp = os.path.join(self.folder, f".{n}.tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(body, f)
        os.rename(tmp, os.path.join(self.folder, f"{n}.json"))
        return "250 OK"


def authenticator(user, password):
    def check(server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == user
            and auth_data.password.decode() == password
        )
        return AuthResult(success=ok, handled=False)

    return check


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("folder")
    parser.add_argument("--auth")
    parser.add_argument("--refuse-first", type=int, default=0)
    args = parser.parse_args()
    os.makedirs(args.folder, exist_ok=True)
    options = {}
    if args.auth:
        user, password = args.auth.split(":", 1)
        options = dict(
            authenticator=authenticator(user, password),
            auth_required=True,
            auth_require_tls=False,
        )
    controller = Controller(
        Keep(args.folder, args.refuse_first),
        hostname="127.0.0.1",
        port=args.port,
        **options,
    )
    controller.start()
    print("listening", flush=True)
    stop = asyncio.new_event_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        stop.add_signal_handler(sig, stop.stop)
    stop.run_forever()
    controller.stop()
    sys.exit(0)


if __name__ == "__main__":
    main()
