"""What happens when in the demo's weeks: messages, logins, a logout, an attack, an outage.

Everything is drawn from one `random.Random(seed)`, in local time (people
chat in the evening, sleep at night and are quieter at weekends), then
turned into naive UTC moments for the simulated clock. The plan is pure
data; chatkit.demo.builder plays it through the real server and client.
"""

from __future__ import annotations

import math
import random
import uuid as uuidlib
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone, tzinfo

from .text import TextMaker

PEOPLE = ("anna", "ben", "clara", "david", "emma", "felix", "greta", "jonas", "lena", "max",
          "mia", "noah", "paul", "sophie", "tom", "zoe")
LANGUAGE = {"anna": "both", "ben": "de", "clara": "en", "david": "de", "emma": "both", "felix": "de",
            "greta": "de", "jonas": "de", "lena": "en", "max": "both", "mia": "de", "noah": "en",
            "paul": "de", "sophie": "both", "tom": "en", "zoe": "en"}
STRANGER = "jannik"  # not on the server: anna's message to him stays failed in her outbox
ATTACKER_ADDR = "198.51.100.23"

# Share of the day's messages per local hour: a quiet night, a morning, lunch, a long evening.
HOURS = [0.6, 0.3, 0.15, 0.1, 0.1, 0.2, 0.7, 2.2, 3.5, 3.6, 3.4, 3.8, 5.2, 4.8, 3.9, 3.8,
         4.0, 4.6, 5.6, 7.2, 8.4, 8.6, 6.4, 3.0]
WEEKDAYS = [1.0, 1.0, 1.05, 1.0, 1.1, 0.62, 0.55]  # Mon..Sun: quieter weekends


@dataclass(frozen=True)
class Message:
    at: datetime  # naive UTC
    sender: str
    recipient: str
    body: str
    uuid: str


@dataclass(frozen=True)
class Event:
    """Anything that is not a message: register, relogin, typo, logout, attack, outage, stranger."""

    at: datetime
    kind: str
    person: str = ""
    until: datetime | None = None  # the outage's end
    count: int = 0  # typo: wrong passwords before the login; attack: attempts


@dataclass
class Plan:
    people: list[str]
    start: datetime
    end: datetime
    messages: list[Message] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)

    def timeline(self) -> list[Message | Event]:
        """Messages and events in the order they happen (events first on a tie)."""
        items = [(e.at, 0, i, e) for i, e in enumerate(self.events)]
        items += [(m.at, 1, i, m) for i, m in enumerate(self.messages)]
        return [item for *_, item in sorted(items, key=lambda t: t[:3])]


def make_plan(seed: int, days: int, people: int, messages: int, end: datetime, zone: tzinfo) -> Plan:
    """The whole demo, `days` long and ending at `end` (naive UTC), with `messages` messages."""
    rng = random.Random(seed)
    names = list(PEOPLE[:people])
    local_start = _local(end, zone).date() - timedelta(days=days)
    start = _utc(datetime.combine(local_start, time(0), tzinfo=zone))
    plan = Plan(people=names, start=start, end=end)

    def moment(day: int, hour: float) -> datetime:
        """Local day index + hour of day as naive UTC (DST-safe, via the zone)."""
        local = datetime.combine(local_start + timedelta(days=day), time(0), tzinfo=zone)
        return _utc(local + timedelta(hours=hour))

    # Everyone registers on the first morning, anna first.
    for i, name in enumerate(names):
        plan.events.append(Event(moment(0, 8.5 + i * 0.4 + rng.random() * 0.3), "register", name))
    opening = max(e.at for e in plan.events) + timedelta(minutes=5)

    pairs = _pair_weights(rng, names)
    day_weights = [WEEKDAYS[(local_start + timedelta(days=d)).weekday()] * rng.lognormvariate(0, 0.35)
                   for d in range(days + 1)]  # day `days` is today, up to `end`
    text = TextMaker(rng)
    outage_day = min(days - 1, max(1, int(days * 0.65)))
    outage = (moment(outage_day, 18.5), moment(outage_day, 21.0))

    drafts: list[tuple[datetime, str, str, str]] = []
    fresh = _fresh(rng, text, names, end)[-messages:]
    cutoff = end - timedelta(hours=1)
    forced = 2  # make sure the outage sees traffic: two threads start inside it
    while len(drafts) < messages - len(fresh):
        a, b = rng.choices(pairs[0], weights=pairs[1])[0]
        if forced:
            first = outage[0] + timedelta(minutes=20 + 50 * (2 - forced) + rng.random() * 20)
            a, b = ("anna", names[1]) if forced == 2 else (names[1 % len(names)], "anna")
            forced -= 1
        else:
            day = rng.choices(range(days + 1), weights=day_weights)[0]
            hour = rng.choices(range(24), weights=HOURS)[0] + rng.random()
            first = moment(day, hour)
        if first < opening:
            continue
        if rng.random() < 0.5:
            a, b = b, a
        drafts.extend(_thread(rng, text, a, b, first, cutoff))
    drafts = drafts[:messages - len(fresh)]
    drafts.sort(key=lambda d: d[0])
    drafts += fresh
    for at, sender, recipient, body in drafts:
        plan.messages.append(Message(at, sender, recipient, body, str(uuidlib.UUID(int=rng.getrandbits(128), version=4))))

    plan.events.append(Event(outage[0], "outage", until=outage[1]))
    _logins(rng, plan, names, days, moment)
    stranger = min(moment(max(1, days - 2), 20.25), end - timedelta(minutes=20))
    plan.events.append(Event(stranger, "stranger", "anna"))
    # A short demo has no room for everything: nothing may happen before the accounts exist
    # (a first login creates the account) or after the end.
    plan.events = [e for e in plan.events if e.kind == "register"
                   or (opening < e.at and (e.until or e.at) < end - timedelta(minutes=10))]
    return plan


