"""Settings: the core's own declarations, and validation of the Settings sheet against all of them.

Every coefficient of the stress model is a setting with a default and a source note, so that a
trader can see and stress each assumption (DESIGN.md, risk conventions; ../shared/notes/market-
model.md).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from rules_engine.contract import SETTINGS
from rules_engine.guarded import DEFAULT_TIME_LIMIT, call_guarded
from rules_engine.models import CellValue, Issue, Setting, SettingCell

CORE_OWNER = "core"


def parse_points(text: str) -> tuple[float, ...]:
    """`"5, 7"` -> (5.0, 7.0); raises ValueError with the reason for anything else."""
    parts = [p.strip() for p in str(text).replace(";", ",").split(",") if p.strip()]
    if not parts:
        raise ValueError("no spike sizes given")
    points = []
    for part in parts:
        try:
            value = float(part)
        except ValueError:
            raise ValueError(f"spike size {part!r} is not a number") from None
        if not math.isfinite(value) or value <= 0:
            raise ValueError(f"spike size {part!r} is not a positive number")
        points.append(value)
    return tuple(sorted(set(points)))


CORE_SETTINGS: tuple[Setting, ...] = (
    Setting(
        "engine.sizer",
        "alvh",
        "str",
        "Name of the sizer plugin that turns risk and signals into hedge layers "
        "(see `alvh plugins`).",
    ),
    Setting(
        "engine.plugin_time_limit",
        10.0,
        "float",
        "Seconds one signal or sizer may run; a plugin that takes longer is reported as timed "
        "out and the run goes on without its result.",
        minimum=0.1,
        maximum=3600.0,
    ),
    Setting(
        "scenario.primary_spike",
        6.0,
        "float",
        "The VIX spike (index points) the hedge is sized for: the projected loss sizers offset "
        "and the share of it each layer covers.",
        minimum=0.5,
        maximum=100.0,
    ),
    Setting(
        "scenario.vix_points",
        "5,7",
        "str",
        "VIX spike sizes (index points, comma-separated) for the Risk scenario grid and the Hedge "
        "payoff columns; the primary spike is added to them.",
        check=parse_points,
    ),
    Setting(
        "scenario.spx_pct_per_vix_pct",
        -0.10,
        "float",
        "SPX return per unit VIX return in a spike: -0.10 = SPX -1% per VIX +10% (tastytrade 2019; "
        "1986-2007 regression %dVIX ~ -10 x %dSPX, R^2 ~0.5).",
        minimum=-1.0,
        maximum=0.0,
    ),
    Setting(
        "scenario.atm_iv_beta",
        0.9,
        "float",
        "SPX 30-day ATM implied vol change, in vol points per VIX point (no published beta; "
        "practitioner range 0.8-1.0, short tenors move more).",
        minimum=0.0,
        maximum=3.0,
    ),
    Setting(
        "scenario.iv_tenor_exponent",
        0.5,
        "float",
        "ATM IV change scales with (30 / days to expiry) ^ exponent, so short tenors move more.",
        minimum=0.0,
        maximum=2.0,
    ),
    Setting(
        "scenario.iv_tenor_factor_max",
        2.0,
        "float",
        "Cap on that tenor factor (and 1/cap its floor), so very short or long tenors stay sane.",
        minimum=1.0,
        maximum=10.0,
    ),
    Setting(
        "scenario.put_skew_beta",
        0.1,
        "float",
        "Extra IV for downside strikes: vol points per VIX point per 10% of strike below the "
        "stressed SPX level (downside strikes move more in a selloff).",
        minimum=0.0,
        maximum=3.0,
    ),
    Setting(
        "scenario.vix_futures_beta_30d",
        0.5,
        "float",
        "VIX future points per spot VIX point at 30 days to expiry (S&P DJI 2011: 1-month "
        "constant-maturity index beta ~0.43; ~0.5 one month out). 1.0 at expiry; linear between.",
        minimum=0.0,
        maximum=1.0,
    ),
    Setting(
        "scenario.vix_futures_beta_165d",
        0.2,
        "float",
        "VIX future points per spot VIX point at 165 days and beyond (S&P DJI 2011: 4-7 month "
        "index beta ~0.21).",
        minimum=0.0,
        maximum=1.0,
    ),
    Setting(
        "scenario.vix_option_vol_per_point",
        0.02,
        "float",
        "VIX option implied vol rise per VIX point in a spike (0.02 = +2 vol points); "
        "VVIX averaged "
        "86-94 and reached 212 in 2007-2022.",
        minimum=0.0,
        maximum=0.5,
    ),
    Setting(
        "scenario.vix_option_vol_default",
        0.90,
        "float",
        "VIX option implied vol when neither the leg, the VIX Options sheet nor Market VVIX "
        "gives one "
        "(VVIX long-run average ~0.86-0.94).",
        minimum=0.05,
        maximum=5.0,
    ),
)


#: Settings that moved: old name -> new name. A workbook made before the move still works; its
#: value is used under the new name and a warning says to rename the row.
RENAMED: dict[str, str] = {"alvh.primary_spike": "scenario.primary_spike"}


def _convert(setting: Setting, raw: CellValue) -> Any:
    """Turn a cell value into the declared type and run the setting's own check; raise ValueError
    saying what was expected."""
    value = _convert_type(setting, raw)
    if setting.check is not None:
        _run_check(setting.check, setting.name, value)
    return value


def _run_check(check: Callable[[Any], object], name: str, value: Any) -> None:
    """A setting's own check may be a plugin's code: it runs guarded like any plugin call, and
    only the ValueError it raises (the reason the value is wrong) reaches the user as such."""

    def reason() -> str:
        try:
            check(value)
        except ValueError as exc:
            return str(exc)
        return ""

    outcome = call_guarded(reason, DEFAULT_TIME_LIMIT, name)
    if outcome.error:
        raise ValueError(f"its check {outcome.error}")
    if outcome.value:
        raise ValueError(outcome.value)


def _convert_type(setting: Setting, raw: CellValue) -> Any:
    if setting.type == "bool":
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in {"true", "yes", "y", "1", "on"}:
            return True
        if text in {"false", "no", "n", "0", "off"}:
            return False
        raise ValueError(f"expected TRUE or FALSE, got {raw!r}")
    if setting.type in ("float", "int"):
        if raw is None or isinstance(raw, bool | dt.date):
            raise ValueError(f"expected a number, got {raw!r}")
        try:
            number = float(raw.strip() if isinstance(raw, str) else raw)
        except (TypeError, ValueError):
            raise ValueError(f"expected a number, got {raw!r}") from None
        if not math.isfinite(number):
            raise ValueError(f"expected a finite number, got {raw!r}")
        if setting.type == "int":
            if number != int(number):
                raise ValueError(f"expected a whole number, got {raw!r}")
            number = int(number)
        if setting.minimum is not None and number < setting.minimum:
            raise ValueError(f"{number:g} is below the minimum {setting.minimum:g}")
        if setting.maximum is not None and number > setting.maximum:
            raise ValueError(f"{number:g} is above the maximum {setting.maximum:g}")
        return number
    if setting.type == "date":
        if isinstance(raw, dt.datetime):
            return raw.date()
        if isinstance(raw, dt.date):
            return raw
        try:
            return dt.date.fromisoformat(str(raw).strip()[:10])
        except ValueError:
            raise ValueError(f"expected a date, got {raw!r}") from None
    text = "" if raw is None else str(raw).strip()
    if setting.choices and text not in setting.choices:
        raise ValueError(f"expected one of {', '.join(setting.choices)}, got {raw!r}")
    return text


def resolve_settings(
    raw: Mapping[str, SettingCell], declared: Iterable[Setting]
) -> tuple[dict[str, Any], list[Issue]]:
    """Declared defaults overlaid with valid Settings-sheet values; problems located by cell.

    A blank value keeps the default. An unknown setting is a warning (it may belong to a plugin that
    is not loaded today); a value of the wrong type or out of bounds is an error.
    """
    values: dict[str, Any] = {}
    issues: list[Issue] = []
    known: dict[str, Setting] = {}
    for setting in declared:
        known[setting.name.lower()] = setting
        values[setting.name] = setting.default
    for key, cell in raw.items():
        found = known.get(key)
        renamed = RENAMED.get(key)
        if found is None and renamed is not None:
            issues.append(
                Issue(
                    "warning",
                    f"setting {key!r} is now called {renamed!r}: its value is used under the new "
                    "name; rename the row",
                    SETTINGS,
                    cell.cell,
                    "Value",
                    source="settings",
                )
            )
            if renamed.lower() in raw:
                continue
            found = known.get(renamed.lower())
        if found is None:
            issues.append(
                Issue(
                    "warning",
                    f"unknown setting {key!r} is ignored (no loaded plugin declares it)",
                    SETTINGS,
                    cell.cell,
                    "Value",
                    source="settings",
                )
            )
            continue
        if cell.value is None or (isinstance(cell.value, str) and not cell.value.strip()):
            continue
        try:
            values[found.name] = _convert(found, cell.value)
        except ValueError as exc:
            issues.append(
                Issue("error", f"{found.name}: {exc}", SETTINGS, cell.cell, "Value", "settings")
            )
    return values, issues


def validate_declaration(setting: Setting) -> list[str]:
    """Why a plugin's Setting declaration is unusable (empty when it is fine)."""
    problems: list[str] = []
    if not isinstance(setting.name, str) or not setting.name.strip():
        problems.append("setting name must be non-empty text")
        return problems
    if setting.name != setting.name.strip().lower() or " " in setting.name:
        problems.append(f"setting name {setting.name!r} must be lower case without spaces")
    if setting.type not in ("float", "int", "bool", "str", "date"):
        problems.append(f"setting {setting.name!r} has unknown type {setting.type!r}")
        return problems
    try:
        _convert(setting, setting.default)
    except ValueError as exc:
        problems.append(f"default of setting {setting.name!r} is invalid: {exc}")
    return problems
