"""A real SMTP server for the mail tests (aiosmtpd), started by the tests themselves.

    python smtp_sink.py <port> <directory>

Every accepted message becomes <directory>/<n>.eml (the bytes as received, envelope recipients in
an X-Envelope-To line first). The recipient's local part steers the answer, as a real server's
would for such a mailbox:

* ``reject…``  — 550 at RCPT TO (a permanent refusal: the mailbox does not exist);
* ``busy…``    — 451 at RCPT TO the first time that address is seen, accepted afterwards
                 (a transient refusal: greylisting);
* anything else is accepted with 250 and a queue id.

Prints one line ``listening on 127.0.0.1:<port>`` when it accepts connections.
"""

import asyncio
import itertools
import pathlib
import sys

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, directory: pathlib.Path):
        self.directory = directory
        self.seen_busy = set()
        self.counter = itertools.count(1)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@", 1)[0].lower()
        if local.startswith("reject"):
            return "550 5.1.1 mailbox unavailable"
        if local.startswith("busy") and address not in self.seen_busy:
            self.seen_busy.add(address)
            return "451 4.7.1 greylisted, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        n = next(self.counter)
        path = self.directory / f"{n}.eml"
        head = "X-Envelope-To: " + ", ".join(envelope.rcpt_tos) + "\r\n"
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(head.encode() + envelope.original_content)
        tmp.rename(path)
        return f"250 2.0.0 Ok: queued as sink-{n}"


def main() -> None:
    port = int(sys.argv[1])
    directory = pathlib.Path(sys.argv[2])
    directory.mkdir(parents=True, exist_ok=True)
    controller = Controller(Sink(directory), hostname="127.0.0.1", port=port)
    controller.start()
    print(f"listening on 127.0.0.1:{port}", flush=True)
    try:
        asyncio.get_event_loop().run_forever()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
