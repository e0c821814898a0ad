# A real SMTP server for Clef's tests (run by crates/testkit/src/smtp.rs; needs aiosmtpd).
#
# Listens on 127.0.0.1 on a free port it picks itself and prints `PORT <n>` as its first line,
# then one JSON line per message received:
#   {"mail_from": ..., "rcpt_tos": [...], "data": "<the raw message>", "login": ..., "password": ...}
# (login and password are those of the AUTH the client gave, or null). Any sign-in is accepted,
# without TLS. It exits when its standard input closes, so it never outlives the test process.
import asyncio
import json
import os
import sys
import threading

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


def text(value):
    if value is None:
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


class Sink:
    async def handle_DATA(self, server, session, envelope):
        login = password = None
        if isinstance(session.auth_data, LoginPassword):
            login = text(session.auth_data.login)
            password = text(session.auth_data.password)
        content = envelope.content
        if isinstance(content, bytes):
            content = content.decode("utf-8", "replace")
        line = json.dumps(
            {
                "mail_from": envelope.mail_from,
                "rcpt_tos": list(envelope.rcpt_tos),
                "data": content,
                "login": login,
                "password": password,
            }
        )
        sys.stdout.write(line + "\n")
        sys.stdout.flush()
        return "250 OK"


def accept_any(server, session, envelope, mechanism, auth_data):
    return AuthResult(success=True, auth_data=auth_data)


def exit_when_stdin_closes():
    sys.stdin.buffer.read()
    os._exit(0)


async def main():
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(
            Sink(),
            # A fixed name: the default asks DNS for this machine's, which can be slow.
            hostname="localhost",
            enable_SMTPUTF8=True,
            authenticator=accept_any,
            auth_require_tls=False,
        ),
        "127.0.0.1",
        0,
    )
    port = server.sockets[0].getsockname()[1]
    sys.stdout.write(f"PORT {port}\n")
    sys.stdout.flush()
    await asyncio.Event().wait()


threading.Thread(target=exit_when_stdin_closes, daemon=True).start()
asyncio.run(main())
