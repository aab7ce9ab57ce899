#!/usr/bin/env python3
"""A real SMTP server on loopback for Gatehouse's tests (aiosmtpd, Debian's python3-aiosmtpd).

    mail_server.py serve --spool DIR [--auth USER:PASSWORD] [--hold]
        Accepts mail on a port of 127.0.0.1 that the system chooses, and writes each message
        to DIR/<n>.eml, with its envelope in DIR/<n>.json. With --auth, the client must sign
        in (PLAIN or LOGIN) first. Prints "ready PORT" once listening and runs until killed.
        With --hold, first binds the port without listening on it (a connection is refused,
        and no other program can take the port), prints "holding PORT", and listens once a
        line arrives on stdin.

    mail_server.py parse FILE
        Parses an .eml file with Python's standard email parser and prints JSON: the headers,
        the plain-text and HTML parts, and every defect the parser found (none for a valid
        message).
"""

import argparse
import asyncio
import json
import os
import signal
import socket
import sys
import threading
from email import policy
from email.parser import BytesParser


def serve(args):
    import warnings

    import logging

    warnings.filterwarnings("ignore")  # AUTH without TLS is what the test wants
    logging.getLogger("mail.log").setLevel(logging.ERROR)
    from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

    os.makedirs(args.spool, exist_ok=True)
    counter = {"n": 0}
    lock = threading.Lock()

    class Spool:
        async def handle_DATA(self, server, session, envelope):
            with lock:
                counter["n"] += 1
                n = counter["n"]
            base = os.path.join(args.spool, f"{n:04d}")
            with open(base + ".json.tmp", "w") as f:
                json.dump({"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos}, f)
            with open(base + ".eml.tmp", "wb") as f:
                f.write(envelope.original_content or envelope.content)
            os.rename(base + ".json.tmp", base + ".json")
            os.rename(base + ".eml.tmp", base + ".eml")
            return f"250 2.0.0 Ok: queued as test-{n}"

    kwargs = {}
    if args.auth:
        user, _, password = args.auth.partition(":")

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = (
                isinstance(auth_data, LoginPassword)
                and auth_data.login.decode() == user
                and auth_data.password.decode() == password
            )
            # handled=False: aiosmtpd then answers 535 itself
            return AuthResult(success=ok, handled=False)

        kwargs = dict(authenticator=authenticator, auth_required=True, auth_require_tls=False)

    # The port is the system's choice, taken by this socket from the start: nothing else can
    # bind it between choosing and serving, and the caller learns it from "ready PORT".
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    if args.hold:
        print(f"holding {port}", flush=True)
        sys.stdin.readline()

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    handler = Spool()
    server = loop.run_until_complete(
        loop.create_server(lambda: SMTP(handler, loop=loop, **kwargs), sock=sock)
    )
    print(f"ready {port}", flush=True)
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, loop.stop)
    loop.run_forever()
    server.close()


def parse(args):
    with open(args.file, "rb") as f:
        message = BytesParser(policy=policy.default).parse(f)
    defects = [type(d).__name__ for d in message.defects]
    for part in message.walk():
        defects += [type(d).__name__ for d in part.defects]
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    print(
        json.dumps(
            {
                "headers": {k.lower(): str(v) for k, v in message.items()},
                "text": text.get_content() if text else None,
                "html": html.get_content() if html else None,
                "defects": defects,
            }
        )
    )


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--spool", required=True)
    s.add_argument("--auth")
    s.add_argument("--hold", action="store_true")
    p = sub.add_parser("parse")
    p.add_argument("file")
    args = parser.parse_args()
    serve(args) if args.command == "serve" else parse(args)


if __name__ == "__main__":
    sys.exit(main())
