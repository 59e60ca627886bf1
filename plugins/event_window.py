"""Built-in signal `event_window`: a scheduled FOMC, CPI, PPI or earnings event is near.

The method hedges within 10 days of FOMC and CPI: a scheduled release can move VIX whatever the
tape says, and protection bought after it costs more.

Rule: the counted events are the Calendar rows whose Event equals one of the kinds in the setting
`event_window.events` (comma-separated, matched case-insensitively; "FOMC,CPI,PPI,Earnings" by
default). Days to an event are calendar days from the as-of date; an event on the as-of date counts
(0 days), past events do not. `value` is the days to the next counted event (None when the
Calendar holds none on or after the as-of date). Triggered when value <= N (`event_window.days`,
default 10). Strength = (N + 1 - days) / (N + 1) when triggered (1 on the day itself, 1/(N + 1)
N days ahead), 0 otherwise. A Calendar without any event is not evaluated. The reading's
`details` hold `days` (the same days to the next counted event, for Rules triggers such as
`event_window.days <= 5`); without an event ahead there is none, and a trigger reading it says so.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pandas as pd

from rules_engine import Context, NotEvaluated, Reading, Setting, Signal, hookimpl


def parse_kinds(text: str) -> tuple[str, ...]:
    """The event kinds of a comma-separated list, stripped; at least one is needed."""
    kinds = tuple(part.strip() for part in str(text).split(",") if part.strip())
    if not kinds:
        raise ValueError("name at least one event kind, e.g. FOMC,CPI")
    return kinds


EVENTS = Setting(
    "event_window.events",
    "FOMC,CPI,PPI,Earnings",
    "str",
    "Calendar events that count (comma-separated, matched to the Event column ignoring case). "
    "The method names FOMC and CPI; PPI and earnings move the index the same way.",
    check=parse_kinds,
)
DAYS = Setting(
    "event_window.days",
    10,
    "int",
    "Calendar days ahead within which a counted event triggers (method: hedge within 10 days "
    "of FOMC/CPI).",
    minimum=0,
    maximum=90,
)


def _events(calendar: pd.DataFrame) -> pd.DataFrame:
    """Calendar rows with a date and an event name: date (datetime.date), event, note."""
    if calendar.empty or not {"date", "event"} <= set(calendar.columns):
        return pd.DataFrame({"date": [], "event": [], "note": []})
    dates = pd.to_datetime(calendar["date"], errors="coerce")
    events = calendar["event"].fillna("").astype(str).str.strip()
    notes = calendar["note"] if "note" in calendar.columns else pd.Series("", index=calendar.index)
    frame = pd.DataFrame(
        {"date": dates, "event": events, "note": notes.fillna("").astype(str).str.strip()}
    )
    frame = frame[frame["date"].notna() & (frame["event"] != "")]
    frame["date"] = [day.date() for day in frame["date"]]
    return frame.sort_values("date", kind="stable").reset_index(drop=True)


def _named(rows: pd.DataFrame) -> str:
    """ "FOMC (rate decision)" or "CPI and PPI": the events of one day with their notes."""
    names = [
        f"{e} ({n})" if n else str(e) for e, n in zip(rows["event"], rows["note"], strict=True)
    ]
    return " and ".join(names)


def evaluate(ctx: Context) -> Reading:
    window = int(ctx.settings[DAYS.name])
    kinds = parse_kinds(ctx.settings[EVENTS.name])
    events = _events(ctx.calendar)
    if events.empty:
        raise NotEvaluated("needs the Calendar sheet with event dates")
    as_of = ctx.as_of
    wanted = {k.lower() for k in kinds}
    ahead = events[events["event"].str.lower().isin(wanted) & (events["date"] >= as_of)]
    counted = ", ".join(kinds)
    if ahead.empty:
        return Reading(
            value=None,
            triggered=False,
            strength=0.0,
            explanation=(
                f"no {counted} event on or after {as_of:%Y-%m-%d} in the Calendar "
                f"({len(events)} event(s), the last on {events['date'].iloc[-1]:%Y-%m-%d})"
            ),
        )
    day: dt.date = ahead["date"].iloc[0]
    days = (day - as_of).days
    triggered = days <= window
    strength = (window + 1 - days) / (window + 1) if triggered else 0.0
    state = "within" if triggered else "outside"
    return Reading(
        value=float(days),
        triggered=triggered,
        strength=min(max(strength, 0.0), 1.0),
        explanation=(
            f"next event: {_named(ahead[ahead['date'] == day])} on {day:%Y-%m-%d}, {days} day(s) "
            f"after {as_of:%Y-%m-%d}: {state} the {window}-day window (counted: {counted})"
        ),
        details={"days": float(days)},
    )


@hookimpl
def alvh_register_signals(register: Callable[[Signal], None]) -> None:
    register(
        Signal(
            name="event_window",
            evaluate=evaluate,
            description="a scheduled FOMC, CPI, PPI or earnings event within N days (Calendar)",
            settings=(EVENTS, DAYS),
            category="event",
        )
    )
