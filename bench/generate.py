"""A deterministic chat archive as JSON Lines, the shape `chatkit export` writes.

One account ("kim") talks to 1,000 peers over two years; peer volumes follow
a Zipf-like law (the k-th peer gets weight 1/k, so the busiest has ~13% of all
messages and the quietest about a hundred in a million), busy and quiet days
alternate (so some local days have ~1,500 messages), nights are quiet, and
bodies mix German and English with umlauts, ß and emoji. Same arguments, same
bytes: files are cached under bench/out/ (git-ignored).

    python -m bench.generate --rows 1000000      # prints the path
"""

from __future__ import annotations

import argparse
import json
import math
import random
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"
ACCOUNT = "kim"
START = datetime(2024, 12, 5, tzinfo=timezone.utc)
DAYS = 730

FIRST = ["anna", "ben", "clara", "david", "emma", "felix", "greta", "hannah", "jonas", "lena",
         "lukas", "mia", "noah", "olivia", "paul", "sophie", "tom", "ute", "vera", "yusuf",
         "zoe", "jürgen", "max", "nina", "oscar", "priya", "ravi", "sam", "tara", "will"]
LAST = ["mueller", "schmidt", "schneider", "fischer", "weber", "meyer", "wagner", "becker",
        "hoffmann", "koch", "smith", "jones", "brown", "taylor", "wilson", "evans", "klein",
        "wolf", "neumann", "braun", "zimmermann", "krause", "lange", "hahn"]

GERMAN = [
    "Grüße aus der Straße nebenan", "Bis übermorgen!", "Schön, dass du da warst", "Tschüss und gute Nacht",
    "Hast du den Käse mitgebracht?", "Das Spiel war großartig", "Wir treffen uns um acht am Bahnhof",
    "Ich hab's vergessen, sorry", "Kannst du mir die Adresse schicken?", "Fußball heute Abend?",
    "Das Weißbier war zu warm", "Müller hat angerufen", "Ist die Größe richtig?", "Maßband liegt in der Küche",
    "Heiße Schokolade für alle", "Wie geht's deiner Mutter?", "Schöne Grüße an die Familie",
    "Der Zug hat Verspätung", "Äpfel oder Birnen?", "Öffnungszeiten bis 18 Uhr", "Übrigens: Danke!",
    "GROSSE Neuigkeiten", "Straßenbahn fährt nicht", "Frühstück um neun?", "Ich bin gleich da",
]
ENGLISH = [
    "See you tomorrow", "Thanks a lot!", "On my way", "Coffee later?", "Did you get my message?",
    "Running late, sorry", "That was great fun", "Can you send me the file?", "Happy birthday!",
    "Let's meet at the station", "I'll call you tonight", "What time works for you?", "Sounds good",
    "The train is delayed", "Dinner at mine on Friday?", "Good luck with the exam", "Miss you",
    "Just landed", "Where are the keys?", "Meeting moved to 3pm", "Naïve question: why?",
    "Café at the corner?", "Weekend plans?", "Can't wait", "Got it, thanks",
]
EMOJI = ["🎉", "😀", "👍", "❤️", "🍺", "☕", "🚆", "⚽", "🙈", "😂", "🇩🇪", "✨"]
HOURS = [1, 0.5, 0.3, 0.2, 0.2, 0.4, 1.5, 3, 4, 4, 4, 4.5, 5, 4.5, 4, 4, 4.5, 5, 6, 7, 7, 6, 4, 2]


def peer_names(count: int, rng: random.Random) -> list[str]:
    names, seen = [], set()
    while len(names) < count:
        name = f"{rng.choice(FIRST)}.{rng.choice(LAST)}{rng.randrange(100)}"
        ascii_name = name.replace("ü", "ue")
        if ascii_name not in seen:
            seen.add(ascii_name)
            names.append(ascii_name)
    return names


def body(rng: random.Random) -> str:
    pool = GERMAN if rng.random() < 0.55 else ENGLISH
    parts = [rng.choice(pool) for _ in range(1 + (rng.random() < 0.35) + (rng.random() < 0.1))]
    text = ". ".join(parts)
    if rng.random() < 0.25:
        text += " " + rng.choice(EMOJI)
    return text


def sent_times(rows: int, rng: random.Random) -> list[datetime]:
    """Sorted UTC times: day weights swing between quiet and busy weeks; nights are quiet."""
    day_weights = [(1 + 0.45 * math.sin(d / 9.0) + (0.3 if (START + timedelta(days=d)).weekday() >= 5 else 0))
                   for d in range(DAYS)]
    days = rng.choices(range(DAYS), weights=day_weights, k=rows)
    hours = rng.choices(range(24), weights=HOURS, k=rows)
    times = []
    for d, h in zip(days, hours):
        # Hours follow a Berlin-ish rhythm: shift by one hour to UTC.
        seconds = d * 86400 + ((h - 1) % 24) * 3600 + rng.randrange(3600)
        times.append(START + timedelta(seconds=seconds, microseconds=rng.randrange(1_000_000)))
    times.sort()
    return times


def messages(rows: int, peers: int = 1000, seed: int = 2026):
    rng = random.Random(seed)
    names = peer_names(peers, rng)
    weights = [1 / (k + 1) for k in range(peers)]
    chosen = rng.choices(names, weights=weights, k=rows)
    unread_after = START + timedelta(days=DAYS - 3)
    for when, peer in zip(sent_times(rows, rng), chosen):
        outgoing = rng.random() < 0.5
        yield {
            "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "peer": peer,
            "direction": "out" if outgoing else "in",
            "sender": ACCOUNT if outgoing else peer,
            "recipient": peer if outgoing else ACCOUNT,
            "body": body(rng),
            "sent_at": when.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "status": "sent" if outgoing else ("unread" if when >= unread_after else "read"),
        }


def generate(rows: int = 1_000_000, peers: int = 1000, seed: int = 2026) -> Path:
    """The cached file for these arguments, written first if absent."""
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"messages-{rows}-{peers}-{seed}.jsonl"
    if path.exists():
        return path
    tmp = path.with_suffix(".tmp")
    dumps = json.JSONEncoder(ensure_ascii=False).encode
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.writelines(dumps(m) + "\n" for m in messages(rows, peers, seed))
    tmp.replace(path)  # a file under its final name is always complete
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--peers", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    print(generate(args.rows, args.peers, args.seed))


if __name__ == "__main__":
    main()
