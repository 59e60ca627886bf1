"""Listed expiry dates by exchange rule: the engine needs them when a workbook gives no VIX futures
curve (the curve is then modelled at the listed expiries), the example workbook to lay out its
book. Exchange-holiday shifts are not modelled."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable


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
