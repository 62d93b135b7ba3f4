"""Play the demo's plan through the real server and client code, then install the result.

The Flask app from `chatkit.server.create_app` runs in-process on a scratch
server.db; every person has a client store and talks to it through the
client library (`chatkit.client.outbox`, `sync`, `transport.Api`) over an
`httpx.WSGITransport` that gives each of them their own address, so logins,
throttling, the outbox, idempotent delivery and acknowledgement all happen
as they would on a network. Time comes from the simulated clock.

Everything is built in a scratch folder (in RAM when /dev/shm exists, where
thousands of synchronous commits cost no disk flushes) and copied into the
data dir only at the end with SQLite's backup API, both copies complete
before either is renamed into place: an interrupted demo leaves the data dir
as it was.
"""

from __future__ import annotations

import logging
import os
import random
import shutil
import sqlite3
import tempfile
import uuid as uuidlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from .. import config
from ..errors import BadCredentials, ServerUnreachable, StoreError, TooManyAttempts, Unauthorized, UsageError
from .clock import Clock, simulated
from .schedule import ATTACKER_ADDR, PEOPLE, STRANGER, Event, Message, Plan, make_plan

PASSWORD = "chatkit-demo"
SERVER = config.DEFAULT_SERVER_URL
ACCOUNT = "anna"
FILES = ("server.db", "client.db", "session.json")
from ..server.secret import KEY_FILE  # noqa: E402  (copied with server.db)
# How often clients fetch. Only the server's delivered_at shows it, and each fetch costs two
# requests, so the phones sync every eight hours and a writer catches up after two quiet hours.
SWEEP = timedelta(hours=8)
CATCH_UP = timedelta(hours=2)


@dataclass
class DemoSummary:
    """What `chatkit demo` built, for the closing message and the tests."""

    data_dir: Path
    account: str
    password: str
    people: list[str]
    messages: int  # relayed by the server
    archive_messages: int  # in the account's client.db
    first_day: date
    last_day: date
    logins: int
    failed_logins: int
    throttled: int
    logouts: int
    outbox_failed: int
    top_partner: str  # whom anna writes with most


def build_demo(data_dir, *, seed: int = 1, days: int = 60, people: int = 6, messages: int = 3000,
               force: bool = False, tz=None, end: datetime | None = None, progress=None) -> DemoSummary:
    """Build server.db, client.db (anna's) and session.json in `data_dir`.

    Refuses to replace existing files unless `force`. `end` (naive UTC)
    defaults to now, so the archive's last messages are from today.
    `progress(done, total)` is called as messages go out.
    """
    if not 2 <= people <= len(PEOPLE):
        raise UsageError(f"Invalid --people {people}; use 2 to {len(PEOPLE)}.")
    if not 1 <= days <= 3650:
        raise UsageError(f"Invalid --days {days}; use 1 to 3650.")
    if not 1 <= messages <= 1_000_000:
        raise UsageError(f"Invalid --messages {messages}; use 1 to 1000000.")
    data_dir = Path(data_dir)
    present = [name for name in FILES if (data_dir / name).exists()]
    if present and not force:
        raise StoreError(f"{data_dir} already holds {', '.join(present)}; "
                         "use `chatkit demo --force` to replace them with the demo.")
    from ..analytics import resolve_zone
    from ..timefmt import utcnow

    zone = resolve_zone(tz)
    end = end or utcnow().replace(second=0, microsecond=0) - timedelta(minutes=3)
    plan = make_plan(seed, days, people, messages, end, zone)
    scratch = Path(tempfile.mkdtemp(prefix="chatkit-demo-", dir=_fast_tmp()))
    clock = Clock(plan.start)
    server_log = logging.getLogger("chatkit.server")
    was_disabled, server_log.disabled = server_log.disabled, True  # its lines are for a real server's log
    try:
        with simulated(clock):
            world = World(scratch, plan, seed, clock, progress)
            try:
                world.play()
                world.read_and_rest()
            finally:
                world.close()
        pairs = [(scratch / "server.db", data_dir / "server.db"),
                 (scratch / ACCOUNT / "client.db", data_dir / "client.db")]
        try:
            data_dir.mkdir(parents=True, exist_ok=True)
            partials = [_copy_beside(source, target) for source, target in pairs]
            for partial, (_, target) in zip(partials, pairs):
                _replace(partial, target)
            # The key that the server.db digests were made with goes along with it.
            shutil.copy2(scratch / KEY_FILE, data_dir / KEY_FILE)
            os.chmod(data_dir / KEY_FILE, 0o600)
        except (OSError, sqlite3.Error) as exc:
            for _, target in pairs:
                _partial(target).unlink(missing_ok=True)
            raise StoreError(f"Cannot write the demo into {data_dir}: {exc}.") from None
        from ..client.session import save_session

        save_session(data_dir, server=SERVER, username=ACCOUNT, token=world.people[ACCOUNT].token)
        return world.summary(data_dir, zone)
    finally:
        server_log.disabled = was_disabled
        shutil.rmtree(scratch, ignore_errors=True)


