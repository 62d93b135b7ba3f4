"""One way to fail: every error, on any path, is DESIGN.md's JSON shape.

ChatkitError carries its own status and headers; werkzeug's HTTP errors (404,
405, 413, ...) are translated; database trouble that escaped a store call
becomes a 503 with Retry-After; anything else is logged with its traceback
and answered with a plain 500 JSON body that reveals nothing.
"""

from __future__ import annotations

import logging
import re

from flask import jsonify
from werkzeug.exceptions import HTTPException

from ..errors import ChatkitError
from .store import storage_error

log = logging.getLogger("chatkit.server")

MESSAGES = {
    404: "There is nothing at this address. The API lives under /api/ (see /api/openapi.json).",
    405: "That method is not allowed on this address.",
    413: "The request is larger than 64 KiB.",
}
CODES = {413: "payload_too_large"}


def error_body(code: str, message: str) -> dict:
    return {"error": {"code": code, "message": message}}


def render(status: int, code: str, message: str, headers=None):
    response = jsonify(error_body(code, message))
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def register_error_handlers(app):
    @app.errorhandler(ChatkitError)
    def chatkit_error(exc: ChatkitError):
        return render(exc.status, exc.code, exc.message, exc.headers)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        status = exc.code or 500
        code = CODES.get(status) or _snake(exc.name or "error")
        headers = {}
        if status == 405 and getattr(exc, "valid_methods", None):
            headers["Allow"] = ", ".join(sorted(exc.valid_methods))
        return render(status, code, MESSAGES.get(status, exc.description or exc.name), headers)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        mapped = storage_error(exc)
        if isinstance(mapped, ChatkitError):
            return chatkit_error(mapped)
        log.error("unexpected error", exc_info=exc)
        return render(500, "internal_error", "The server hit an unexpected problem. It has been logged.")


def _snake(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") or "error"
