"""Full-text search: the FTS5 index (set up with sqlite-utils) and the query language.

PROVISIONAL: the index set-up below is the client store's m002 migration;
the query language (DESIGN.md section 6) is still to be written here.
"""

from __future__ import annotations

from .textfold import fold

FTS_TOKENIZE = "unicode61 remove_diacritics 2"


def enable_search(db) -> None:
    """Add the folded body copy and the FTS5 index with triggers; index existing rows."""
    messages = db["messages"]
    if "body_folded" not in messages.columns_dict:
        db.execute("ALTER TABLE messages ADD COLUMN body_folded TEXT")
    rows = db.execute("SELECT id, body FROM messages WHERE body_folded IS NULL").fetchall()
    db.conn.executemany(
        "UPDATE messages SET body_folded = ? WHERE id = ?", [(fold(body), id_) for id_, body in rows]
    )
    messages.enable_fts(
        ["body", "body_folded"],
        fts_version="FTS5",
        create_triggers=True,
        tokenize=FTS_TOKENIZE,
        replace=True,
    )