class Network:
    """The transport between people and the app; while `down`, connections are refused."""

    def __init__(self, app):
        self.app = app
        self.down = False

    def transport(self, remote_addr: str):
        import httpx

        network = self
        inner = httpx.WSGITransport(app=self.app, remote_addr=remote_addr)

        class Link(httpx.BaseTransport):
            def handle_request(self, request):
                if network.down:
                    raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
                return inner.handle_request(request)

        return Link()


class Person:
    def __init__(self, name: str, index: int, store, network: Network):
        self.name, self.store, self.network = name, store, network
        self.addr = f"203.0.113.{20 + index}"  # home
        self.phone_addr = f"192.0.2.{40 + index}"  # mobile
        self.api = None
        self.token = None
        self.expires_at = None
        self.has_new = False  # the server holds messages this person has not fetched
        self.last_pull = datetime.min
        self.pending = False  # this person's outbox holds undelivered messages

    def anonymous(self, addr: str | None = None):
        from ..client.transport import Api

        return Api(SERVER, transport=self.network.transport(addr or self.addr))


class World:
    """The app, the people and their stores; `play()` runs the plan."""

    def __init__(self, scratch: Path, plan: Plan, seed: int, clock: Clock, progress):
        from ..client.store import open_client_store
        from ..server import create_app

        self.plan, self.seed, self.clock, self.progress = plan, seed, clock, progress
        self.rng = random.Random(seed * 7919 + 1)
        self.app = create_app({"DATABASE": str(scratch / "server.db")})
        self.network = Network(self.app)
        self.people = {}
        for index, name in enumerate(plan.people):
            store = open_client_store(scratch / name / "client.db")
            self.people[name] = Person(name, index, store, self.network)
        self.outage_ends = None
        self.sent = 0

    @property
    def now(self) -> datetime:
        return self.clock.now

    def at(self, moment: datetime) -> None:
        self.clock.advance_to(moment)

    def tick(self, seconds: float) -> None:
        self.clock.tick(seconds)

    # --- the plan -------------------------------------------------------------------

    def play(self) -> None:
        next_sweep = self.plan.start + SWEEP
        total = len(self.plan.messages)
        for item in self.plan.timeline():
            while next_sweep <= item.at:
                self._sweep(next_sweep)
                next_sweep += SWEEP
            if self.outage_ends and item.at >= self.outage_ends:
                self._server_back()
            self.at(item.at)
            if isinstance(item, Message):
                self._send(item)
                self.sent += 1
                if self.progress:
                    self.progress(self.sent, total)
            else:
                getattr(self, "_" + item.kind)(item)
        if self.outage_ends:
            self._server_back()
        self.at(self.plan.end)

    def _register(self, event: Event) -> None:
        self._login(self.people[event.person])

    def _relogin(self, event: Event) -> None:
        """A login from the phone (a new device, a reinstall); after a typo or two for `typo`."""
        person = self.people[event.person]
        self._login(person, addr=person.phone_addr, wrong=event.count if event.kind == "typo" else 0)

    _typo = _relogin

    def _logout(self, event: Event) -> None:
        person = self.people[event.person]
        if person.api is not None:
            try:
                person.api.logout()
            except (ServerUnreachable, Unauthorized):
                pass
            person.api.close()
            person.api = person.token = None

    def _attack(self, event: Event) -> None:
        """Someone guesses a password from one address: five failures, then the server throttles."""
        api = self.people[event.person].anonymous(ATTACKER_ADDR)
        try:
            for attempt in range(event.count):
                try:
                    api.login(event.person, f"guess-{self.rng.randrange(10**6):06d}!")
                except (BadCredentials, TooManyAttempts):
                    pass
                self.tick(12 + self.rng.random() * 25)
        except ServerUnreachable:
            pass
        finally:
            api.close()

    def _outage(self, event: Event) -> None:
        self.network.down = True
        self.outage_ends = event.until

    def _stranger(self, event: Event) -> None:
        """anna writes to someone who has no account: the server refuses it for good."""
        from ..client.outbox import record_outgoing

        anna = self.people[ACCOUNT]
        body = "Hi Jannik! Hier ist die Adresse für Samstag: Gartenstraße 12, 2. OG, Klingel „Weiß“ 🙂"
        uuid = str(uuidlib.uuid5(uuidlib.NAMESPACE_URL, f"chatkit-demo/{self.seed}/stranger"))
        record_outgoing(anna.store, ACCOUNT, STRANGER, body, now=self.now, uuid=uuid)
        self._deliver(anna)

    # --- what people do -------------------------------------------------------------

    def _login(self, person: Person, addr: str | None = None, wrong: int = 0) -> bool:
        from ..client.transport import Api
        from ..timefmt import parse_iso

        api = person.anonymous(addr)
        try:
            for _ in range(wrong):
                try:
                    api.login(person.name, PASSWORD.replace("demo", self.rng.choice(("dmeo", "demi", "Demo"))))
                except (BadCredentials, TooManyAttempts):
                    pass
                self.tick(6 + self.rng.random() * 20)
            reply = api.login(person.name, PASSWORD)
        except (TooManyAttempts, ServerUnreachable):  # blocked for now, or the server is down: later
            return False
        finally:
            api.close()
        if person.api is not None:
            person.api.close()
        person.token = reply["token"]
        person.expires_at = parse_iso(reply["expires_at"])
        person.api = Api(SERVER, person.token, transport=self.network.transport(person.addr))
        return True

    def _ready(self, person: Person) -> bool:
        """Logged in with a token that is still good (the server would say 401 otherwise)."""
        if person.api is None or person.expires_at <= self.now + timedelta(minutes=1):
            self.tick(2)
            return self._login(person)
        return True

    def _pull(self, person: Person) -> None:
        from ..client.sync import pull

        if not person.has_new or self.network.down or not self._ready(person):
            return
        try:
            pull(person.store, person.api, person.name, SERVER)
            person.has_new = False
            person.last_pull = self.now
        except Unauthorized:
            person.api = None
        except ServerUnreachable:
            pass

    def _deliver(self, person: Person) -> None:
        from ..client.sync import deliver

        if not self._ready(person):
            person.pending = True
            return
        report = deliver(person.store, person.api, person.name, now=self.now)
        if isinstance(report.error, Unauthorized) and self._login(person):
            report = deliver(person.store, person.api, person.name, now=self.now)
        for entry in report.delivered:
            self.people[entry["recipient"]].has_new = True
        person.pending = bool(report.waiting)

    def _send(self, message: Message) -> None:
        from ..client.outbox import record_outgoing

        person = self.people[message.sender]
        if self.now - person.last_pull >= CATCH_UP:
            self._pull(person)
        record_outgoing(person.store, person.name, message.recipient, message.body,
                        now=message.at, uuid=message.uuid)
        self._deliver(person)

    def _sweep(self, moment: datetime) -> None:
        """Phones in pockets sync now and then: fetch what is waiting, retry the outbox."""
        self.at(moment)
        for person in self.people.values():
            if person.api is None:
                continue
            if person.pending and not self.network.down:
                self._deliver(person)
            self._pull(person)
            self.tick(1)

    def _server_back(self) -> None:
        """The server is up again: within two minutes every waiting outbox is delivered."""
        self.at(self.outage_ends)
        self.network.down = False
        self.outage_ends = None
        for person in self.people.values():
            self.tick(20 + self.rng.random() * 70)
            if person.pending:
                self._deliver(person)

    def read_and_rest(self) -> None:
        """anna has read everything up to her last reply in each conversation, and all but the
        two most recent conversations entirely; then everyone's clients go quiet."""
        from pony.orm import db_session, select

        from ..client.sync import mark_read

        anna = self.people[ACCOUNT]
        self._pull(anna)
        entities = anna.store.entities
        with db_session:
            recent = [c.peer for c in select(c for c in entities.Conversation if c.account == ACCOUNT)
                      .order_by(lambda c: (c.last_message_at, c.peer))][-2:]
            unread = select((m.id, m.peer, m.sent_at) for m in entities.Message
                            if m.account == ACCOUNT and m.direction == "in" and m.status == "unread")[:]
            last_reply = dict(select((m.peer, max(m.sent_at)) for m in entities.Message
                                     if m.account == ACCOUNT and m.direction == "out")[:])
        seen = [mid for mid, peer, sent_at in unread
                if peer not in recent or (peer in last_reply and sent_at < last_reply[peer])]
        mark_read(anna.store, ACCOUNT, seen)
        if anna.expires_at is not None and anna.expires_at < self.plan.end + timedelta(days=7):
            self._login(anna)  # leave a session that still works for a while

    def close(self) -> None:
        for person in self.people.values():
            if person.api is not None:
                person.api.close()
            person.store.close()
        self.app.extensions["chatkit"].close()

    # --- the result -----------------------------------------------------------------

    def summary(self, data_dir: Path, zone) -> DemoSummary:
        server = sqlite3.connect(data_dir / "server.db")
        client = sqlite3.connect(data_dir / "client.db")
        try:
            kinds = dict(server.execute("SELECT kind, count(*) FROM login_events GROUP BY kind").fetchall())
            relayed = server.execute("SELECT count(*) FROM messages").fetchone()[0]
            archive = client.execute("SELECT count(*) FROM messages").fetchone()[0]
            failed = client.execute("SELECT count(*) FROM outbox WHERE state = 'failed'").fetchone()[0]
            top = client.execute("SELECT peer FROM conversations WHERE account = ? "
                                 "ORDER BY message_count DESC, peer LIMIT 1", (ACCOUNT,)).fetchone()
        finally:
            server.close()
            client.close()

        def local_day(moment: datetime) -> date:
            return moment.replace(tzinfo=timezone.utc).astimezone(zone).date()

        return DemoSummary(
            data_dir=data_dir, account=ACCOUNT, password=PASSWORD, people=list(self.plan.people),
            messages=relayed, archive_messages=archive,
            first_day=local_day(self.plan.start), last_day=local_day(self.plan.end),
            logins=kinds.get("login", 0) + kinds.get("register", 0), failed_logins=kinds.get("login_failed", 0),
            throttled=kinds.get("throttled", 0), logouts=kinds.get("logout", 0), outbox_failed=failed,
            top_partner=top[0] if top else "",
        )


def _fast_tmp() -> str | None:
    """/dev/shm when it is a writable folder (RAM), else the system's temp dir."""
    shm = "/dev/shm"
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK) else None


def _partial(target: Path) -> Path:
    return target.with_name(target.name + ".demo-partial")


def _copy_beside(source: Path, target: Path) -> Path:
    """A complete copy of a finished database next to `target`, made with the backup API."""
    partial = _partial(target)
    partial.unlink(missing_ok=True)
    src = sqlite3.connect(source)
    dst = sqlite3.connect(partial)
    try:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode = WAL")
    finally:
        dst.close()
        src.close()
    return partial


def _replace(partial: Path, target: Path) -> None:
    """Rename the copy over `target`; the old file's WAL and index must not outlive it."""
    for suffix in ("-wal", "-shm"):
        Path(str(target) + suffix).unlink(missing_ok=True)
    os.replace(partial, target)
