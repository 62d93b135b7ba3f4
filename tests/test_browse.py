"""`chatkit browse`: a real Datasette process with our metadata, and nothing secret served."""

import asyncio
import signal
import sqlite3
import subprocess
import sys
from urllib.parse import urlencode

import httpx
import pytest
import yaml

from chatkit.browse.launcher import METADATA
from fixtures_search import BrowseProcess

pytestmark = pytest.mark.slow

PARAMS = {"day": "2026-12-03", "q": "grüsse"}


def metadata():
    return yaml.safe_load(METADATA.read_text("utf-8"))


def canned_queries():
    return [(db, name, spec) for db, conf in metadata()["databases"].items()
            for name, spec in conf.get("queries", {}).items()]


@pytest.mark.parametrize("database, name, spec", canned_queries(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_canned_query_answers(browse, database, name, spec):
    params = {p: PARAMS[p] for p in PARAMS if f":{p}" in spec["sql"]}
    page = httpx.get(f"{browse.url}{database}/{name}?{urlencode(params)}")
    assert page.status_code == 200, page.text[:500]
    assert spec["title"] in page.text
    data = httpx.get(f"{browse.url}{database}/{name}.json?{urlencode({**params, '_shape': 'array'})}")
    assert data.status_code == 200, data.text[:500]
    assert isinstance(data.json(), list)


def rows(browse, path, **params):
    reply = httpx.get(f"{browse.url}{path}.json", params={**params, "_shape": "array"})
    assert reply.status_code == 200, reply.text[:500]
    return reply.json()


def test_canned_queries_show_the_right_rows(browse):
    found = rows(browse, "client/search", q="grüsse")
    assert sorted(r["snippet"] for r in found) == sorted(
        ["[GRÜSSE] zurück nach München", "Viele [Grüße] aus München!", "[grüsse] von carol"])
    assert [r["peer"] for r in rows(browse, "client/search", q="grüße with:carol")] == ["carol"]
    assert rows(browse, "client/search", q='"hello') == []  # never an FTS5 error
    assert rows(browse, "client/search", q="") == []

    day = rows(browse, "client/messages_on_day", day="2026-12-03")
    assert [r["body"] for r in day] == ["Viele Grüße aus München!", "GRÜSSE zurück nach München"]
    assert rows(browse, "client/messages_on_day", day="not a day") == []

    outbox = rows(browse, "client/outbox_errors")
    assert [(r["state"], r["last_error"]) for r in outbox] == [
        ("failed", "No user named nobody on the server."), ("pending", "The server cannot be reached.")]

    recent = rows(browse, "client/conversations_by_recency")
    assert recent[0]["peer"] == "bob" and {r["peer"] for r in recent} == {"bob", "carol", "dave", "nobody"}

    per_day = {r["day"]: r["messages"] for r in rows(browse, "client/messages_per_day")}
    assert per_day["2026-12-02"] == 2 and per_day["2026-12-03"] >= 2

    failed = {(r["username"], r["remote_addr"]): r for r in rows(browse, "server/failed_logins")}
    assert failed[("bob", "127.0.0.1")]["failed"] >= 2
    assert failed[("mallory", "127.0.0.1")]["failed"] == 1


def test_login_events_have_facets_and_every_column_sorts(browse, browse_data_dir):
    page = httpx.get(f"{browse.url}server/login_events.json")
    assert page.status_code == 200
    facets = page.json()["facet_results"]
    assert {"kind", "username", "at"} <= {f["name"] for f in facets.values()} | set(facets)
    for database, conf in metadata()["databases"].items():
        for table, spec in conf["tables"].items():
            if spec.get("allow") is False or spec.get("hidden"):
                continue
            conn = sqlite3.connect(browse_data_dir / f"{database}.db")
            columns = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
            conn.close()
            for column in columns:
                for key in ("_sort", "_sort_desc"):
                    reply = httpx.get(f"{browse.url}{database}/{table}.json",
                                      params={key: column, "_nofacet": 1, "_nosuggest": 1, "_nocount": 1})
                    assert reply.status_code in (200, 400), (table, column, key, reply.text[:300])
                    assert (reply.status_code == 200) == (column in spec["sortable_columns"]), (table, column)


def test_every_table_and_important_column_is_described():
    for database, conf in metadata()["databases"].items():
        assert conf.get("description") or conf.get("description_html")
        for table, spec in conf["tables"].items():
            if spec.get("allow") is False or spec.get("hidden"):
                continue
            assert spec.get("description"), table
            assert spec.get("columns"), table


DENIED = [
    "server/credentials", "server/credentials.json", "server/credentials.csv", "server/credentials/1.json",
    "server/sessions", "server/sessions.json", "server/sessions.csv?_stream=on",
    "server/messages.json",  # its digest is a hash of each body
    "server?sql=select+password_hash+from+credentials",
    "server.json?sql=select+password_hash+from+credentials",
    "server.csv?sql=select+token_hash+from+sessions",
    "server/users.json?_where=id+in+(select+user+from+credentials+where+password_hash+like+'%24argon%25')",
    "server/users.csv?_where=1",
    "server/login_events.json?_where=1",
    "server.db", "client.db",
]


def secrets(data_dir) -> list[str]:
    conn = sqlite3.connect(data_dir / "server.db")
    try:
        values = [r[0] for r in conn.execute("SELECT password_hash FROM credentials")]
        values += [r[0] for r in conn.execute("SELECT token_hash FROM sessions")]
        values += [r[0] for r in conn.execute("SELECT digest FROM messages")]
        return values
    finally:
        conn.close()


@pytest.mark.parametrize("path", DENIED)
def test_secrets_are_denied(browse, browse_data_dir, path):
    reply = httpx.get(browse.url + path)
    assert reply.status_code == 403, reply.text[:300]
    assert "$argon2" not in reply.text
    for value in secrets(browse_data_dir):
        assert value not in reply.text


def test_no_page_anywhere_shows_a_hash(browse, browse_data_dir):
    values = secrets(browse_data_dir)
    assert len(values) >= 8
    pages = ["", "server", "server.json", "server/users", "server/users.json", "server/login_events",
             "server/users_last_seen.json", "server/relay_log.json", "-/metadata.json", "client/messages.json"]
    for path in pages:
        body = httpx.get(browse.url + path).text
        assert not any(v in body for v in values), path


def test_binds_loopback_only(browse):
    port = f"{browse.port:04X}"
    listening = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = open(table).read().splitlines()[1:]
        except OSError:
            continue
        listening += [line.split()[1] for line in lines if line.split()[1].endswith(":" + port) and line.split()[3] == "0A"]
    assert listening == ["0100007F:" + port]
    assert f"Datasette is serving client.db, server.db at {browse.url} (Ctrl-C to stop)." in browse.log_text()


def test_ctrl_c_stops_datasette_cleanly(browse_data_dir):
    process = BrowseProcess(browse_data_dir).wait_ready()
    assert httpx.get(process.url + "-/versions.json").status_code == 200
    assert process.stop() == 0
    assert "Stopped." in process.log_text()
    assert "Traceback" not in process.log_text()
    with pytest.raises(httpx.ConnectError):
        httpx.get(process.url, timeout=2)


def _fresh(tmp_path):
    path = tmp_path / "fresh"
    path.mkdir()
    return path


def chatkit(*args):
    return subprocess.run([sys.executable, "-m", "chatkit_cli", *args], capture_output=True, text=True, timeout=60)


def test_errors_are_one_line(tmp_path):
    missing = tmp_path / "nowhere"
    result = chatkit("--data-dir", str(missing), "browse")
    assert result.returncode == 1
    assert result.stderr == f"Error: There is no data dir at {missing}; run `chatkit demo` or log in and sync first.\n"

    empty = _fresh(tmp_path)
    result = chatkit("--data-dir", str(empty), "browse")
    assert result.returncode == 1
    assert result.stderr.startswith(f"Error: No client.db or server.db in {empty}")

    (empty / "client.db").write_text("not a database")
    result = chatkit("--data-dir", str(empty), "browse")
    assert result.returncode == 1
    assert result.stderr.startswith(f"Error: {empty / 'client.db'} is not a usable chatkit database")
    assert len(result.stderr.splitlines()) == 1


def test_a_port_in_use_and_a_bad_zone_are_usage_errors(browse, browse_data_dir):
    result = chatkit("--data-dir", str(browse_data_dir), "browse", "--port", str(browse.port))
    assert result.returncode == 2
    assert result.stderr.startswith(f"Error: Cannot listen on 127.0.0.1:{browse.port} (")
    assert result.stderr.rstrip().endswith("pick another with --port.")
    result = chatkit("--data-dir", str(browse_data_dir), "browse", "--port", "1", "--tz", "Mars/Base")
    assert result.returncode == 2 and "Unknown time zone 'Mars/Base'" in result.stderr


def test_an_old_archive_gets_its_search_index_before_serving(tmp_path):
    from chatkit.browse import browse_databases
    from test_search_index import m001_only_file

    data_dir = _fresh(tmp_path)
    m001_only_file(data_dir / "client.db")
    assert browse_databases(data_dir) == [data_dir / "client.db"]
    conn = sqlite3.connect(data_dir / "client.db")
    assert conn.execute("SELECT count(*) FROM messages_fts WHERE messages_fts MATCH 'grusse'").fetchone() == (2,)
    conn.close()


def test_plain_datasette_on_client_db_is_already_pleasant(browse_data_dir):
    """`datasette data/client.db` with no metadata: lowercase tables, the FTS search box on messages."""
    from datasette.app import Datasette

    async def fetch():
        ds = Datasette([str(browse_data_dir / "client.db")])
        tables = (await ds.client.get("/client.json")).json()["tables"]
        page = await ds.client.get("/client/messages")
        found = await ds.client.get("/client/messages.json", params={"_search": "grüsse", "_shape": "array"})
        return tables, page, found.json()

    tables, page, found = asyncio.run(fetch())
    visible = {t["name"]: t for t in tables if not t["hidden"]}
    assert {"messages", "conversations", "outbox", "sync_state"} <= set(visible)
    assert all(name == name.lower() for name in visible)
    assert visible["messages"]["fts_table"] == "messages_fts"
    assert 'name="_search"' in page.text
    assert sorted(r["body"] for r in found) == ["GRÜSSE zurück nach München", "Viele Grüße aus München!",
                                               "grüsse von carol"]


def test_sigterm_stops_the_child_too(browse_data_dir):
    process = BrowseProcess(browse_data_dir).wait_ready()
    process.proc.send_signal(signal.SIGTERM)
    process.proc.wait(15)
    with pytest.raises(httpx.ConnectError):
        httpx.get(process.url, timeout=2)
    process.stop()


def test_databases_are_served_mutable_never_immutable(tmp_path):
    from chatkit.browse import browse_command

    args = browse_command([tmp_path / "client.db", tmp_path / "server.db"], port=8123)
    assert "-i" not in args and "--immutable" not in args and not any(a.startswith("--immutable") for a in args)
    assert args[args.index("--host") + 1] == "127.0.0.1"
