"""The HTTP API as a contract, fuzzed against a real `chatkit server` process.

schemathesis reads GET /api/openapi.json from a live server (the `live_server`
fixture: `chatkit server` on a free loopback port, production argon2) and
generates requests for every operation, valid and invalid, with a fixed seed
and a bounded number of examples. Each reply is checked for:

- no 5xx (`not_a_server_error`),
- a status code the document lists (`status_code_conformance`),
- the documented content type (`content_type_conformance`),
- a body that matches the documented schema (`response_schema_conformance`),
- and, ours: every 4xx is JSON of exactly `{"error": {"code", "message"}}`
  with a snake_case code and a non-empty sentence.

Authenticated operations carry a real Bearer token. POST /api/logout revokes
the token it is called with, so it gets a fresh one from a pool made before
the run (the throttle may lock this address out of logins once the fuzzer has
guessed enough wrong passwords, so the pool cannot be topped up on demand).
"""

from __future__ import annotations

import re
import uuid

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from fixtures_server import LiveServer

pytestmark = pytest.mark.slow

SEED = 20261204
EXAMPLES = 200  # per operation; the whole run stays well inside a minute or two
LOGOUT_TOKENS = 20  # logout has nothing to vary but the request itself
LOGIN_EXAMPLES = 100  # most valid logins register: each costs a production argon2 hash
SNAKE = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)*")


def error_shape(ctx, response, case):
    """Every 4xx (and 5xx) is DESIGN.md's JSON error: {"error": {"code", "message"}} and nothing else."""
    if response.status_code < 400:
        return None
    kind = response.headers.get("content-type", [""])
    kind = kind[0] if isinstance(kind, list) else kind
    assert kind.split(";")[0].strip() == "application/json", f"{response.status_code} is {kind!r}, not JSON"
    body = response.json()
    assert isinstance(body, dict) and set(body) == {"error"}, f"not the error shape: {body!r}"
    error = body["error"]
    assert isinstance(error, dict) and set(error) == {"code", "message"}, f"not the error shape: {body!r}"
    assert isinstance(error["code"], str) and SNAKE.fullmatch(error["code"]), f"code {error['code']!r}"
    assert isinstance(error["message"], str) and error["message"].strip(), "empty message"
    assert "Traceback" not in error["message"] and "<html" not in response.text.lower()
    return True


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, error_shape]


def _login(url, name, password="contract-pass-1"):
    reply = httpx.post(url + "/api/login", json={"username": name, "password": password}, timeout=30)
    assert reply.status_code in (200, 201), reply.text
    return reply.json()["token"]


class Tokens:
    """Real tokens: one for most operations, a fresh one for each logout."""

    def __init__(self, url):
        self.main = _login(url, "contract-alice")
        bob = _login(url, "contract-bob")  # someone to write to, who writes back
        for n in range(5):  # so GET /api/messages has messages whose shape gets checked
            reply = httpx.post(url + "/api/messages", headers={"Authorization": f"Bearer {bob}"}, json={
                "id": str(uuid.uuid4()), "to": "contract-alice", "body": f"hello {n} üß 🙂",
                "sent_at": "2026-12-04T10:00:00Z"})
            assert reply.status_code == 201, reply.text
        self.spare = [_login(url, "contract-carol") for _ in range(LOGOUT_TOKENS)]

    def for_case(self, case) -> str:
        if case.operation.path == "/api/logout":
            # a fresh token per logout: revoking the main one would turn the rest into 401s
            return self.spare.pop() if self.spare else "x" * 43
        return self.main


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One real `chatkit server` for the whole module (fixtures_server.LiveServer)."""
    live = LiveServer(tmp_path_factory.mktemp("contract") / "data").start()
    yield live
    live.stop()


@pytest.fixture(scope="module")
def api(server):
    return schemathesis.openapi.from_url(server.url + "/api/openapi.json")


@pytest.fixture(scope="module")
def tokens(server):
    return Tokens(server.url)


OPERATIONS = [("POST", "/api/login"), ("POST", "/api/logout"), ("GET", "/api/users"),
              ("POST", "/api/messages"), ("GET", "/api/messages"), ("GET", "/api/health"),
              ("GET", "/api/openapi.json")]


@pytest.fixture(scope="module")
def document(server):
    return httpx.get(server.url + "/api/openapi.json").json()


def test_the_fuzzed_operations_are_all_the_documented_ones(document):
    assert {(m.upper(), p) for p, ops in document["paths"].items() for m in ops} == set(OPERATIONS)


# (operation, mode) -> statuses that must turn up, proof that the fuzzer got past the front door
EXPECTED = {
    ("POST /api/login", "positive"): {201},
    ("POST /api/login", "negative"): {400},
    ("POST /api/logout", "positive"): {204},
    ("GET /api/users", "positive"): {200},
    ("POST /api/messages", "positive"): {201, 404},
    ("POST /api/messages", "negative"): {400},
    ("GET /api/messages", "positive"): {200},
    ("GET /api/messages", "negative"): {400},
    ("GET /api/health", "positive"): {200},
    ("GET /api/openapi.json", "positive"): {200},
}
CASES = [pytest.param(method, path, mode, id=f"{method}-{path}-{mode.value}")
         for method, path in OPERATIONS
         for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
         # an operation without parameters or body has nothing to make invalid
         if mode is GenerationMode.POSITIVE or (f"{method} {path}", "negative") in EXPECTED]


@pytest.mark.parametrize("method,path,mode", CASES)
def test_api_honours_its_openapi_document(api, document, server, tokens, method, path, mode):
    """Generated requests (seeded, bounded) get documented, well-formed answers and never a 5xx."""
    operation = api[path][method]
    secured = bool(document["paths"][path][method.lower()].get("security"))

    examples = {"/api/logout": LOGOUT_TOKENS, "/api/login": LOGIN_EXAMPLES}.get(path, EXAMPLES)
    if mode is GenerationMode.NEGATIVE:
        examples = EXAMPLES  # invalid requests are refused before any hashing: cheap

    @given(case=operation.as_strategy(generation_mode=mode))
    @seed(SEED)
    @settings(max_examples=examples, deadline=None,
              database=None, suppress_health_check=list(HealthCheck),
              phases=[Phase.explicit, Phase.generate])
    def check(case):
        _shorten_waits(case)
        headers = {"Authorization": f"Bearer {tokens.for_case(case)}"} if secured else None
        response = case.call_and_validate(base_url=server.url, headers=headers, checks=CHECKS, timeout=40)
        seen[response.status_code] = seen.get(response.status_code, 0) + 1

    seen: dict[int, int] = {}
    check()
    print(f"{method} {path} {mode.value}: {sum(seen.values())} requests, statuses {sorted(seen.items())}")
    assert EXPECTED[(f"{method} {path}", mode.value)] <= set(seen), seen


def _shorten_waits(case):
    """A valid `wait` long-polls; keep it valid but do not hold every example for seconds."""
    if case.operation.path == "/api/messages" and case.method.upper() == "GET" and isinstance(case.query, dict):
        wait = case.query.get("wait")
        if isinstance(wait, int) and not isinstance(wait, bool) and 0 < wait <= 30:
            case.query["wait"] = 0
