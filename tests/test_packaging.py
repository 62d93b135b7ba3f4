"""The distribution ships every package: a non-editable install must have all commands."""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_package_folder_is_listed_in_pyproject():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    listed = set(config["tool"]["setuptools"]["packages"])
    found = set()
    for init in (ROOT / "chatkit").rglob("__init__.py"):
        found.add(".".join(init.parent.relative_to(ROOT).parts))
    for init in (ROOT / "cli").rglob("__init__.py"):
        found.add(".".join(("chatkit_cli", *init.parent.relative_to(ROOT / "cli").parts)))
    assert found - listed == set(), "add these packages to pyproject.toml"


def test_system_zone_is_the_named_zone_not_a_fixed_offset(monkeypatch):
    import os

    from chatkit import config

    monkeypatch.delenv("TZ", raising=False)
    link = os.path.realpath("/etc/localtime")
    zone = config.local_zone(None)
    if "zoneinfo/" in link:
        assert zone.key == link.split("zoneinfo/", 1)[1]
    else:  # no named system zone: a fixed offset is the best there is
        from datetime import datetime

        assert zone.utcoffset(datetime(2026, 1, 1)) is not None
