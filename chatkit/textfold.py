"""Text folding shared by the index, the query parser and the highlighter.

FTS5's unicode61 tokenizer with remove_diacritics 2 folds `ü` to `u` but not
`ß` to `ss`, and leaves ligatures and full-width letters alone. So the index
keeps a folded copy of each body (`fold()`: NFKC, then `str.casefold()`, which
maps `ß`/`ẞ` to `ss`, `ﬁ` to `fi`, `Ｆ` to `f`) and queries are folded the same
way. The tokenizer then does the rest (case, diacritics).

`token_spans()` and `match_key()` mirror that tokenizer in Python, so search
results can highlight matches in the original text, which FTS5's snippet()
cannot do when the match was found in the folded copy. Kept import-light on
purpose: the read path of `chatkit search` imports this.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# unicode61's token characters: letters, numbers, private use, and (because
# remove_diacritics is on) non-spacing marks; everything else separates tokens.
_ASCII_TOKEN = re.compile(r"[A-Za-z0-9]+")
_TOKEN_CATEGORIES = frozenset({"Lu", "Ll", "Lt", "Lm", "Lo", "Nd", "Nl", "No", "Co", "Mn"})


def fold(text: str | None) -> str | None:
    """The normalised copy the index keeps: NFKC, then full case folding."""
    if text is None:
        return None
    return unicodedata.normalize("NFKC", text).casefold()


def is_token_char(ch: str) -> bool:
    return unicodedata.category(ch) in _TOKEN_CATEGORIES


def token_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of the tokens unicode61 would see in `text`."""
    if text.isascii():
        return [m.span() for m in _ASCII_TOKEN.finditer(text)]
    spans, start = [], None
    for i, ch in enumerate(text):
        if is_token_char(ch):
            if start is None:
                start = i
        elif start is not None:
            spans.append((start, i))
            start = None
    if start is not None:
        spans.append((start, len(text)))
    return spans


@lru_cache(maxsize=8192)
def match_key(token: str) -> str:
    """What the index compares for one token: folded, diacritics removed as unicode61 does.

    remove_diacritics strips marks from Latin letters only (`ü` is `u`, but
    Greek `ά` stays `ά`), so marks after any other letter are kept.
    """
    if token.isascii():
        return token.lower()
    kept, latin = [], True
    for ch in unicodedata.normalize("NFKD", fold(token)):
        if unicodedata.category(ch) == "Mn":
            if latin:
                continue
        else:
            latin = _is_latin(ch)
        kept.append(ch)
    return unicodedata.normalize("NFC", "".join(kept))


def _is_latin(ch: str) -> bool:
    code = ord(ch)
    return code < 0x250 or 0x1E00 <= code <= 0x1EFF


def match_keys(text: str) -> list[str]:
    """The keys of every token in `text`, in order; empty if it has no token at all."""
    keys = [match_key(text[a:b]) for a, b in token_spans(text)]
    return [k for k in keys if k]


# --- highlighting ---------------------------------------------------------------

SNIPPET_CHARS = 160
SNIPPET_LEAD_TOKENS = 4


def snippet_segments(body: str, exact, prefixes: tuple[str, ...] = ()) -> list[tuple[str, bool]]:
    """The body (or a window of it around the first match) as (text, is_match) pieces.

    `exact` and `prefixes` are match keys. Tokens are compared with the index's
    own folding, so `grüsse` highlights `Grüße` and `munchen` highlights
    `München` in the original text. Whitespace runs become single spaces; a
    cut end gets an ellipsis.
    """
    text = " ".join(body.split())
    spans = token_spans(text)
    hits: list[tuple[int, int]] = []
    for a, b in spans:
        if _is_match(text[a:b], exact, prefixes):
            if hits and _joined(text[hits[-1][1]:a]):  # e-mail, 12:30: one highlight
                a = hits.pop()[0]
            hits.append((a, b))
    start, end = 0, len(text)
    if len(text) > SNIPPET_CHARS:
        if hits:
            first = next(i for i, span in enumerate(spans) if span[0] == hits[0][0])
            start = spans[max(0, first - SNIPPET_LEAD_TOKENS)][0]
        end = min(len(text), start + SNIPPET_CHARS)
        inside = [b for a, b in spans if a >= start and b <= end]
        if end < len(text) and inside:
            end = inside[-1]
    segments: list[tuple[str, bool]] = [("…", False)] if start > 0 else []
    pos = start
    for a, b in hits:
        if a < start or b > end:
            continue
        if a > pos:
            segments.append((text[pos:a], False))
        segments.append((text[a:b], True))
        pos = b
    if end > pos:
        segments.append((text[pos:end], False))
    if end < len(text):
        segments.append(("…", False))
    return segments


def _joined(gap: str) -> bool:
    return 0 < len(gap) <= 2 and not any(ch.isspace() for ch in gap)


def _is_match(token: str, exact, prefixes) -> bool:
    key = match_key(token)
    return key in exact or any(key.startswith(p) for p in prefixes)
