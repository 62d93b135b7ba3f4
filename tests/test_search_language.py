"""The query language of DESIGN.md section 6, table-driven against a seeded archive."""

from datetime import datetime, timezone

import pytest

from chatkit.errors import BadQuery, UsageError
from chatkit.search import parse_query, search_messages
from fixtures_search import TZ

GRUESSE = {"gruesse_sz", "gruesse_caps", "gruesse_ss"}
HELLO = {"hello_world", "hello_there", "quote"}

CASES = [
    # German as people write it: ß/ss, case and umlauts all meet.
    ("grüße", GRUESSE),
    ("grüsse", GRUESSE),
    ("GRÜSSE", GRUESSE),
    ("grusse", GRUESSE),
    ("Grüße", GRUESSE),
    ("gruß*", GRUESSE),
    ("munchen", {"gruesse_sz"}),
    ("MÜNCHEN", {"gruesse_sz"}),
    ("uber", {"gruesse_caps"}),
    ("über", {"gruesse_caps"}),
    ("Nachr*", {"nachricht", "nachrichten"}),
    ("nachricht", {"nachricht"}),
    ("strasse", {"strasse"}),
    ("STRASSE", {"strasse"}),
    ("Straße*", {"strasse"}),
    # Words must all match; phrases; exclusions; prefixes.
    ("hello", HELLO),
    ("hello world", {"hello_world", "hello_there"}),
    ('"hello world"', {"hello_world"}),
    ("hello -there", {"hello_world", "quote"}),
    ('hello -"hello world"', {"hello_there", "quote"}),
    ("hel*", HELLO),
    ("hello worl*", {"hello_world", "hello_there"}),
    ("hello nothing-like-this", set()),
    # Raw FTS5 trouble is searched as literal words.
    ('"hello', HELLO),
    ('"hello world', {"hello_world", "hello_there"}),
    ("e-mail", {"email"}),
    ("12:30", {"email"}),
    ("don't", {"email"}),
    ("C++", {"cpp"}),
    ("AND", {"cpp"}),
    ("NOT", {"cpp"}),
    ("NEAR", {"cpp"}),
    ("AND/OR", {"cpp"}),
    ("hello AND world", set()),
    ("(hello", HELLO),
    ("hello)", HELLO),
    ("^hello", HELLO),
    ("{body}: hello", set()),
    ("body:hello", set()),
    ("hello\x00world", {"hello_world", "hello_there"}),  # NUL separates, never errors
    ("hello \x00 world", {"hello_world", "hello_there"}),
    ("foo:bar", set()),
    # Partner and sender filters; names not in the archive find nothing.
    ("with:bob", {"gruesse_sz", "gruesse_caps", "cpp", "hello_world"}),
    ("with:BOB hello", {"hello_world"}),
    ("with:@bob hello", {"hello_world"}),
    ('with:"bob" hello', {"hello_world"}),
    ("with:bob with:carol hello", HELLO),
    ("with:nobody hello", set()),
    ("from:carol", {"gruesse_ss", "hello_there"}),
    ("from:alice hello", {"hello_world", "quote"}),
    ("from:bob grüße", {"gruesse_sz"}),
    ("with:bob -hello", {"gruesse_sz", "gruesse_caps", "cpp"}),
    ("with: hello", set()),  # `with:` alone is the word "with"
    # Local days in Europe/Berlin, as in Slack.
    ("on:2026-12-02", {"gruesse_ss", "nachricht", "nachrichten"}),
    ("on:2026-12-03 e-mail", {"email"}),
    ("before:2026-12-02 grüße", {"gruesse_sz", "gruesse_caps"}),
    ("after:2026-12-02 hello", HELLO),
    ("after:2026-12-02 nachrichten", set()),
    ("after:2026-12-01 before:2026-12-03", {"gruesse_ss", "nachricht", "nachrichten"}),
    ("on:2026-12-02 on:2026-12-03", set()),
    # Other accounts' messages in the same file never show.
    ("mallory", set()),
]


@pytest.mark.parametrize("query, expected", CASES, ids=[c[0] for c in CASES])
def test_language(seeded_archive, found, query, expected):
    hits = search_messages(seeded_archive[0], query, "alice", tz=TZ, limit=100)
    assert set(found(hits)) == expected


@pytest.mark.parametrize("query, message", [
    ("", "Nothing to search for"),
    ("   ", "Nothing to search for"),
    ("*", "Nothing to search for"),
    ('""', "Nothing to search for"),
    ("- -- ---", "Nothing to search for"),
    ("\x00", "Nothing to search for"),
    ("-hello", "Exclusions alone would match everything"),
    ('-"hello world" -there', "Exclusions alone would match everything"),
    ("on:2026-02-30 hello", "on:2026-02-30 is not a date; use YYYY-MM-DD, today or yesterday."),
    ("before:2026-1-1 hello", "before:2026-1-1 is not a date"),
    ("after:2026-W49-1", "after:2026-W49-1 is not a date"),
    ("after:tomorrow", "after:tomorrow is not a date"),
    ("on:9999-12-31", "on:9999-12-31 is too far from today"),
    (" ".join(f"w{i}" for i in range(65)), "at most 64 words"),
])
def test_queries_that_cannot_be_used(seeded_archive, query, message):
    with pytest.raises(BadQuery) as info:
        search_messages(seeded_archive[0], query, "alice", tz=TZ)
    assert message in info.value.message
    assert info.value.exit_code == 2


def test_bad_limit_sort_and_zone_are_usage_errors(seeded_archive):
    for kwargs in ({"limit": 0}, {"limit": 1001}, {"sort": "best"}, {"tz": "Mars/Base"}):
        with pytest.raises(UsageError):
            search_messages(seeded_archive[0], "on:today", "alice", **kwargs)


