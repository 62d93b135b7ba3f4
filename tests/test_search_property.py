"""Whatever a person types, search returns normally (or says why it cannot) and changes nothing."""

import hashlib
import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chatkit.errors import BadQuery
from chatkit.search import search_messages
from fixtures_search import TZ

SYNTAX = ['"', "*", "-", ":", "(", ")", "^", "+", "{", "}", "[", "]", "'", ".", " ", "\x00", "\t", "\n",
          "AND", "OR", "NOT", "NEAR", "NEAR(", "with:", "from:", "on:", "before:", "after:", "today",
          "2026-12-02", "body:", "body_folded:", "grüße", "ß", "ẞ", "hello", "Ü", "u\u0308", "\ud800",
          "\u0301", "😀", "ﬁ", "İ", "日本", "\u200b", "\ufeff", "'; DROP TABLE messages; --"]

queries = st.one_of(
    st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=60),
    st.lists(st.sampled_from(SYNTAX), max_size=12).map("".join),
    st.lists(st.sampled_from(SYNTAX), max_size=8).map(" ".join),
)


def fingerprint(path) -> str:
    conn = sqlite3.connect(path)
    try:
        digest = hashlib.sha256()
        for line in conn.iterdump():
            digest.update(line.encode("utf-8", "surrogatepass"))
        return digest.hexdigest()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def watched(seeded_archive):
    """The archive's path and a connection whose data_version changes on any other writer's commit."""
    path = seeded_archive[0]
    before = fingerprint(path)
    conn = sqlite3.connect(path)
    yield path, conn
    conn.close()
    assert fingerprint(path) == before  # and, at the end, byte for byte the same content


@settings(max_examples=300, deadline=None)
@given(query=queries, sort=st.sampled_from(["rank", "date"]))
def test_any_query_returns_normally_and_leaves_the_archive_unchanged(watched, query, sort):
    path, conn = watched
    version = conn.execute("PRAGMA data_version").fetchone()[0]
    try:
        hits = search_messages(path, query, "alice", sort=sort, tz=TZ, limit=5)
    except BadQuery as exc:
        assert exc.message and "\n" not in exc.message
    else:
        assert len(hits) <= 5
        for hit in hits:
            assert isinstance(hit.snippet, str)
            assert hit.rank is None or isinstance(hit.rank, float)
            assert set(hit.to_json()) == {"id", "peer", "direction", "sender", "recipient", "body",
                                          "sent_at", "status", "snippet", "rank"}
    assert conn.execute("PRAGMA data_version").fetchone()[0] == version
