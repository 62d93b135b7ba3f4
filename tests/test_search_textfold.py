"""Folding and tokens: Python must see words exactly as the FTS5 index does."""

import sqlite3

import pytest

from chatkit.search import FTS_TOKENIZE
from chatkit.textfold import fold, match_key, match_keys, snippet_segments, token_spans


@pytest.mark.parametrize("text, folded", [
    ("Straße", "strasse"),
    ("GROẞE", "grosse"),          # capital sharp s
    ("Grüße", "grüsse"),
    ("ﬁnden", "finden"),          # ligature (NFKC)
    ("Ｆｕｌｌ", "full"),            # full-width letters (NFKC)
    ("u\u0308ber", "über"),       # decomposed umlaut composes (NFKC)
    ("İstanbul", "i̇stanbul"),
    (None, None),
])
def test_fold(text, folded):
    assert fold(text) == folded


@pytest.mark.parametrize("a, b", [
    ("grüße", "GRÜSSE"), ("grüsse", "grusse"), ("München", "munchen"), ("über", "UBER"),
    ("u\u0308ber", "über"), ("Straße", "STRASSE"), ("ﬁnd", "find"), ("Ｆｕｌｌ", "full"), ("Café", "cafe"),
])
def test_spellings_meet(a, b):
    assert match_key(a) == match_key(b)


SAMPLES = [
    "Viele Grüße aus München!", "e-mail at 12:30, don't", "C++ und C#", "snake_case and kebab-case",
    "u\u0308ber alles \u0301acute", "ﬁnd Ｆull ẞ", "日本語のテキスト", "emoji 😀 ok ❤️", "x\u00ady soft hyphen",
    "tab\tnew\nline", "Ελληνικά κείμενα", "Русский текст", "hello..world!!", "İstanbul'da", "①②③ 12³",
]


def test_python_tokens_match_the_fts5_tokenizer():
    """The highlighter's tokens are the index's tokens (checked against fts5vocab)."""
    conn = sqlite3.connect(":memory:")
    conn.execute(f"CREATE VIRTUAL TABLE t USING fts5(x, tokenize='{FTS_TOKENIZE}')")
    conn.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, 'instance')")
    for i, text in enumerate(SAMPLES):
        conn.execute("INSERT INTO t (rowid, x) VALUES (?, ?)", (i, fold(text)))
    for i, text in enumerate(SAMPLES):
        theirs = [term for (term,) in conn.execute("SELECT term FROM v WHERE doc = ? ORDER BY offset", (i,))]
        assert match_keys(fold(text)) == theirs, text
        assert len(token_spans(text)) >= len(theirs)


def test_snippet_marks_whole_matches_and_joins_split_words():
    segments = snippet_segments("Schreib eine E-Mail an Grüße-Team", {"e", "mail", "grusse"})
    assert "".join(f"[{t}]" if hit else t for t, hit in segments) == "Schreib eine [E-Mail] an [Grüße]-Team"
    assert snippet_segments("nothing here", {"zebra"}) == [("nothing here", False)]