def test_best_first_and_newest_first(seeded_archive, found):
    archive = seeded_archive[0]
    ranked = search_messages(archive, "hello world", "alice", tz=TZ)
    assert ranked[0].rank <= ranked[1].rank  # bm25: lower is better
    assert found(search_messages(archive, "hello", "alice")) == ["hello_world", "hello_there", "quote"]
    newest = search_messages(archive, "hello", "alice", sort="date", tz=TZ)
    assert found(newest) == ["quote", "hello_there", "hello_world"]
    assert {hit.rank for hit in newest} == {None}  # time is the order; no bm25 to pay for
    assert found(search_messages(archive, "hello", "alice", sort="date", limit=1)) == ["quote"]


def test_filters_only_list_newest_first_without_rank(seeded_archive, found):
    archive = seeded_archive[0]
    hits = search_messages(archive, "with:carol", "alice", tz=TZ)
    assert found(hits) == ["quote", "hello_there", "nachricht", "gruesse_ss"]
    assert {hit.rank for hit in hits} == {None}


def test_with_peer_argument_narrows_like_with_filter(seeded_archive, found):
    archive = seeded_archive[0]
    hits = search_messages(archive, "hello", "alice", with_peer="carol")
    assert set(found(hits)) == {"hello_there", "quote"}
    assert search_messages(archive, "with:bob hello", "alice", with_peer="carol") == []


@pytest.mark.parametrize("query, snippet", [
    ("grüsse", "Viele [Grüße] aus München!"),
    ("munchen", "Viele Grüße aus [München]!"),
    ("GRUSSE uber", "[GRÜSSE] zurück, und [über] alles."),
    ("Nachr*", "[Nachrichten] von gestern"),
    ("e-mail", "Send me an [e-mail] at 12:30, don't forget"),
    ("strasse", "Die [Straße] ist gesperrt"),
])
def test_snippets_highlight_the_original_text(seeded_archive, query, snippet):
    hits = search_messages(seeded_archive[0], query, "alice")
    assert snippet in [hit.snippet for hit in hits]


def test_long_messages_get_a_window_around_the_match(client_store, logged_in):
    from fixtures_client import add_message

    body = "Lorem ipsum dolor sit amet. " * 20 + "Here is the Nadel im Heuhaufen. " + "Tail text. " * 20
    add_message(client_store, "bob", body)
    (hit,) = search_messages(client_store, "nadel", "alice")
    assert hit.snippet.startswith("…") and hit.snippet.endswith("…")
    assert "[Nadel]" in hit.snippet
    assert len(hit.snippet) < 200
    assert hit.message["body"] == body


def test_missing_archive_finds_nothing_and_creates_no_file(isolated_data_dir):
    assert search_messages(isolated_data_dir / "client.db", "hello", "alice") == []
    assert not (isolated_data_dir / "client.db").exists()


UTC = timezone.utc


@pytest.mark.parametrize("query, now, since, until", [
    # 00:30 UTC on Dec 4 is 01:30 in Berlin: today is Dec 4 there.
    ("on:today x", datetime(2026, 12, 4, 0, 30, tzinfo=UTC), "2026-12-03 23:00:00", "2026-12-04 23:00:00"),
    ("on:yesterday x", datetime(2026, 12, 4, 0, 30, tzinfo=UTC), "2026-12-02 23:00:00", "2026-12-03 23:00:00"),
    ("before:today x", datetime(2026, 12, 4, 0, 30, tzinfo=UTC), None, "2026-12-03 23:00:00"),
    ("after:yesterday x", datetime(2026, 12, 4, 0, 30, tzinfo=UTC), "2026-12-03 23:00:00", None),
    # The day the clocks go forward has 23 hours.
    ("on:2026-03-29 x", None, "2026-03-28 23:00:00", "2026-03-29 22:00:00"),
    ("ON:Today x", datetime(2026, 7, 1, 12, 0, tzinfo=UTC), "2026-06-30 22:00:00", "2026-07-01 22:00:00"),
])
def test_local_day_bounds(query, now, since, until):
    q = parse_query(query, tz=TZ, now=now)
    assert (q.since, q.until) == (since, until)


def test_every_term_is_quoted_and_folded():
    q = parse_query('Grüße -"NOT this" C++ e-mail* AND', tz="UTC")
    assert q.match == '{body_folded} : (("grüsse" AND "c" AND "e mail"* AND "and") NOT ("not this"))'


def test_newest_first_is_exact_when_ids_are_not_in_time_order(client_store, logged_in):
    """Messages imported late carry old times: the newest-first page must still be by time."""
    import random

    from fixtures_client import add_message

    rng = random.Random(7)
    minutes = list(range(60))
    rng.shuffle(minutes)  # insertion order has nothing to do with time order
    sent = {}
    for i, minute in enumerate(minutes):
        peer = "bob" if i % 2 else "carol"
        message = add_message(client_store, peer, f"ping {i}", sent_at=f"2026-12-01T10:{minute:02d}:00")
        sent[message["id"]] = (f"2026-12-01T10:{minute:02d}:00Z", peer)
    for query, peer in (("ping", None), ("ping with:bob", "bob")):
        for limit in (1, 5, 20, 59):
            hits = search_messages(client_store, query, "alice", sort="date", limit=limit)
            expected = sorted((t for t, p in sent.values() if peer in (None, p)), reverse=True)[:limit]
            assert [hit.message["sent_at"] for hit in hits] == expected, (query, limit)
