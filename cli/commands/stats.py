"""`chatkit stats`: message statistics of the archive (chatkit.analytics, pandas).

pandas and matplotlib load only when this command runs, so the rest of the
CLI starts without them.
"""

from __future__ import annotations

import typer

from .. import output
from ..main import app, data_dir_of


@app.command()
def stats(
    ctx: typer.Context,
    by: str = typer.Option("day", "--by", metavar="day|hour|peer",
                           help="Count per local day, per weekday and hour, or per partner."),
    since: str = typer.Option(None, "--since", metavar="DATE", help="Only from this local day (YYYY-MM-DD) on."),
    plot: str = typer.Option(None, "--plot", metavar="FILE.png",
                             help="Also draw a PNG: bars per day with a 7-day mean, a weekday x hour "
                                  "heatmap, or the top partners."),
    tz: str = typer.Option(None, "--tz", metavar="ZONE", help="Time zone for days and hours [default: local]."),
    account: str = typer.Option(None, "--account", metavar="NAME",
                                help="Whose archive [default: the logged-in account]."),
    json: bool = typer.Option(False, "--json", help="Print a JSON array (one object per row) instead of a table."),
):
    """Message statistics: per day, per weekday and hour, or per partner (pandas).

    With --json, one object per row: --by day {date, sent, received, total}
    (quiet days included); --by hour {weekday, hour, messages} for all 168
    cells; --by peer {peer, messages, sent, received, share, first_contact,
    last_contact, median_reply_seconds, their_median_reply_seconds}.
    """
    from chatkit import analytics, config
    from chatkit.client.session import current_account

    data_dir = data_dir_of(ctx)
    zone = analytics.resolve_zone(tz)
    account = account or current_account(data_dir).username
    frame = analytics.stats(config.client_db_path(data_dir), by, account=account, since=since, tz=zone)
    if plot:
        written = analytics.plot_stats(frame, by, plot)
        output.info(f"Wrote {written}.")
    records = analytics.stats_records(frame, by)
    if json:
        return output.print_json(records)
    if frame.empty or (by != "peer" and not frame.to_numpy().any()):
        return output.info(f"No messages for {account} yet.")
    _print_table(by, frame, records, account)


def _print_table(by: str, frame, records: list[dict], account: str) -> None:
    if by == "day":
        output.table(["Day", "Sent", "Received", "Total"],
                     [[f"{r['date']} {_weekday(r['date'])}", str(r["sent"]), str(r["received"]), str(r["total"])]
                      for r in records],
                     title=f"Messages per day ({account})")
    elif by == "hour":
        days = list(frame.index)
        output.table(["Hour", *days, "All"],
                     [[f"{hour:02d}", *(_count(frame.loc[d, hour]) for d in days), str(int(frame[hour].sum()))]
                      for hour in frame.columns],
                     title=f"Messages per weekday and hour ({account})")
    else:
        output.table(["Partner", "Messages", "Sent", "Received", "Share", "Last contact", "You reply in",
                      "They reply in"],
                     [[r["peer"], str(r["messages"]), str(r["sent"]), str(r["received"]),
                       f"{r['share']:.0%}", (r["last_contact"] or "")[:10],
                       _duration(r["median_reply_seconds"]), _duration(r["their_median_reply_seconds"])]
                      for r in records],
                     title=f"Partners ({account})")


def _weekday(day: str) -> str:
    from datetime import date

    return date.fromisoformat(day).strftime("%a")


def _count(value) -> str:
    return str(int(value)) if value else "·"


def _duration(seconds: float | None) -> str:
    """'45 s', '12 min', '3.5 h', '2.1 d': a median reply time a person can read."""
    if seconds is None:
        return ""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 36 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"
