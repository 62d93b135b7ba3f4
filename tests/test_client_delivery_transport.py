"""How every reply and every network failure becomes one ChatkitError."""

from __future__ import annotations

import httpx
import pytest

from chatkit.client.transport import Api
from chatkit.errors import (
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

URL = "http://relay.test"


def api_answering(handler) -> Api:
    return Api(URL, "tok", transport=httpx.MockTransport(handler))


def error(status, code, message="A sentence.", headers=None):
    return lambda request: httpx.Response(status, headers=headers,
                                          json={"error": {"code": code, "message": message}})


@pytest.mark.parametrize("handler, kind, exit_code, text", [
    (error(401, "bad_credentials", "Wrong username or password."), BadCredentials, 3, "Wrong username or password."),
    (error(401, "unauthorized"), Unauthorized, 3, "run chatkit login"),
    (error(401, "whatever"), Unauthorized, 3, "expired or was revoked"),
    (error(404, "unknown_user", "There is no user named 'x'."), UnknownUser, 4, "There is no user named 'x'."),
    (error(429, "too_many_attempts", "Slow down.", {"Retry-After": "42"}), TooManyAttempts, 3, "Slow down."),
    (error(409, "conflict", "Other content."), Conflict, 1, "Other content."),
    (error(413, "payload_too_large", "Too big."), PayloadTooLarge, 1, "Too big."),
    (error(400, "bad_request", "Field 'to' is missing."), ChatkitError, 1, "Field 'to' is missing."),
    (lambda r: httpx.Response(418, text="<html>teapot</html>"), ChatkitError, 1, "refused the request (418)"),
    (error(503, "unavailable", "Disk full.", {"Retry-After": "5"}), ServerUnreachable, 1, "(503: Disk full.)"),
    (lambda r: httpx.Response(502, text="<html>Bad gateway</html>"), ServerUnreachable, 1, "(502)"),
    (lambda r: httpx.Response(200, text="<html>captive portal</html>"), ServerUnreachable, 1, "not chatkit JSON"),
])
def test_replies_map_to_errors(handler, kind, exit_code, text):
    with pytest.raises(kind) as caught:
        api_answering(handler).users()
    assert type(caught.value) is kind
    assert caught.value.exit_code == exit_code
    assert text in caught.value.message
    assert "\n" not in caught.value.message


def test_too_many_attempts_keeps_retry_after():
    with pytest.raises(TooManyAttempts) as caught:
        api_answering(error(429, "too_many_attempts", "Slow down.", {"Retry-After": "42"})).login("a", "b" * 8)
    assert caught.value.retry_after == 42


@pytest.mark.parametrize("exc, reason", [
    (httpx.ConnectError("[Errno 111] Connection refused"), "connection refused"),
    (httpx.ConnectTimeout("timed out"), "timed out"),
    (httpx.ReadTimeout("timed out"), "timed out"),
    (httpx.RemoteProtocolError("Server disconnected"), "the connection broke before the reply arrived"),
    (httpx.ReadError("reset by peer"), "the connection broke before the reply arrived"),
])
def test_network_failures_are_server_unreachable(exc, reason):
    def handler(request):
        raise exc

    with pytest.raises(ServerUnreachable) as caught:
        api_answering(handler).post_message("u", "bob", "hi", "2026-12-04T10:00:00Z")
    assert caught.value.reason == f"cannot reach {URL}: {reason}"
    assert caught.value.message == f"Cannot reach the server at {URL} ({reason})."


def test_a_real_refused_connection(tmp_path):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(ServerUnreachable, match="connection refused"):
        Api(f"http://127.0.0.1:{port}").health()


def test_requests_carry_the_bearer_token_and_long_poll_timeout():
    seen = {}

    def handler(request):
        seen["auth"] = request.headers.get("Authorization")
        seen["params"] = dict(request.url.params)
        seen["timeout"] = request.extensions["timeout"]["read"]
        return httpx.Response(200, json={"messages": [], "next": 7})

    assert api_answering(handler).get_messages(after=7, wait=25) == {"messages": [], "next": 7}
    assert seen["auth"] == "Bearer tok"
    assert seen["params"] == {"after": "7", "wait": "25"}
    assert seen["timeout"] > 25  # the read timeout outlasts the server's hold


@pytest.mark.parametrize("url", ["ftp://example.org", "not a url", ""])
def test_bad_server_urls_are_usage_errors(url):
    with pytest.raises(UsageError, match="is not a server URL"):
        Api(url)


def test_httpx_is_not_imported_by_the_module():
    import subprocess
    import sys

    code = "import sys, chatkit.client.transport, chatkit.client.outbox; print('httpx' in sys.modules, 'pony' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
