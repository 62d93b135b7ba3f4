"""Strict reading of requests: JSON bodies, fields, query integers, tokens.

Every way a request can be malformed ends here as a ChatkitError with a
sentence naming the problem, so no parser exception (RecursionError,
UnicodeError, ValueError) ever reaches Flask as a 500.
"""

from __future__ import annotations

import json
import re

from flask import request

from ..errors import BadRequest, Unauthorized, UnsupportedMediaType

USERNAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}")
TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{16,128}")
UUID_RE = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
DIGITS_RE = re.compile(r"[0-9]{1,19}")
MAX_SEQ = 2**63 - 1


def _no_constants(name):
    raise ValueError(f"{name} is not valid JSON")


def _unique_keys(pairs):
    obj = {}
    for key, value in pairs:
        if key in obj:
            raise ValueError(f"duplicate key {key!r}")
        obj[key] = value
    return obj


def json_object() -> dict:
    """The request body as a JSON object, or a 400/413/415 error."""
    if request.mimetype != "application/json":
        raise UnsupportedMediaType()
    raw = request.get_data(cache=False)  # raises 413 past MAX_CONTENT_LENGTH
    try:
        text = raw.decode("utf-8")
        value = json.loads(text, parse_constant=_no_constants, object_pairs_hook=_unique_keys)
    except RecursionError:
        raise BadRequest("The JSON body is nested too deeply.") from None
    except UnicodeDecodeError:
        raise BadRequest("The request body is not valid UTF-8.") from None
    except ValueError as exc:
        raise BadRequest(f"The request body is not valid JSON ({_short(exc)}).") from None
    if not isinstance(value, dict):
        raise BadRequest("The JSON body must be an object.")
    return value


def _short(exc):
    return str(exc).split(":")[0][:80]


def text_field(obj: dict, name: str, min_len: int = 1, max_len: int | None = None) -> str:
    """A required string field: valid Unicode, no NUL, within the length bounds."""
    if name not in obj:
        raise BadRequest(f"Field '{name}' is required.")
    value = obj[name]
    if not isinstance(value, str):
        raise BadRequest(f"Field '{name}' must be a string.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise BadRequest(f"Field '{name}' is not valid Unicode text.") from None
    if "\x00" in value:
        raise BadRequest(f"Field '{name}' must not contain NUL characters.")
    if len(value) < min_len or (max_len is not None and len(value) > max_len):
        limit = f"{min_len} to {max_len}" if max_len else f"at least {min_len}"
        raise BadRequest(f"Field '{name}' must be {limit} characters long.")
    return value


def username_field(obj: dict, name: str = "username") -> str:
    value = text_field(obj, name, max_len=10_000)
    if not USERNAME_RE.fullmatch(value):
        raise BadRequest(f"Field '{name}' must be 1 to 32 letters, digits, '_', '.' or '-', "
                         "starting with a letter or digit.")
    return value


def int_arg(name: str, default: int, low: int, high: int) -> int:
    """A query-string integer in [low, high]; anything else is a 400."""
    raw = request.args.get(name)
    if raw is None:
        return default
    if not DIGITS_RE.fullmatch(raw) or not low <= int(raw) <= high:
        raise BadRequest(f"Query parameter '{name}' must be an integer from {low} to {high}.")
    return int(raw)


def bearer_token() -> str:
    """The token from `Authorization: Bearer ...` (the only place one is accepted)."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not TOKEN_RE.fullmatch(token):
        raise Unauthorized()
    return token
