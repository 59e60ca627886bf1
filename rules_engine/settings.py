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

from rules_engine.composite import COMPOSITE_SETTINGS
from rules_engine.contract import SETTINGS
from rules_engine.guarded import DEFAULT_TIME_LIMIT, call_guarded
from rules_engine.models import CellValue, Issue, Setting, SettingCell
from rules_engine.risk import calibration
from rules_engine.risk.liquidity import LIQUIDITY_SETTINGS
from rules_engine.steward import STEWARD_SETTINGS

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


def parse_grid(text: str) -> tuple[float, ...]:
    """`"-5, 0, 10"` -> (-5.0, 0.0, 10.0): any finite numbers, at least one; ValueError else."""
    parts = [p.strip() for p in str(text).replace(";", ",").split(",") if p.strip()]
    if not parts:
        raise ValueError("no values given")
    values = []
    for part in parts:
        try:
            value = float(part)
        except ValueError:
            raise ValueError(f"{part!r} is not a number") from None
        if not math.isfinite(value):
            raise ValueError(f"{part!r} is not a finite number")
        values.append(value)
    return tuple(sorted(set(values)))


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
        "hedge.premium_budget",
        0.25,
        "float",
        "Most option premium the hedges may cost, as a share of the premium the SPX book took in "
        "(its groups' net credit at entry). VixShield's published ALVH pages spend 18-28%; a "
        "future's or ETP's notional is never charged to it. Above 100% is refused.",
        minimum=0.0,
        maximum=1.0,
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
        "5,10,20",
        "str",
        "VIX spike sizes (index points, comma-separated) for the Hedge payoff columns and the "
        "Risk sheet's spike table; the primary spike is added to them.",
        check=parse_points,
    ),
    Setting(
        "scenario.horizon_days",
        7,
        "int",
        "Every scenario is also shown this many calendar days ahead (time decay and the futures "
        "rolling down the curve included), beside today and the nearest condor expiry.",
        minimum=1,
        maximum=365,
    ),
    Setting(
        "scenario.grid_vix_points",
        "-5,0,5,10,15,20,25,30",
        "str",
        "VIX changes (index points) of the Risk sheet's scenario grid rows; a change that would "
        "take VIX to 0 or below is left out.",
        check=parse_grid,
    ),
    Setting(
        "scenario.grid_spx_moves",
        "-20,-15,-10,-5,-2.5,0,2.5,5",
        "str",
        "SPX moves (percent) of the Risk sheet's scenario grid columns.",
        check=parse_grid,
    ),
    Setting(
        "scenario.spx_rule",
        "regime",
        "str",
        "How SPX moves with VIX when a scenario does not say: regime (the calibrated betas below, "
        "integrated over the VIX path) or points (a fixed SPX percent per VIX point).",
        choices=("regime", "points"),
    ),
    Setting(
        "scenario.spx_beta_low",
        calibration.SPX_BETAS[0],
        "float",
        "SPX log return per VIX log return while VIX is below 15 (scripts/calibrate_stress.py, "
        "shipped daily closes 2016-2026).",
        minimum=-2.0,
        maximum=0.0,
    ),
    Setting(
        "scenario.spx_beta_mid",
        calibration.SPX_BETAS[1],
        "float",
        "SPX log return per VIX log return while VIX is 15 to 25 (scripts/calibrate_stress.py, "
        "shipped daily closes 2016-2026).",
        minimum=-2.0,
        maximum=0.0,
    ),
    Setting(
        "scenario.spx_beta_high",
        calibration.SPX_BETAS[2],
        "float",
        "SPX log return per VIX log return while VIX is above 25 (scripts/calibrate_stress.py, "
        "shipped daily closes 2016-2026).",
        minimum=-2.0,
        maximum=0.0,
    ),
    Setting(
        "scenario.spx_pct_per_vix_point",
        calibration.SPX_PCT_PER_VIX_POINT,
        "float",
        "The points rule: SPX return per VIX point (-0.01 = -1% per point; tastytrade 2016 found "
        "VIX points per SPX percent near -1; scripts/calibrate_stress.py measures it).",
        minimum=-0.1,
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
        "scenario.smile",
        "sticky_strike",
        "str",
        "How SPX option vols move with SPX: sticky_strike (each strike keeps its vol) or "
        "sticky_moneyness (each strike takes the vol of its new moneyness on its expiry's smile, "
        "read off the book's own legs). The choice changed a worked condor's stressed loss by "
        "~12% (notes: market-model.md); calm markets trade closer to sticky strike.",
        choices=("sticky_strike", "sticky_moneyness"),
    ),
    Setting(
        "scenario.curve_theta_slope",
        calibration.CURVE_THETA_SLOPE,
        "float",
        "VIX futures curve model F(t) = theta + (VIX - theta) exp(-kappa t): theta = this x the "
        "past year's mean VIX + the intercept (fitted to 2007-2021 settlements).",
        minimum=0.0,
        maximum=2.0,
    ),
    Setting(
        "scenario.curve_theta_intercept",
        calibration.CURVE_THETA_INTERCEPT,
        "float",
        "Curve model: the intercept of theta, index points (fitted to 2007-2021 settlements).",
        minimum=0.0,
        maximum=40.0,
    ),
    Setting(
        "scenario.curve_kappa",
        calibration.CURVE_KAPPA,
        "float",
        "Curve model: kappa = this x (VIX / theta) ^ exponent, per year: how fast the curve "
        "returns to theta with tenor (fitted to 2007-2021 settlements).",
        minimum=0.1,
        maximum=20.0,
    ),
    Setting(
        "scenario.curve_kappa_exponent",
        calibration.CURVE_KAPPA_EXPONENT,
        "float",
        "Curve model: the exponent of VIX / theta in kappa (fitted to 2007-2021 settlements).",
        minimum=0.0,
        maximum=3.0,
    ),
    Setting(
        "scenario.vix_vol_30d",
        calibration.VIX_VOL_30D,
        "float",
        "VIX option implied vol at 30 days, at the money, at VIX 15 (1.2 x the realized vol of "
        "VIX futures; that factor reproduced Cboe's VXTH); Market VVIX rescales it when given.",
        minimum=0.05,
        maximum=5.0,
    ),
    Setting(
        "scenario.vix_vol_term_exponent",
        calibration.VIX_VOL_TERM_EXPONENT,
        "float",
        "VIX option vol falls with tenor as (days / 30) ^ -exponent (realized vol of VIX futures "
        "~66% front, ~45% second, ~35% third month).",
        minimum=0.0,
        maximum=2.0,
    ),
    Setting(
        "scenario.vix_vol_level_exponent",
        calibration.VIX_VOL_LEVEL_EXPONENT,
        "float",
        "VIX option vol rises with VIX as (VIX / 15) ^ exponent (measured 0.26-0.39).",
        minimum=0.0,
        maximum=2.0,
    ),
    Setting(
        "scenario.vix_vol_call_skew",
        calibration.VIX_VOL_CALL_SKEW,
        "float",
        "Upside call skew: VIX option vol + this x ln(strike / future) above the future (0.6: "
        "a 30% OTM call ~16 vol points over ATM; practitioner assumption, OTM VIX calls trade "
        "above ATM vol).",
        minimum=0.0,
        maximum=5.0,
    ),
    *LIQUIDITY_SETTINGS,
    *COMPOSITE_SETTINGS,
    *STEWARD_SETTINGS,
)


