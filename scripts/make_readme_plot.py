"""Draw the README's picture, docs/per_day.png, from demo data.

    python scripts/make_readme_plot.py                   # a fresh demo, the same picture everywhere
    python scripts/make_readme_plot.py --data-dir data   # your own archive instead

Without --data-dir the demo is built in a temporary folder with a fixed seed,
end and zone, so running the script again redraws the same chart; the figure
itself is chatkit.analytics.plot_per_day, as in `chatkit stats --plot`.
"""

from __future__ import annotations

import argparse
import tempfile
from datetime import datetime
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg

from chatkit import analytics
from chatkit.demo import build_demo

REPO = Path(__file__).resolve().parent.parent
END = datetime(2026, 12, 4, 18, 0)  # naive UTC: the demo's last evening
ZONE = "Europe/Berlin"


def draw(data_dir: Path, out: Path, tz: str, title: str) -> Path:
    messages = analytics.messages_frame(data_dir / "client.db", tz=tz, columns=["sent_at", "direction"])
    fig = analytics.plot_per_day(analytics.per_day(messages), title=title)
    FigureCanvasAgg(fig)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, format="png", metadata={"Software": None})
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, help="draw this data dir's archive instead of a fresh demo")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "per_day.png")
    parser.add_argument("--tz", default=ZONE)
    args = parser.parse_args(argv)
    if args.data_dir:
        print(draw(args.data_dir, args.out, args.tz, "Messages per day"))
        return
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        build_demo(data, seed=1, tz=args.tz, end=END)
        print(draw(data, args.out, args.tz, "Messages per day in anna's archive (chatkit demo)"))


if __name__ == "__main__":
    main()
