"""Accounts over HTTP: POST /api/login, POST /api/logout, GET /api/users."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from . import accounts, sessions
from .context import caller, server
from .inputs import json_object, text_field, username_field

bp = Blueprint("auth", __name__, url_prefix="/api")


@bp.post("/login")
def login():
    body = json_object()
    username = username_field(body)
    password = text_field(body, "password", min_len=8, max_len=1024)
    srv = server()
    reply = accounts.login(srv.store, srv.passwords, username, password,
                           request.remote_addr, request.user_agent.string, srv.limits)
    return jsonify(reply), 201 if reply["created"] else 200


@bp.post("/logout")
def logout():
    sessions.logout(server().store, caller(), request.remote_addr, request.user_agent.string)
    return "", 204


@bp.get("/users")
def users():
    caller()
    return jsonify({"users": accounts.list_users(server().store)})