#: Settings that moved: old name -> new name. A workbook made before the move still works; its
#: value is used under the new name and a warning says to rename the row.
RENAMED: dict[str, str] = {
    "alvh.primary_spike": "scenario.primary_spike",
    "alvh.carry_budget": "hedge.premium_budget",
}
#: Settings the stress model no longer has: old name -> what replaced it. A workbook that still
#: has the row gets a warning saying so; its value is not used.
RETIRED: dict[str, str] = {
    "scenario.spx_pct_per_vix_pct": "scenario.spx_rule with the calibrated regime betas",
    "scenario.vix_futures_beta_30d": "the futures curve model (scenario.curve_*)",
    "scenario.vix_futures_beta_165d": "the futures curve model (scenario.curve_*)",
    "scenario.vix_option_vol_per_point": "the VIX option vol surface (scenario.vix_vol_*)",
    "scenario.vix_option_vol_default": "the VIX option vol surface (scenario.vix_vol_*)",
    "alvh.exit_haircut": "liquidity.stress_widening: hedges are sold at the widened bid",
    "alvh.hedge_ratio_min": "alvh.ladder: the base layer's share at a quiet composite",
    "alvh.target_dte": "alvh.ladder: the tenor of each layer",
    "alvh.layer2_target_dte": "alvh.ladder: the tenor of each layer",
    "alvh.layer2_ratio": "alvh.ladder: each layer's share of the projected loss",
    "alvh.layer2_confirmations": "the Rules sheet: a trigger per layer",
    "alvh.layer2_trigger_stress": "the Rules sheet: a trigger per layer",
    "alvh.strike_increment": "the listed strikes (VIX Options sheet, else Cboe's grid)",
}


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
        if found is None and key in RETIRED:
            issues.append(
                Issue(
                    "warning",
                    f"setting {key!r} is no longer used (replaced by {RETIRED[key]}); its value "
                    "is ignored: delete the row",
                    SETTINGS,
                    cell.cell,
                    "Value",
                    source="settings",
                )
            )
            continue
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
