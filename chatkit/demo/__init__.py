"""`chatkit demo`: a realistic archive built by the real server and client code.

`build_demo(data_dir, seed=..., days=60, people=6, messages=3000)` replays
weeks of chat between people (schedule.py: rhythms, logins, an outage; text.py:
German and English messages) through an in-process server under a simulated
clock (clock.py), and installs the server's database and anna's archive in the
data dir (builder.py). The same builder seeds the tests and the notebooks.
"""

from .builder import PASSWORD, DemoSummary, build_demo

__all__ = ["PASSWORD", "DemoSummary", "build_demo"]
