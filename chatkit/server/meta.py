"""About the server itself: GET /api/health and GET /api/openapi.json."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

from flask import Blueprint, jsonify

bp = Blueprint("meta", __name__, url_prefix="/api")


@lru_cache(maxsize=1)
def openapi_document() -> dict:
    """The OpenAPI 3.1 description shipped beside this module."""
    return json.loads(resources.files("chatkit.server").joinpath("openapi.json").read_text("utf-8"))


@bp.get("/health")
def health():
    return jsonify({"status": "ok"})


@bp.get("/openapi.json")
def openapi():
    return jsonify(openapi_document())
