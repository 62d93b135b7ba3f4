"""GET /api/openapi.json describes exactly the routes Flask serves, and the
app answers as it says (checked by schemathesis against the WSGI app)."""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from fixtures_server import bearer, login

AUTOMATIC = {"HEAD", "OPTIONS"}


def flask_routes(app):
    return {(rule.rule, method.lower()) for rule in app.url_map.iter_rules()
            for method in rule.methods - AUTOMATIC}


def documented_routes(doc):
    return {(path, method) for path, ops in doc["paths"].items() for method in ops}


def test_served_document_is_openapi_3_1(client):
    doc = client.get("/api/openapi.json").get_json()
    assert doc["openapi"].startswith("3.1")


def test_every_route_is_documented_and_every_documented_route_exists(app, client):
    doc = client.get("/api/openapi.json").get_json()
    assert flask_routes(app) == documented_routes(doc)


def test_every_error_response_uses_the_error_schema(client):
    doc = client.get("/api/openapi.json").get_json()
    shared = doc["components"]["responses"]
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            statuses = set(op["responses"])
            assert {"405", "500", "503"} <= statuses, (path, method)
            for status, response in op["responses"].items():
                if int(status) < 400:
                    continue
                response = shared[response["$ref"].rsplit("/", 1)[1]] if "$ref" in response else response
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Error"}, (path, method, status)
            if op.get("security"):
                assert "401" in statuses, (path, method)


def test_error_examples_have_the_shape(client):
    doc = client.get("/api/openapi.json").get_json()
    for name, response in doc["components"]["responses"].items():
        for example in response["content"]["application/json"]["examples"].values():
            assert set(example["value"]["error"]) == {"code", "message"}, name


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory):
    from chatkit.server import create_app
    from chatkit.server.passwords import FAST_PARAMS
    app = create_app({"DATABASE": str(tmp_path_factory.mktemp("fuzz") / "server.db"), "ARGON2": FAST_PARAMS,
                      # schemathesis logs in many times from one address: do not throttle it
                      "LOGIN_LIMITS": (10**6, 10**6)})
    yield app
    app.extensions["chatkit"].close()


@pytest.fixture(scope="module")
def fuzz_token(fuzz_app):
    client = fuzz_app.test_client()
    login(client, "bob")
    return login(client, "alice")


OPERATIONS = [("POST", "/api/login"), ("POST", "/api/logout"), ("GET", "/api/users"),
              ("POST", "/api/messages"), ("GET", "/api/messages"), ("GET", "/api/health"),
              ("GET", "/api/openapi.json")]


@pytest.mark.parametrize("method,path", OPERATIONS)
def test_api_conforms_to_its_description(fuzz_app, fuzz_token, method, path):
    """Generated requests (schemathesis + hypothesis): every answer matches the document."""
    api = schemathesis.openapi.from_wsgi("/api/openapi.json", fuzz_app)
    operation = api[path][method]
    # /api/logout gets a token that is not valid, so it cannot revoke the one the others use
    token = "x" * 43 if path == "/api/logout" else fuzz_token

    @given(case=operation.as_strategy())
    @settings(max_examples=20, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def check(case):
        if case.query and isinstance(case.query.get("wait"), int):
            case.query["wait"] = 0  # do not hold each example for seconds
        case.call_and_validate(headers={"Authorization": f"Bearer {token}"})

    check()
