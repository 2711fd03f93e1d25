"""A small real IMAP4rev1 server for tests: asyncio on loopback, one mailbox in memory.

It speaks what a poller needs: CAPABILITY, NOOP, LOGIN, SELECT/EXAMINE (with UIDVALIDITY
and UIDNEXT), UID SEARCH (``ALL``, ``UNSEEN``, ``UID a:b``), UID FETCH (RFC822, RFC822.SIZE,
FLAGS, UID), UID STORE (+FLAGS / -FLAGS / FLAGS) and LOGOUT. Every command line received is
kept in ``commands`` so tests can check what the client did.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

_TOKEN = re.compile(rb'"((?:[^"\\]|\\.)*)"|(\([^)]*\))|(\S+)')


@dataclass
class StoredMessage:
    uid: int
    raw: bytes
    flags: set[str] = field(default_factory=set)


def _tokens(line: bytes) -> list[str]:
    out: list[str] = []
    for quoted, group, atom in _TOKEN.findall(line):
        if quoted:
            out.append(re.sub(rb"\\(.)", rb"\1", quoted).decode())
        else:
            out.append((group or atom).decode())
    return out


def _uid_set(spec: str, largest: int) -> set[int]:
    """UIDs of an IMAP sequence set such as ``3``, ``2:5``, ``4:*`` or ``1,3:4``."""
    wanted: set[int] = set()
    for part in spec.split(","):
        if ":" in part:
            a, b = part.split(":", 1)
            start = largest if a == "*" else int(a)
            end = largest if b == "*" else int(b)
            low, high = min(start, end), max(start, end)
            wanted.update(range(low, high + 1))
        else:
            wanted.add(largest if part == "*" else int(part))
    return wanted


class ImapServer:
    def __init__(self, *, user: str, password: str, mailbox: str = "INBOX") -> None:
        self.user = user
        self.password = password
        self.mailbox = mailbox
        self.uid_validity = 1
        self.next_uid = 1
        self.messages: list[StoredMessage] = []
        self.commands: list[str] = []
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.base_events.Server | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    # --- the mailbox ------------------------------------------------------------------------

    def add(self, raw: bytes, *, seen: bool = False) -> int:
        with self._lock:
            uid = self.next_uid
            self.next_uid += 1
            self.messages.append(StoredMessage(uid, raw, {"\\Seen"} if seen else set()))
            return uid

    def renumber(self) -> None:
        """What a server does when it rebuilds the mailbox: new UIDVALIDITY, new UIDs."""
        with self._lock:
            self.uid_validity += 1
            for index, message in enumerate(self.messages, start=1):
                message.uid = index
            self.next_uid = len(self.messages) + 1

    def seen(self) -> list[int]:
        return [m.uid for m in self.messages if "\\Seen" in m.flags]

    # --- running -----------------------------------------------------------------------------

    def start(self) -> int:
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            self._server = loop.run_until_complete(
                asyncio.start_server(self._session, "127.0.0.1", 0)
            )
            self.port = self._server.sockets[0].getsockname()[1]
            ready.set()
            loop.run_forever()
            self._server.close()
            loop.run_until_complete(self._server.wait_closed())
            loop.close()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        ready.wait(5)
        return self.port

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(5)

    # --- one connection ------------------------------------------------------------------------

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        state = {"auth": False, "selected": False}

        def send(line: bytes | str) -> None:
            writer.write((line.encode() if isinstance(line, str) else line) + b"\r\n")

        send("* OK IMAP4rev1 test server ready")
        try:
            while True:
                line = await reader.readline()
                if not line:
                    break
                line = line.rstrip(b"\r\n")
                self.commands.append(line.decode(errors="replace"))
                parts = _tokens(line)
                if len(parts) < 2:
                    send("* BAD empty command")
                    continue
                tag, command, args = parts[0], parts[1].upper(), parts[2:]
                if command == "CAPABILITY":
                    send("* CAPABILITY IMAP4rev1 AUTH=PLAIN")
                    send(f"{tag} OK CAPABILITY completed")
                elif command == "NOOP":
                    send(f"{tag} OK NOOP completed")
                elif command == "LOGOUT":
                    send("* BYE logging out")
                    send(f"{tag} OK LOGOUT completed")
                    await writer.drain()
                    break
                elif command == "LOGIN":
                    if args[:2] == [self.user, self.password]:
                        state["auth"] = True
                        send(f"{tag} OK LOGIN completed")
                    else:
                        send(f"{tag} NO [AUTHENTICATIONFAILED] Invalid credentials")
                elif not state["auth"]:
                    send(f"{tag} BAD log in first")
                elif command in ("SELECT", "EXAMINE"):
                    if not args or args[0] != self.mailbox:
                        send(f"{tag} NO no such mailbox")
                        continue
                    state["selected"] = True
                    send(f"* {len(self.messages)} EXISTS")
                    send("* 0 RECENT")
                    send("* FLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft)")
                    send(f"* OK [UIDVALIDITY {self.uid_validity}] UIDs valid")
                    send(f"* OK [UIDNEXT {self.next_uid}] predicted next UID")
                    send(f"{tag} OK [READ-WRITE] {command} completed")
                elif not state["selected"]:
                    send(f"{tag} BAD select a mailbox first")
                elif command == "UID" and args:
                    self._uid(tag, args[0].upper(), args[1:], send)
                else:
                    send(f"{tag} BAD unknown command")
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    def _uid(
        self, tag: str, sub: str, args: list[str], send: Callable[[bytes | str], None]
    ) -> None:
        with self._lock:
            messages = list(self.messages)
        largest = max((m.uid for m in messages), default=0)
        if sub == "SEARCH":
            criteria = [a.upper() for a in args]
            found = messages
            if "UNSEEN" in criteria:
                found = [m for m in found if "\\Seen" not in m.flags]
            if "UID" in criteria:
                spec = args[criteria.index("UID") + 1]
                wanted = _uid_set(spec, largest)
                found = [m for m in found if m.uid in wanted]
            send("* SEARCH" + "".join(f" {m.uid}" for m in found))
            send(f"{tag} OK SEARCH completed")
        elif sub == "FETCH" and len(args) >= 2:
            wanted = _uid_set(args[0], largest)
            items = args[1].strip("()").upper().split()
            for seq, message in enumerate(messages, start=1):
                if message.uid not in wanted:
                    continue
                fields = [f"UID {message.uid}"]
                if "FLAGS" in items:
                    fields.append(f"FLAGS ({' '.join(sorted(message.flags))})")
                if "RFC822.SIZE" in items:
                    fields.append(f"RFC822.SIZE {len(message.raw)}")
                if "RFC822" in items or "BODY[]" in items or "BODY.PEEK[]" in items:
                    head = f"* {seq} FETCH ({' '.join(fields)} RFC822 {{{len(message.raw)}}}"
                    send(head.encode() + b"\r\n" + message.raw + b")")
                    if "BODY.PEEK[]" not in items:
                        message.flags.add("\\Seen")
                else:
                    send(f"* {seq} FETCH ({' '.join(fields)})")
            send(f"{tag} OK FETCH completed")
        elif sub == "STORE" and len(args) >= 3:
            wanted = _uid_set(args[0], largest)
            action = args[1].upper()
            flags = set(args[2].strip("()").split())
            for seq, message in enumerate(messages, start=1):
                if message.uid not in wanted:
                    continue
                if action.startswith("+FLAGS"):
                    message.flags |= flags
                elif action.startswith("-FLAGS"):
                    message.flags -= flags
                else:
                    message.flags = set(flags)
                send(f"* {seq} FETCH (UID {message.uid} FLAGS ({' '.join(sorted(message.flags))}))")
            send(f"{tag} OK STORE completed")
        else:
            send(f"{tag} BAD unsupported UID command")