def _pair_weights(rng, names):
    """Very different volumes: anna's partners follow a Zipf curve, the rest share a third."""
    others = [n for n in names if n != "anna"]
    rng.shuffle(others)
    pairs, weights = [], []
    for rank, other in enumerate(others, start=1):
        pairs.append(("anna", other))
        weights.append(0.65 / rank ** 1.2)
    rest = [(x, y) for i, x in enumerate(names) for y in names[i + 1:] if "anna" not in (x, y)]
    rng.shuffle(rest)
    for rank, pair in enumerate(rest, start=1):
        pairs.append(pair)
        weights.append(0.35 / rank ** 1.2)
    return pairs, weights


def _thread(rng, text: TextMaker, a: str, b: str, first: datetime, end: datetime):
    """One conversation: an opener, replies within minutes, follow-ups, a closing word."""
    lang = _language(rng, a, b)
    topic = text.pick_topic()
    length = min(40, 2 + int(rng.expovariate(1 / 4.5)))
    at, sender, previous = first, a, None
    out = []
    for i in range(length):
        if at >= end:
            break
        if i == 0:
            role = "open" if rng.random() < 0.8 else "chat"
        elif i == length - 1:
            role = "close"
        elif sender == previous:
            role = rng.choice(("more", "chat", "ask"))
        else:
            role = rng.choices(("answer", "ask", "chat"), weights=(5, 3, 2))[0]
        recipient = b if sender == a else a
        out.append((at, sender, recipient, text.message(lang, topic, role, recipient)))
        previous = sender
        if rng.random() < 0.22:  # another message right after the last one
            at += timedelta(seconds=4 + rng.random() * 50)
        else:
            sender = recipient
            delay = min(3 * 3600, rng.lognormvariate(math.log(100), 1.0))
            if rng.random() < 0.08:
                delay = 1800 + rng.random() * 9000
            at += timedelta(seconds=delay)
        at += timedelta(microseconds=rng.randrange(1_000_000))
    return out


def _fresh(rng, text: TextMaker, names, end: datetime):
    """Three messages to anna in the last hour, which she has not read yet."""
    others = [n for n in names if n != "anna"][:2]
    out = []
    for minutes, sender in zip((52, 31, 9), (others + others)[:3]):
        lang = _language(rng, sender, "anna")
        at = end - timedelta(minutes=minutes, microseconds=rng.randrange(1_000_000))
        out.append((at, sender, "anna", text.message(lang, text.pick_topic(), rng.choice(("open", "ask")), "anna")))
    return out


def _language(rng, a: str, b: str) -> str:
    langs = {LANGUAGE.get(a, "de"), LANGUAGE.get(b, "de")} - {"both"}
    if len(langs) == 1:
        return langs.pop()
    return rng.choice(("de", "en"))


def _logins(rng, plan: Plan, names, days, moment) -> None:
    """Logins on new devices (some after a typo), two logouts, and one night of password guessing."""
    for name in names:
        day = rng.randrange(3, 12)
        while day < days:
            kind = "typo" if rng.random() < 0.35 else "relogin"
            plan.events.append(Event(moment(day, rng.choice((7.5, 12.2, 18.0, 21.5)) + rng.random()),
                                     kind, name, count=rng.choice((1, 1, 2))))
            day += rng.randrange(8, 20)
    for share, hour, index in ((0.3, 23.2, 1), (0.75, 22.7, 4)):
        if index < len(names):
            plan.events.append(Event(moment(min(days - 1, int(days * share)), hour), "logout", names[index]))
    target = names[2 % len(names)]
    plan.events.append(Event(moment(min(days - 1, int(days * 0.45)), 2.5 + rng.random() * 1.5), "attack",
                             target, count=8))


def _local(moment: datetime, zone: tzinfo) -> datetime:
    return moment.replace(tzinfo=timezone.utc).astimezone(zone)


def _utc(local: datetime) -> datetime:
    return local.astimezone(timezone.utc).replace(tzinfo=None)

