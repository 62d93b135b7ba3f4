"""Text folding shared by the index and the query parser.

FTS5's unicode61 tokenizer with remove_diacritics 2 folds `ü` to `u` but not
`ß` to `ss`; `str.casefold()` does, so the index keeps a folded copy of each
body and queries are folded the same way. Kept import-light on purpose.
"""


def fold(text: str | None) -> str | None:
    if text is None:
        return None
    return text.casefold()
