"""Listed expiry dates by exchange rule: the engine needs them when a workbook gives no VIX futures
curve (the curve is then modelled at the listed expiries), the example workbook to lay out its
book. Exchange-holiday shifts are not modelled."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence


def third_friday(year: int, month: int) -> dt.date:
    """The third Friday of a month: the standard monthly options expiration."""
    first = dt.date(year, month, 1)
    first_friday = first + dt.timedelta(days=(4 - first.weekday()) % 7)
    return first_friday + dt.timedelta(weeks=2)


def vix_expiry(year: int, month: int) -> dt.date:
    """Final settlement of the VIX future for contract month (year, month).

    Cboe: the Wednesday 30 days before the third Friday of the following month (the SPX options
    that settle VIX then have exactly 30 days left).
    """
    following = dt.date(year + month // 12, month % 12 + 1, 1)
    return third_friday(following.year, following.month) - dt.timedelta(days=30)


def next_expiries(
    as_of: dt.date, count: int, rule: Callable[[int, int], dt.date], months_back: int = 0
) -> list[dt.date]:
    """The next `count` expiries after `as_of` of a monthly `rule(year, month)`, trying months
    from `months_back` before as_of's own (a VIX contract month expires in the month before)."""
    out: list[dt.date] = []
    index = as_of.year * 12 + as_of.month - 1 - months_back
    while len(out) < count:
        day = rule(index // 12, index % 12 + 1)
        if day > as_of:
            out.append(day)
        index += 1
    return out


def next_vix_expiries(as_of: dt.date, count: int) -> list[dt.date]:
    """The next `count` VIX futures expiries after `as_of`."""
    return next_expiries(as_of, count, vix_expiry, months_back=1)


def nearest_expiry(
    expiries: Sequence[dt.date], as_of: dt.date, target_days: int, roll_dte: int = 0
) -> dt.date:
    """The listed expiry closest to `target_days` after `as_of` among those more than
    `roll_dte` days away (a hedge bought inside its roll window would be rolled at once); ties
    go to the later one."""
    live = [e for e in expiries if (e - as_of).days > roll_dte]
    if not live:
        raise ValueError(
            f"the VIX futures curve has no expiry more than {roll_dte} days after {as_of:%Y-%m-%d}"
        )
    return min(live, key=lambda e: (abs((e - as_of).days - target_days), -e.toordinal()))
