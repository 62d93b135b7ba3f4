"""session.json: mode 0600 from the first byte, atomic replacement, clear errors."""

from __future__ import annotations

import json
import os
import stat

import pytest

from chatkit.client import session as sessions
from chatkit.errors import NotLoggedIn, StoreError


def test_save_writes_0600_whatever_the_umask(isolated_data_dir):
    old = os.umask(0)
    try:
        saved = sessions.save_session(isolated_data_dir, "http://h:8000/", "alice", "tok")
    finally:
        os.umask(old)
    path = isolated_data_dir / "session.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text()) == {"server": "http://h:8000", "username": "alice", "token": "tok"}
    assert saved == sessions.load_session(isolated_data_dir)


def test_save_replaces_atomically_and_leaves_no_temp_file(isolated_data_dir, monkeypatch):
    sessions.save_session(isolated_data_dir, "http://a", "alice", "one")
    real_replace = os.replace

    def crash(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(StoreError, match="No space left on device"):
        sessions.save_session(isolated_data_dir, "http://a", "alice", "two")
    monkeypatch.setattr(os, "replace", real_replace)
    assert sessions.load_session(isolated_data_dir).token == "one"  # the old session is intact
    assert sorted(p.name for p in isolated_data_dir.iterdir()) == ["session.json"]


def test_server_urls_are_normalised():
    assert sessions.normalize_server(" http://127.0.0.1:8000/ ") == "http://127.0.0.1:8000"
    assert sessions.normalize_server("example.org:8000") == "http://example.org:8000"


def test_current_account_without_a_session(isolated_data_dir):
    with pytest.raises(NotLoggedIn) as caught:
        sessions.current_account(isolated_data_dir)
    assert caught.value.exit_code == 3
    assert caught.value.message == "Not logged in. Run `chatkit login USER` first."


@pytest.mark.parametrize("content", ["{not json", "[]", '{"server": "http://a"}', ""])
def test_an_unreadable_session_is_not_logged_in_with_a_way_out(isolated_data_dir, content):
    (isolated_data_dir / "session.json").write_text(content)
    assert sessions.load_session(isolated_data_dir) is None
    with pytest.raises(NotLoggedIn, match="is unreadable. Run `chatkit login USER`"):
        sessions.current_account(isolated_data_dir)


def test_forget(isolated_data_dir):
    sessions.save_session(isolated_data_dir, "http://a", "alice", "tok")
    assert sessions.forget_session(isolated_data_dir) is True
    assert sessions.forget_session(isolated_data_dir) is False
    assert sessions.load_session(isolated_data_dir) is None


def test_unwritable_data_dir_is_a_clear_error(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):  # root ignores permissions; use a file where a dir should be
            locked.chmod(0o700)
            target = tmp_path / "file"
            target.write_text("")
            locked = target / "sub"
        with pytest.raises(StoreError, match="Cannot write the session"):
            sessions.save_session(locked, "http://a", "alice", "tok")
    finally:
        if locked.exists() and locked.is_dir():
            locked.chmod(0o700)
