"""Crawl everything `chatkit browse` serves and look for secrets on every page.

`chatkit demo` builds a small but real data dir (server.db and client.db
made through the real server and client code: logins, sessions, failed
logins, messages). `chatkit browse` serves it (fixtures_search's
BrowseProcess: a real Datasette process on a free loopback port), and a
breadth-first crawler follows every same-origin link — <a href>, <link
href>, <script src>, <form action> — up to MAX_PAGES pages, with at most
PER_PATH variants (sort orders, facets, pages) of any one path so the
budget covers every table and query rather than one table's sort links.

No page may contain an argon2 hash, a password hash from `credentials`, a
token hash from `sessions`, or a body digest from server.db's `messages`;
no page may be a 5xx; links into the denied tables must answer 403.
"""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
from collections import Counter, deque
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from fixtures_search import BrowseProcess

pytestmark = pytest.mark.slow

MAX_PAGES = 400
PER_PATH = 6
DENIED_TABLES = ("server/credentials", "server/sessions")


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        wanted = {"a": "href", "link": "href", "script": "src", "form": "action", "img": "src"}.get(tag)
        for name, value in attrs:
            if name == wanted and value:
                self.found.append(value)


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory):
    data = tmp_path_factory.mktemp("crawl") / "data"
    result = subprocess.run([sys.executable, "-m", "chatkit_cli", "--data-dir", str(data), "demo",
                             "--days", "7", "--people", "4", "--messages", "300", "--tz", "Europe/Berlin"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return data


def secrets_of(data_dir) -> dict[str, list[str]]:
    conn = sqlite3.connect(data_dir / "server.db")
    try:
        return {
            "password hash": [r[0] for r in conn.execute("SELECT password_hash FROM credentials")],
            "token hash": [r[0] for r in conn.execute("SELECT token_hash FROM sessions")],
            "body digest": [r[0] for r in conn.execute("SELECT digest FROM messages")],
        }
    finally:
        conn.close()


def crawl(base: str):
    """Breadth-first over same-origin links; yields (url, response)."""
    origin = urlsplit(base)[:2]
    queue, seen, per_path = deque([base]), {base}, Counter()
    with httpx.Client(timeout=30, follow_redirects=False) as http:
        while queue and sum(per_path.values()) < MAX_PAGES:
            url = queue.popleft()
            reply = http.get(url)
            yield url, reply
            if reply.is_redirect:
                targets = [reply.headers["location"]]
            elif "html" in reply.headers.get("content-type", ""):
                parser = Links()
                parser.feed(reply.text)
                targets = parser.found
            else:
                targets = []
            for target in targets:
                absolute = urljoin(url, target).split("#")[0]
                parts = urlsplit(absolute)
                if parts[:2] != origin or absolute in seen:
                    continue
                if per_path[parts.path] >= PER_PATH:
                    continue
                per_path[parts.path] += 1
                seen.add(absolute)
                queue.append(absolute)


def test_no_page_browse_serves_holds_a_secret(demo_dir):
    secrets = secrets_of(demo_dir)
    assert all(secrets.values()), {k: len(v) for k, v in secrets.items()}
    browse = BrowseProcess(demo_dir).wait_ready()
    try:
        statuses, pages, denied_links = Counter(), 0, []
        for url, reply in crawl(browse.url):
            pages += 1
            statuses[reply.status_code] += 1
            assert reply.status_code < 500, (url, reply.text[:300])
            text = reply.text
            assert "$argon2" not in text, url
            for kind, values in secrets.items():
                for value in values:
                    assert value not in text, f"a {kind} on {url}"
            path = urlsplit(url).path.lstrip("/")
            if path.startswith(DENIED_TABLES) or path.endswith(".db"):
                denied_links.append(url)
                assert reply.status_code == 403, (url, reply.status_code)
        # the crawl saw the whole site, not just the front page
        assert pages >= 60, (pages, statuses)
        assert statuses[200] >= 50
        for path in ("server/credentials", "server/sessions", "server/credentials.json",
                     "server/sessions.csv", "server.db", "server?sql=select+*+from+credentials"):
            reply = httpx.get(browse.url + path)
            assert reply.status_code == 403, (path, reply.status_code)
            assert not any(v in reply.text for values in secrets.values() for v in values)
    finally:
        browse.stop()
    print(f"crawled {pages} pages: {dict(statuses)}; {len(denied_links)} links into denied places, all 403")
