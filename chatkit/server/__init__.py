"""The chatkit relay server: `create_app(config)` builds a Flask app on server.db.

The app owns its store, its password hasher, a group-commit writer thread and
a long-poll watcher thread; `app.extensions["chatkit"].close()` stops them.
Configuration keys (all optional):

- DATABASE: path of server.db (default `<data-dir>/server.db`)
- ARGON2: argon2 parameters (tests pass passwords.FAST_PARAMS)
- LOGIN_LIMITS: (per_user, per_addr) failures allowed per 15 minutes
- POLL_SLOTS: how many long polls may wait at once (the rest get 503 busy)
- POLLS_PER_USER: how many of those one account may hold (default 8)
- POLL_RECHECK: seconds between database checks for other processes' sends
"""

from __future__ import annotations

from flask import Flask

MAX_CONTENT_LENGTH = 64 * 1024


def create_app(config: dict | None = None) -> Flask:
    from .. import config as paths
    from . import auth, messages, meta
    from .committer import Committer
    from .context import Server
    from .handlers import register_error_handlers
    from .passwords import Passwords
    from .relay import Relay
    from .secret import load_or_create_key
    from .store import open_server_store
    from .throttle import Limits
    from .waiters import Waiters

    app = Flask(__name__, static_folder=None)
    app.config.from_mapping(
        DATABASE=str(paths.server_db_path()),
        MAX_CONTENT_LENGTH=MAX_CONTENT_LENGTH,
        ARGON2=None,
        LOGIN_LIMITS=(5, 50),
        POLL_SLOTS=224,
        POLLS_PER_USER=8,
        POLL_RECHECK=0.5,
    )
    app.config.update(config or {})
    app.json.sort_keys = False
    app.json.ensure_ascii = False

    store = open_server_store(app.config["DATABASE"])
    committer = Committer(store)
    waiters = Waiters(store, recheck=app.config["POLL_RECHECK"])
    per_user, per_addr = app.config["LOGIN_LIMITS"]
    app.extensions["chatkit"] = Server(
        store=store,
        passwords=Passwords(app.config["ARGON2"]),
        committer=committer,
        waiters=waiters,
        relay=Relay(store, committer, waiters, poll_slots=app.config["POLL_SLOTS"],
                    polls_per_user=app.config["POLLS_PER_USER"],
                    key=load_or_create_key(app.config["DATABASE"])),
        limits=Limits(per_user=per_user, per_addr=per_addr),
    )
    register_error_handlers(app)
    for module in (auth, messages, meta):
        app.register_blueprint(module.bp)
    return app
