"""Talking to a chatkit server: one small class over httpx, errors as ChatkitErrors.

Every way a request can go wrong ends up as one exception a person can read:
network trouble, timeouts and the server's 5xx become ServerUnreachable (the
outbox keeps the message and retries); the server's JSON errors become the
matching ChatkitError (bad credentials, expired session, unknown user, ...).

Tests inject an httpx transport — `httpx.WSGITransport(app=create_app(...))` —
with `inject_transport()`, so the CLI runs in-process against the real Flask
app. httpx is imported only when a request is about to be made, which keeps
it off the start-up path of read-only commands.
"""

from __future__ import annotations

from ..errors import (
    BadCredentials,
    ChatkitError,
    Conflict,
    PayloadTooLarge,
    ServerUnreachable,
    TooManyAttempts,
    Unauthorized,
    UnknownUser,
    UsageError,
)

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 15.0
USER_AGENT = "chatkit-cli/0.1"

EXPIRED = "Your session has expired or was revoked; run chatkit login to log in again."

_injected = None


def inject_transport(transport):
    """Route every new Api through `transport` (None restores the network); returns the old one."""
    global _injected
    previous, _injected = _injected, transport
    return previous


def connect(session, **kwargs) -> "Api":
    """An Api for a saved Session (server URL + token)."""
    return Api(session.server, session.token, **kwargs)


class Api:
    """The HTTP API of DESIGN.md section 4, one method per route."""

    def __init__(self, server: str, token: str | None = None, *, transport=None):
        import httpx

        self.server = server.rstrip("/")
        if not self.server.lower().startswith(("http://", "https://")):
            raise UsageError(f"{server!r} is not a server URL; use e.g. http://127.0.0.1:8000.")
        self.token = token
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            self._client = httpx.Client(
                base_url=self.server, headers=headers,
                timeout=httpx.Timeout(READ_TIMEOUT, connect=CONNECT_TIMEOUT),
                transport=transport or _injected, follow_redirects=False,
            )
        except (httpx.InvalidURL, ValueError) as exc:
            raise UsageError(f"{server!r} is not a server URL ({exc}); use e.g. http://127.0.0.1:8000.") from None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self) -> None:
        self._client.close()

    # --- routes -------------------------------------------------------------

    def login(self, username: str, password: str) -> dict:
        return self._request("POST", "/api/login", json={"username": username, "password": password})

    def logout(self) -> None:
        self._request("POST", "/api/logout")

    def users(self) -> list[dict]:
        return self._request("GET", "/api/users")["users"]

    def post_message(self, uuid: str, to: str, body: str, sent_at: str) -> dict:
        """Deliver one message; the same uuid again is answered as the first time."""
        return self._request("POST", "/api/messages",
                             json={"id": uuid, "to": to, "body": body, "sent_at": sent_at})

    def get_messages(self, after: int, wait: int = 0) -> dict:
        """Incoming messages after the cursor; asking acknowledges everything up to `after`."""
        return self._request("GET", "/api/messages", params={"after": after, "wait": wait},
                             read_timeout=READ_TIMEOUT + wait)

    def health(self) -> dict:
        return self._request("GET", "/api/health")

    # --- plumbing -------------------------------------------------------------

    def _request(self, method: str, path: str, *, read_timeout: float | None = None, **kwargs):
        import httpx

        if read_timeout is not None:
            kwargs["timeout"] = httpx.Timeout(read_timeout, connect=CONNECT_TIMEOUT)
        try:
            response = self._client.request(method, path, **kwargs)
        except httpx.UnsupportedProtocol:
            raise UsageError(f"{self.server!r} is not a server URL; use e.g. http://127.0.0.1:8000.") from None
        except httpx.TimeoutException:
            raise unreachable(self.server, "timed out") from None
        except httpx.ConnectError as exc:
            raise unreachable(self.server, _connect_reason(exc)) from None
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError):
            raise unreachable(self.server, "the connection broke before the reply arrived") from None
        except httpx.TransportError as exc:
            raise unreachable(self.server, str(exc) or type(exc).__name__) from None
        return self._reply(response)

    def _reply(self, response):
        status = response.status_code
        if status == 204:
            return None
        try:
            data = response.json()
        except ValueError:
            data = None
        if 200 <= status < 300:
            if not isinstance(data, dict):
                raise unreachable(self.server, f"the reply to {response.request.url.path} was not chatkit JSON")
            return data
        raise error_for(status, data, response.headers, self.server)


def unreachable(server: str, why: str) -> ServerUnreachable:
    """Network trouble; `.reason` is the short form the outbox keeps as `last_error`."""
    exc = ServerUnreachable(f"Cannot reach the server at {server} ({why}).")
    exc.reason = f"cannot reach {server}: {why}"
    return exc


def server_trouble(server: str, status: int, message: str | None, retry_after) -> ServerUnreachable:
    """A 5xx: the server is up but cannot take the request now; retried like network trouble."""
    what = f"{status}: {message}" if message else f"{status}"
    exc = ServerUnreachable(f"The server at {server} cannot take requests right now ({what}); try again later.")
    exc.reason = f"{server} answered {what}"
    exc.retry_after = _int(retry_after)
    return exc


def error_for(status: int, data, headers, server: str) -> ChatkitError:
    """The ChatkitError for a non-2xx reply, keeping the server's sentence where it has one."""
    error = data.get("error") if isinstance(data, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    message = error.get("message") if isinstance(error, dict) else None
    message = message if isinstance(message, str) and message else None
    if status >= 500:
        return server_trouble(server, status, message, headers.get("Retry-After"))
    if status == 401:
        if code == "bad_credentials":
            return BadCredentials(message)
        return Unauthorized(EXPIRED)
    if status == 404 and code == "unknown_user":
        return UnknownUser(message)
    if status == 429:
        return TooManyAttempts(_int(headers.get("Retry-After")) or 60, message)
    if status == 409:
        return Conflict(message)
    if status == 413:
        return PayloadTooLarge(message)
    return ChatkitError(message or f"The server refused the request ({status}).",
                        code=code or "rejected", status=status)


def _connect_reason(exc) -> str:
    text = str(exc).lower()
    if "refused" in text:
        return "connection refused"
    if "name" in text and ("resolv" in text or "known" in text):
        return "unknown host"
    return str(exc) or "cannot connect"


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
