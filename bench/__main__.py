"""`python -m bench [NAME ...]`: run the named benchmarks (default: all) with their defaults.

Each benchmark is a module here with `main(argv)`; `generate` makes data and
is not a benchmark. `make bench` runs them all.
"""

import importlib
import pkgutil
import sys
from pathlib import Path

NOT_BENCHMARKS = {"generate"}


def available() -> list[str]:
    here = str(Path(__file__).parent)
    return sorted(m.name for m in pkgutil.iter_modules([here])
                  if not m.name.startswith("_") and m.name not in NOT_BENCHMARKS)


def run(names):
    for name in names or available():
        print(f"== bench.{name} ==", flush=True)
        importlib.import_module(f"bench.{name}").main([])


if __name__ == "__main__":
    run(sys.argv[1:])
