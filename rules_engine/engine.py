"""The engine: Inputs and loaded plugins in, Outputs out. Pure: imports no workbook library.

Order of work: validate settings, build the market, price and stress the book, run every signal,
run the sizer the Settings name, and tabulate. Input errors stop the run before any figure is
produced, so a trader never sees a recommendation computed from a broken sheet; plugin failures do
not.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from rules_engine import __version__
from rules_engine.book_views import book_summary, condor_odds, held_hedge_table
from rules_engine.composite import Composite, composite, weights_from
from rules_engine.contract import POSITIONS, SETTINGS, VIX_FUTURES
from rules_engine.expiries import next_vix_expiries
from rules_engine.host import PluginHost
from rules_engine.logbook import inputs_hash, last_run, log_rows
from rules_engine.models import (
    CellValue,
    Context,
    Inputs,
    Issue,
    LoggedLayer,
    Outputs,
    Reading,
    RunStatus,
)
from rules_engine.risk.book import HEDGE_KINDS
from rules_engine.risk.bookview import OpenPnl, open_pnl
from rules_engine.risk.calibration import LONG_RUN_VIX_MEAN
from rules_engine.risk.liquidity import Liquidity
from rules_engine.risk.market import MarketState, Scenario, ScenarioParams, VixCurve
from rules_engine.risk.report import RiskReport, compute_risk
from rules_engine.risk.stress import StressModel, vix_1y_mean
from rules_engine.risk.structures import Condor
from rules_engine.risk_views import (
    HedgeValuer,
    analog_table,
    grid_tables,
    spike_table,
    spx_curve,
    table_scenarios,
    vix_curve,
)
from rules_engine.rules import DEFAULT_RULES, check_rules, evaluate_rules
from rules_engine.runner import SignalOutcome, SizerOutcome, run_signals, run_sizer
from rules_engine.settings import parse_grid, resolve_settings
from rules_engine.steward import steady
from rules_engine.summary import PremiumBudget, summarize

HEDGE_COLUMNS = (
    "Layer",
    "Status",
    "Instrument",
    "Expiry",
    "Strike",
    "Contracts",
    "Price (VIX pts)",
    "Multiplier",
    "Cost ($)",
    "Notional ($)",
)
HEDGE_TAIL = (
    "Cost to Target ($)",
    "Carry/Day ($)",
    "Carry to Roll ($)",
    "Cost if No Spike ($)",
    "Trigger",
    "Why",
    "Exit Rule",
)
#: The Hedge table's last row: the ACTIVE layers together.
ACTIVE_TOTAL = "All ACTIVE"
SIGNAL_COLUMNS = (
    "Signal",
    "Category",
    "Plugin",
    "Status",
    "Value",
    "Triggered",
    "Strength (0-1)",
    "Explanation",
)


#: How many listed expiries a modelled curve has when the workbook gives none.
_MODELLED_EXPIRIES = 8


def _market_state(inputs: Inputs, settings: Mapping[str, Any]) -> tuple[MarketState, list[Issue]]:
    """Today's market. Without a live VIX futures curve the curve is the fitted model's at the
    next listed expiries (and a warning says so)."""
    market = inputs.market
    as_of = market["as_of"]
    vix = float(market["vix"])
    history = history_until(inputs.history, as_of)
    closes = history["vix_close"].to_numpy(dtype=float) if "vix_close" in history else np.array([])
    mean = vix_1y_mean(closes, LONG_RUN_VIX_MEAN)
    vvix = market.get("vvix")
    futures = inputs.vix_futures
    live = futures[[e > as_of for e in futures["expiry"]]] if len(futures) else futures
    issues: list[Issue] = []
    if len(live):
        expiries = tuple(live["expiry"])
        prices = tuple(float(p) for p in live["price"])
    else:
        expiries = tuple(next_vix_expiries(as_of, _MODELLED_EXPIRIES))
        draft = StressModel(
            MarketState(as_of, 0.0, vix, 0.0, 0.0, VixCurve((), (), vix), mean),
            ScenarioParams.from_settings(settings),
        )
        days = np.array([(e - as_of).days for e in expiries], dtype=float)
        prices = tuple(float(p) for p in draft.curve_model(vix, days))
        issues.append(
            Issue(
                "warning",
                f"no VIX future expires after the as-of date {as_of:%Y-%m-%d}: the curve is "
                f"modelled from spot VIX {vix:g} and the past year's mean {mean:.2f} "
                "(F = theta + (VIX - theta) exp(-kappa t)); add the VIX Futures sheet's prices",
                VIX_FUTURES,
                None,
                "Price",
                "engine",
            )
        )
    state = MarketState(
        as_of=as_of,
        spx=float(market["spx"]),
        vix=vix,
        rate=float(market["rate"]),
        dividend_yield=float(market.get("dividend_yield", 0.0) or 0.0),
        curve=VixCurve(expiries, prices, vix),
        vix_1y_mean=mean,
        vvix=float(vvix) if isinstance(vvix, int | float) else None,
    )
    return state, issues


def _signals_frame(outcomes: list[SignalOutcome]) -> pd.DataFrame:
    rows = []
    for o in outcomes:
        r = o.reading
        rows.append(
            (
                o.signal,
                o.category,
                o.plugin,
                o.status,
                None if r is None else r.value,
                None if r is None else r.triggered,
                None if r is None else r.strength,
                o.reason if r is None else r.explanation,
            )
        )
    return pd.DataFrame(rows, columns=list(SIGNAL_COLUMNS))


def _hedge_frame(outcome: SizerOutcome, primary: Scenario) -> pd.DataFrame:
    """One row per layer (held hedges' rows after the plan's), then the ACTIVE layers' total.
    Cost is option premium paid; a future's exposure or ETP shares' value is Notional. A STANDBY
    or UNFUNDED row shows what it would buy and cost. The P&L columns are net: what the layer
    fetches closed in the scenario less what it cost."""
    layers = list(outcome.layers)
    keys: list[Scenario] = []
    for layer in layers:
        keys.extend(k for k in layer.payoff_by_scenario if k not in keys)
    keys.sort(key=lambda k: k.sort_key)
    pay_cols = [f"Net P&L {k.label} ($)" for k in keys]
    target_col = f"Target Share ({primary.label})"
    share_col = f"Share of Loss Covered ({primary.label})"
    columns = [*HEDGE_COLUMNS, target_col, share_col, *pay_cols, *HEDGE_TAIL]
    rows = []
    for layer in layers:
        held = layer.held_group is not None
        rows.append(
            (
                layer.layer,
                layer.status,
                layer.instrument,
                layer.expiry,
                None if held else layer.strike,
                layer.contracts,
                None if held else layer.price,
                None if held else layer.multiplier,
                layer.cost,
                layer.notional,
                layer.target_share,
                layer.share_of_loss_covered,
                *[layer.payoff_by_scenario.get(k) for k in keys],
                layer.cost_to_target,
                layer.carry_per_day,
                layer.carry_to_roll,
                layer.cost_if_no_spike,
                layer.trigger,
                layer.why,
                layer.exit_rule,
            )
        )
    frame = pd.DataFrame(rows, columns=columns)
    active = frame[frame["Status"] == "ACTIVE"]
    if len(frame):
        sums = [target_col, share_col, "Cost ($)", "Notional ($)", *pay_cols]
        sums += ["Cost to Target ($)", "Carry/Day ($)", "Carry to Roll ($)", "Cost if No Spike ($)"]
        total: dict[str, CellValue] = {"Layer": ACTIVE_TOTAL, "Contracts": None}
        total |= {c: float(active[c].sum(min_count=1)) if len(active) else 0.0 for c in sums}
        frame = pd.concat([frame, pd.DataFrame([total])], ignore_index=True)
    return frame


def _composite_frame(warning: Composite) -> pd.DataFrame:
    """One row per signal category (its weight, its loudest evaluated signal and that signal's
    strength), then the composite itself."""
    rows: list[tuple[CellValue, ...]] = [
        (c.category, c.weight, c.loudest or "", c.strength, c.weight * c.strength)
        for c in warning.categories
    ]
    left_out = ", ".join(warning.excluded) or "none"
    rows.append(("composite", None, f"not evaluated: {left_out}", None, warning.value))
    return pd.DataFrame(
        rows,
        columns=["Category", "Weight", "Loudest Signal", "Strength (0-1)", "Weight x Strength"],
    )


def _budget_frame(budget: PremiumBudget, notional: float) -> pd.DataFrame:
    """The premium budget in dollars: what it is, what the held hedges and the ACTIVE layers use,
    what is left, and the further premium that would reach every target."""
    rows: list[tuple[str, CellValue]] = [
        ("Premium the SPX book took in ($)", budget.credit),
        (f"Premium budget, {budget.share:.0%} of it ($)", budget.budget),
        ("Option premium of the hedges held ($)", budget.held),
        ("Used by the ACTIVE layers ($)", budget.used),
        ("Left ($)", budget.left),
        ("Further premium to reach every target ($)", budget.to_target),
        ("Futures and ETP notional held, not premium ($)", notional),
    ]
    return pd.DataFrame(rows, columns=["Budget", "Amount ($)"])


LEG_COLUMNS = {
    "group": "Group",
    "row": "Row",
    "underlying": "Underlying",
    "type": "Type",
    "expiry": "Expiry",
    "strike": "Strike",
    "qty": "Qty",
    "multiplier": "Multiplier",
    "days": "DTE",
    "iv": "IV",
    "iv_source": "IV From",
    "underlying_price": "Underlying Price",
    "price": "Model Price",
    "value": "Value ($)",
    "delta_usd": "$Delta (per pt)",
    "gamma_usd": "$Gamma (per pt^2)",
    "vega_usd": "$Vega (per vol pt)",
    "theta_usd": "$Theta (per day)",
}
#: The per-position columns that add up to structure and book totals.
#: The structure table's total rows.
ALL_SPX, ALL_HEDGES = "All SPX legs", "All VIX hedges"
GREEK_COLUMNS = {
    key: LEG_COLUMNS[key] for key in ("value", "delta_usd", "gamma_usd", "vega_usd", "theta_usd")
}


def _condor_columns(c: Condor | None) -> dict[str, CellValue]:
    fields: dict[str, CellValue] = {
        "Expiry": None,
        "Contracts": None,
        "Long Put": None,
        "Short Put": None,
        "Short Call": None,
        "Long Call": None,
        "Credit ($)": None,
        "Credit From": None,
        "Max Loss ($)": None,
        "Break-even Low (SPX)": None,
        "Break-even High (SPX)": None,
    }
    if c is not None:
        values = (
            c.expiry,
            c.contracts,
            c.long_put,
            c.short_put,
            c.short_call,
            c.long_call,
            c.credit,
            c.credit_source,
            c.max_loss,
            c.breakeven_low,
            c.breakeven_high,
        )
        fields = dict(zip(fields, values, strict=True))
    return fields


def _structures_frame(risk: RiskReport, scenarios: tuple[Scenario, ...]) -> pd.DataFrame:
    """One row per Group, then totals for the SPX book, the VIX hedges and the whole book. The
    SPX total carries the condors' credit and max loss; the whole-book row leaves $delta, $gamma
    and $vega blank, since SPX and VIX-future points (and vol points) do not add up."""
    legs = risk.legs
    names = legs["group"].astype(str).to_numpy()
    hedge = legs["kind"].isin(HEDGE_KINDS).to_numpy()
    keys = [*dict.fromkeys(names), ALL_SPX, ALL_HEDGES]
    code = {k: i for i, k in enumerate(keys)}
    by_group = np.array([code[n] for n in names])
    by_total = np.where(hedge, code[ALL_HEDGES], code[ALL_SPX])
    columns = {label: legs[col].to_numpy(dtype=float) for col, label in GREEK_COLUMNS.items()}
    risk.pnl_many(scenarios)  # prices them all in one pass; leg_pnl then reads each
    columns |= {f"P&L {sc.label} ($)": risk.leg_pnl(sc).to_numpy() for sc in scenarios}
    sums = {
        label: np.bincount(by_group, np.nan_to_num(v), len(keys))
        + np.bincount(by_total, np.nan_to_num(v), len(keys))
        for label, v in columns.items()
    }
    present = np.bincount(by_group, minlength=len(keys)) + np.bincount(
        by_total, minlength=len(keys)
    )
    condors = {c.group: c for c in risk.condors}
    rows = []
    for i, name in enumerate(keys):
        if not present[i]:
            continue
        row: dict[str, CellValue] = {"Group": name, "Structure": risk.kinds.get(name, "total")}
        row |= _condor_columns(condors.get(name))
        row |= {label: float(sums[label][i]) for label in columns}
        rows.append(row)
    frame = pd.DataFrame(rows)
    if condors:
        spx = frame["Group"] == ALL_SPX
        frame.loc[spx, "Credit ($)"] = sum(c.credit for c in condors.values())
        frame.loc[spx, "Max Loss ($)"] = sum(c.max_loss for c in condors.values())
    whole: dict[str, CellValue] = {"Group": "Whole book", "Structure": "total"}
    mixed = {GREEK_COLUMNS[k] for k in ("delta_usd", "gamma_usd", "vega_usd")}
    whole |= {label: float(np.nansum(v)) for label, v in columns.items() if label not in mixed}
    return pd.concat([frame, pd.DataFrame([whole])], ignore_index=True)


def _plugins_frame(host: PluginHost) -> pd.DataFrame:
    rows = [
        (p.name, p.source, p.version, ", ".join(p.signals), ", ".join(p.sizers), "loaded")
        for p in host.plugins
    ]
    rows += [(f.plugin, f.source, "", "", "", f"failed: {f.error}") for f in host.failures]
    return pd.DataFrame(
        rows, columns=["Plugin", "Source", "Version", "Signals", "Sizers", "Status"]
    )


def failed_outputs(
    host: PluginHost,
    issues: list[Issue],
    as_of: dt.date | None = None,
    status: RunStatus = "input errors",
    log: tuple[LoggedLayer, ...] = (),
) -> Outputs:
    """Outputs that carry only the run log (and the Log sheet's earlier rows, kept as they
    were): what a run that computed nothing writes."""
    return Outputs(
        hedge=pd.DataFrame(),
        signals=pd.DataFrame(),
        risk_structures=pd.DataFrame(),
        risk_scenarios=pd.DataFrame(),
        risk_legs=pd.DataFrame(),
        run_info=_run_info(as_of, None, issues, status),
        plugins=_plugins_frame(host),
        issues=tuple(issues),
        status=status,
        log=log,
    )


_STATUS_TEXT: dict[RunStatus, str] = {
    "ok": "OK",
    "input errors": "FAILED: the inputs have {errors} error(s), see Messages",
    "plugin failed": "FAILED: a plugin failed and no hedge could be made, see Messages",
    "internal error": "FAILED: an internal error in alvh, see Messages",
}


def _run_info(
    as_of: dt.date | None,
    sizer: str | None,
    issues: list[Issue],
    status: RunStatus,
    changes: CellValue = None,
) -> tuple[tuple[str, CellValue], ...]:
    errors = sum(i.severity == "error" for i in issues)
    warnings = sum(i.severity == "warning" for i in issues)
    info: tuple[tuple[str, CellValue], ...] = (
        ("Status", _STATUS_TEXT[status].format(errors=errors)),
        ("alvh Version", __version__),
        ("As Of", as_of),
        ("Sizer", sizer or ""),
        ("Errors", errors),
        ("Warnings", warnings),
    )
    if changes is not None:
        info += (("Layer Changes Since the Last Recompute", changes),)
    return info


def _plugin_issues(
    host: PluginHost, outcomes: list[SignalOutcome], sized: SizerOutcome
) -> list[Issue]:
    issues = [
        Issue("warning", f"plugin failed to load ({f.source}): {f.error}", source=f.plugin)
        for f in host.failures
    ]
    issues += [
        Issue(
            "warning" if o.status == "failed" else "info",
            f"signal {o.signal!r} {o.status}: {o.reason}; it gives no reading this run",
            source=o.plugin,
        )
        for o in outcomes
        if o.status in ("failed", "not evaluated")
    ]
    if sized.error:
        issues.append(
            Issue(
                "error",
                f"sizer {sized.sizer!r} {sized.error}; no hedge layers were produced",
                source=sized.plugin,
            )
        )
    return issues


def history_until(history: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """History up to and including the as-of date: a signal must never see the future."""
    return history[history.index <= pd.Timestamp(as_of)]


def build_context(inputs: Inputs, settings: Mapping[str, Any], risk: RiskReport) -> Context:
    return Context(
        as_of=inputs.market["as_of"],
        history=history_until(inputs.history, inputs.market["as_of"]),
        market=inputs.market,
        positions=inputs.positions,
        vix_futures=inputs.vix_futures,
        calendar=inputs.calendar,
        settings=settings,
        risk=risk,
        vix_options=inputs.vix_options,
        spx_options=inputs.spx_options,
    )


@dataclass(frozen=True)
class RunOptions:
    """What a recompute takes besides the workbook: the moment it runs (UTC; only the Log sheet
    records it) and a sizer named for this run only (`alvh recompute --sizer NAME`)."""

    now: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    sizer: str | None = None


def recompute(inputs: Inputs, host: PluginHost, options: RunOptions | None = None) -> Outputs:
    """Everything the engine writes, from the workbook's inputs and the loaded plugins.

    Deterministic apart from the Log sheet's time stamp: the same inputs and plugins give the
    same cells, so recomputing an unchanged workbook changes no layer.
    """
    options = options or RunOptions()
    as_of = inputs.market["as_of"]
    settings, issues = resolve_settings(inputs.settings, host.declared_settings)
    issues = [*inputs.warnings, *issues]
    sizer_name = options.sizer or str(settings["engine.sizer"])
    sizer_entry = host.sizers.get(sizer_name)
    if sizer_entry is None:
        issues.append(_unknown_sizer(inputs, host, sizer_name, options.sizer is not None))
    if any(i.severity == "error" for i in issues):
        return failed_outputs(host, issues, as_of, log=inputs.log)
    state, market_issues = _market_state(inputs, settings)
    issues += market_issues
    risk = compute_risk(inputs.positions, state, settings, partial(inputs.cell, POSITIONS))
    issues += risk.issues
    if any(i.severity == "error" for i in issues) or sizer_entry is None:
        return failed_outputs(host, issues, as_of, log=inputs.log)
    ctx = build_context(inputs, settings, risk)
    opened = open_pnl(risk, partial(inputs.cell, POSITIONS))
    issues += opened.issues
    rules = inputs.rules or DEFAULT_RULES
    issues += check_rules(rules, host.signals)
    time_limit = float(settings["engine.plugin_time_limit"])
    outcomes = run_signals(host.signals, ctx, time_limit)
    readings: dict[str, Reading] = {o.signal: o.reading for o in outcomes if o.reading is not None}
    warning = composite(
        readings,
        {o.signal: o.category for o in outcomes},
        weights_from(settings),
        [o.signal for o in outcomes if o.reading is None],
    )
    pnl = book_open_pnl(risk, opened)
    triggers = evaluate_rules(rules, outcomes, warning, risk, inputs.market, pnl)
    previous = last_run(inputs.log)
    ctx = dataclasses.replace(ctx, composite=warning, rules=triggers, previous=previous)
    sized = run_sizer(sizer_entry, ctx, readings, time_limit)
    changes: CellValue = None
    if not sized.error:
        kept = steady(sized.layers, previous, triggers, pnl is not None and pnl < 0, settings)
        sized = dataclasses.replace(sized, layers=kept.layers)
        changes = "none: first recompute" if kept.since is None else len(kept.changes)
        issues += [Issue("info", change, source="steward") for change in kept.changes]
    log = log_rows(inputs.log, sized.layers, options.now, inputs_hash(inputs))
    issues += _plugin_issues(host, outcomes, sized)
    status: RunStatus = "plugin failed" if sized.error else "ok"
    legs = risk.legs.rename(columns=LEG_COLUMNS)[list(LEG_COLUMNS.values())]
    active = None if sized.error else [x for x in sized.layers if x.status == "ACTIVE"]
    valuer = HedgeValuer(risk, active, inputs.vix_options, Liquidity.from_settings(settings))
    vix_moves = parse_grid(settings["scenario.grid_vix_points"])
    spx_moves = parse_grid(settings["scenario.grid_spx_moves"])
    valuer.prime(table_scenarios(risk, vix_moves, spx_moves))
    grids = grid_tables(valuer, vix_moves, spx_moves)
    analogs = analog_table(valuer)
    budget = PremiumBudget.of(
        float(settings["hedge.premium_budget"]),
        risk.credit_received,
        risk.hedge_premium_paid,
        sized.layers,
    )
    summary: tuple[tuple[str, CellValue], ...] = ()
    if not sized.error:
        summary = summarize(
            sized.layers, risk.primary, risk.projected_loss(), budget, analogs, changes
        )
    return Outputs(
        hedge=_hedge_frame(sized, risk.primary),
        hedge_budget=_budget_frame(budget, risk.hedge_notional),
        composite=_composite_frame(warning),
        signals=_signals_frame(outcomes),
        risk_structures=_structures_frame(risk, risk.scenarios),
        risk_book=_book_tables(risk, opened, valuer.liquidity),
        risk_scenarios=spike_table(valuer),
        risk_legs=legs,
        risk_tables=(
            *grids,
            ("Historical analogs: today's book meets each past move at once", analogs),
        ),
        run_info=_run_info(as_of, sizer_name, issues, status, changes),
        plugins=_plugins_frame(host),
        issues=tuple(issues),
        status=status,
        log=log,
        summary=summary,
        pnl_by_vix=vix_curve(valuer, vix_moves),
        pnl_by_spx=spx_curve(valuer, spx_moves),
    )


def book_open_pnl(risk: RiskReport, opened: OpenPnl) -> float | None:
    """Open P&L of the SPX book since entry ($), None when a leg has no Entry Price."""
    spx = ~risk.legs["kind"].isin(HEDGE_KINDS).to_numpy()
    pnl = opened.legs["open_pnl_usd"][spx]
    return float(pnl.sum()) if pnl.notna().all() else None


def _book_tables(
    risk: RiskReport, opened: OpenPnl, liquidity: Liquidity
) -> tuple[tuple[str, pd.DataFrame], ...]:
    """The book summary, the condors' odds and the existing hedges, each titled with its units."""
    widening = f"{liquidity.widening:g}x"
    tables = (
        (
            "Book: open P&L since entry, net Greeks, dollars per VIX point (SPX held)",
            book_summary(risk, opened),
        ),
        (
            "Condors: expected move from ATM IV, lognormal odds beyond each short strike, "
            "return on risk",
            condor_odds(risk),
        ),
        (
            f"Existing VIX hedges: closed at the bid (spreads widened {widening} when VIX "
            "rises; shorts bought back at the ask), $ per position",
            held_hedge_table(risk, liquidity),
        ),
    )
    return tuple((title, frame) for title, frame in tables if not frame.empty)


def _unknown_sizer(inputs: Inputs, host: PluginHost, name: str, from_command: bool) -> Issue:
    """The error for a sizer name (`engine.sizer`, or `--sizer` on the command line) that no
    loaded plugin provides, with what could be meant."""
    known = ", ".join(sorted(host.sizers)) or "none loaded"
    failed = ", ".join(sorted({f.plugin for f in host.failures}))
    hint = f"; plugins that failed to load: {failed} (see Plugins below)" if failed else ""
    message = f"names {name!r}, which no loaded plugin provides (loaded: {known}){hint}"
    if from_command:
        return Issue("error", f"--sizer {message}", source="engine")
    cell = inputs.settings.get("engine.sizer")
    return Issue(
        "error",
        f"engine.sizer {message}",
        SETTINGS,
        cell.cell if cell else None,
        "Value",
        "engine",
    )
