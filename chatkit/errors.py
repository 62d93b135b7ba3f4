"""Every failure a person can cause or meet, with how each front end reports it.

One exception family serves both front ends: the CLI prints ``message`` on one
line and exits with ``exit_code``; the server renders ``{"error": {"code",
"message"}}`` with ``status``. Library code raises these and never prints.
"""

from __future__ import annotations

EXIT_GENERAL = 1
EXIT_USAGE = 2
EXIT_AUTH = 3
EXIT_UNKNOWN_USER = 4
EXIT_QUEUED = 75


class ChatkitError(Exception):
    """Base class: a clear sentence for a person, an exit code, an HTTP status."""

    code = "error"
    status = 400
    exit_code = EXIT_GENERAL
    message = "Something went wrong."

    def __init__(self, message: str | None = None, *, code: str | None = None,
                 status: int | None = None, exit_code: int | None = None,
                 headers: dict[str, str] | None = None):
        self.message = message or self.message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        if exit_code is not None:
            self.exit_code = exit_code
        self.headers = headers or {}
        super().__init__(self.message)

    def to_json(self) -> dict:
        return {"error": {"code": self.code, "message": self.message}}


# --- usage and input -------------------------------------------------------

class UsageError(ChatkitError):
    code = "bad_request"
    exit_code = EXIT_USAGE
    message = "That input is not valid."


class BadRequest(UsageError):
    """A request the server cannot read (malformed JSON, wrong types, ...)."""


class BadQuery(UsageError):
    code = "bad_query"
    message = "That search query cannot be used."


class PayloadTooLarge(ChatkitError):
    code = "payload_too_large"
    status = 413
    message = "The request is larger than 64 KiB."


class UnsupportedMediaType(UsageError):
    code = "unsupported_media_type"
    status = 415
    message = "Send the request body as JSON (Content-Type: application/json)."


class Conflict(ChatkitError):
    code = "conflict"
    status = 409
    message = "That message id was already used for a different message."


# --- accounts and sessions --------------------------------------------------

class NotLoggedIn(ChatkitError):
    code = "not_logged_in"
    status = 401
    exit_code = EXIT_AUTH
    message = "Not logged in. Run `chatkit login USER` first."


class BadCredentials(ChatkitError):
    code = "bad_credentials"
    status = 401
    exit_code = EXIT_AUTH
    message = "Wrong username or password."


class Unauthorized(ChatkitError):
    code = "unauthorized"
    status = 401
    exit_code = EXIT_AUTH
    message = "Missing, expired or revoked token. Log in again."


class TooManyAttempts(ChatkitError):
    code = "too_many_attempts"
    status = 429
    exit_code = EXIT_AUTH
    message = "Too many failed logins. Try again later."

    def __init__(self, retry_after: int, message: str | None = None):
        self.retry_after = max(1, int(retry_after))
        super().__init__(
            message or f"Too many failed logins. Try again in {self.retry_after} seconds.",
            headers={"Retry-After": str(self.retry_after)},
        )


class UnknownUser(ChatkitError):
    code = "unknown_user"
    status = 404
    exit_code = EXIT_UNKNOWN_USER
    message = "No such user on the server."


class NotFound(ChatkitError):
    code = "not_found"
    status = 404
    message = "Not found."


class MethodNotAllowed(ChatkitError):
    code = "method_not_allowed"
    status = 405
    message = "That method is not allowed here."


# --- the server's own trouble -----------------------------------------------

class ServiceUnavailable(ChatkitError):
    code = "unavailable"
    status = 503
    message = "The server cannot store anything right now. Try again shortly."

    def __init__(self, message: str | None = None, retry_after: int = 5, code: str | None = None):
        super().__init__(message, code=code, headers={"Retry-After": str(retry_after)})


# --- the client side ----------------------------------------------------------

class ServerUnreachable(ChatkitError):
    """Network trouble, timeouts and 5xx: the message stays in the outbox."""

    code = "server_unreachable"
    exit_code = EXIT_GENERAL
    message = "The server cannot be reached."


class Queued(ChatkitError):
    """Not a failure of the person's: the message is safe and will be retried."""

    code = "queued"
    exit_code = EXIT_QUEUED
    message = "Kept in the outbox; it will be retried."


class StoreError(ChatkitError):
    """The local database cannot be used (corrupt, locked, too new, unwritable)."""

    code = "store_error"
    exit_code = EXIT_GENERAL
    message = "The local database cannot be used."


class NotFoundLocally(ChatkitError):
    code = "not_found"
    exit_code = EXIT_GENERAL
    message = "Nothing matches that."
