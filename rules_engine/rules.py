"""The Rules sheet: one trigger per hedge layer, an expression over signal readings and risk
figures (`macd.triggered and rsi.value > 65`), checked and then evaluated by simpleeval, never by
Python's eval.

A workbook is data, never code, so a trigger passes two gates. First it is parsed into Python's
syntax tree (which runs nothing) and checked against a whitelist: at most `MAX_LENGTH` characters
and `MAX_DEPTH` levels, only the names below and one figure deep (`rsi.value`, never
`rsi.value.real`), no name starting with `_`, only + - * /, comparisons, and/or/not, text only
compared with == or !=, and the functions abs, min and max; every part is typed (true/false,
number, text), so a trigger that cannot give true/false is refused too. A refusal names the cell
and says why, before anything is evaluated. Then simpleeval evaluates the tree with nothing but
those operators and functions, and attribute access limited to the figures the trigger reads.

Names: each signal (`value`, `triggered`, `strength`, `evaluated`, `status` and its reading's
`details`), `signals.triggered` and `signals.evaluated` (counts), `composite` (the composite
warning level), `book.*` and `market.*`. A figure unknown this run (the value of a signal that
failed, a detail it did not give, the open P&L without entry prices) makes a trigger that uses it
"not evaluable" with the reason, never silently False.
"""

from __future__ import annotations

import ast
import difflib
import math
import operator
import re
import types
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import simpleeval

from rules_engine.contract import RULES
from rules_engine.models import Issue, Rule, RuleResult

if TYPE_CHECKING:
    from rules_engine.composite import Composite
    from rules_engine.risk.report import RiskReport
    from rules_engine.runner import SignalOutcome

#: What `alvh init` writes to the Rules sheet (Trigger cells B2:B4), and what a recompute uses
#: when the workbook has no Rules sheet.
DEFAULT_RULES: tuple[Rule, ...] = (
    Rule(
        1,
        "True",
        "B2",
        "Base layer: held whenever condors are open, whatever the signals say.",
    ),
    Rule(
        2,
        "composite >= 0.5 and signals.triggered >= 2",
        "B3",
        "First confirmation: the composite warning level is 0.5 or more and at least two "
        "signals are triggered.",
    ),
    Rule(
        3,
        "composite >= 0.75 and signals.triggered >= 3",
        "B4",
        "Second confirmation: the composite warning level is 0.75 or more and at least three "
        "signals are triggered.",
    ),
)

#: Longest trigger read (characters); a longer one is refused before it is parsed.
MAX_LENGTH = 500
#: Deepest nesting of a trigger's syntax tree (`((a + b) * c) > d` is 4 deep).
MAX_DEPTH = 40
#: Longest text in quotes (enough for any signal status).
MAX_TEXT = 40
#: Most arguments of min or max.
MAX_ARGS = 10

Kind = Literal["bool", "number", "text", "any"]
_KIND_TEXT = {"bool": "true/false", "number": "a number", "text": "text"}

#: A signal's own figures; any other attribute is read from its reading's `details`.
SIGNAL_FIGURES: Mapping[str, Kind] = {
    "value": "number",
    "triggered": "bool",
    "strength": "number",
    "evaluated": "bool",
    "status": "text",
}
#: The names that hold figures of their own, and those figures.
GROUPS: Mapping[str, Mapping[str, Kind]] = {
    "signals": {"triggered": "number", "evaluated": "number"},
    "book": {
        "projected_loss": "number",
        "condor_credit": "number",
        "open_pnl": "number",
        "drawdown": "bool",
        "days_to_expiry": "number",
    },
    "market": {"vix": "number", "spx": "number", "vix3m": "number", "vvix": "number"},
}
#: Names that are a figure themselves.
SCALARS: Mapping[str, Kind] = {"composite": "number"}
#: What a signal that failed or was not evaluated reads as (its value and details are unknown).
_NOT_EVALUATED: Mapping[str, Figure] = {"triggered": False, "strength": 0.0}
#: The Market fields `market.*` reads, with their labels on the Market sheet.
_MARKET_LABELS = {"vix": "VIX", "spx": "SPX", "vix3m": "VIX3M", "vvix": "VVIX"}

_COMPARISONS: Mapping[type[ast.cmpop], tuple[str, Callable[[Any, Any], bool]]] = {
    ast.Eq: ("==", operator.eq),
    ast.NotEq: ("!=", operator.ne),
    ast.Lt: ("<", operator.lt),
    ast.LtE: ("<=", operator.le),
    ast.Gt: (">", operator.gt),
    ast.GtE: (">=", operator.ge),
}
_ARITHMETIC: Mapping[type[ast.operator], tuple[str, Callable[[Any, Any], Any]]] = {
    ast.Add: ("+", operator.add),
    ast.Sub: ("-", operator.sub),
    ast.Mult: ("*", operator.mul),
    ast.Div: ("/", operator.truediv),
}
_REFUSED_OPERATORS = {
    ast.Pow: "**",
    ast.Mod: "%",
    ast.FloorDiv: "//",
    ast.MatMult: "@",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitOr: "|",
    ast.BitAnd: "&",
    ast.BitXor: "^",
}
#: Syntax a trigger may not use, with the words a refusal gives.
_REFUSED_SYNTAX: Mapping[type[ast.AST], str] = {
    ast.Lambda: "lambda",
    ast.ListComp: "a comprehension",
    ast.SetComp: "a comprehension",
    ast.DictComp: "a comprehension",
    ast.GeneratorExp: "a comprehension",
    ast.JoinedStr: "an f-string",
    ast.NamedExpr: "assignment (:=)",
    ast.Subscript: "indexing with []",
    ast.IfExp: "x if c else y (use and / or)",
    ast.Starred: "unpacking with *",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
    ast.List: "a list",
    ast.Tuple: "a tuple",
    ast.Set: "a set",
    ast.Dict: "a dict",
}


class _Refused(Exception):
    """The trigger is not one a rule may hold; the message says why."""


class _NotEvaluable(Exception):
    """The trigger is valid but cannot be decided this run; the message says why."""


@dataclass(frozen=True)
class _Unknown:
    """A figure with no value this run. Any use of it (a comparison, arithmetic, and/or/not, or
    as the result) makes the trigger not evaluable with `why`."""

    why: str

    def __bool__(self) -> bool:
        raise _NotEvaluable(self.why)


Figure = float | int | bool | str | _Unknown


def _known(*values: object) -> None:
    for value in values:
        if isinstance(value, _Unknown):
            raise _NotEvaluable(value.why)


def _finite(result: Any, described: str) -> Any:
    if isinstance(result, float) and not math.isfinite(result):
        raise _NotEvaluable(f"{described} gives no finite number")
    return result


def _arithmetic(symbol: str, apply: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    def checked(a: Any, b: Any) -> Any:
        _known(a, b)
        if symbol == "/" and b == 0:
            raise _NotEvaluable(f"division by zero ({_shown(a)} / {_shown(b)})")
        return _finite(apply(a, b), f"{_shown(a)} {symbol} {_shown(b)}")

    return checked


def _comparison(apply: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    def checked(a: Any, b: Any) -> bool:
        _known(a, b)
        return apply(a, b)

    return checked


def _unary(apply: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def checked(a: Any) -> Any:
        _known(a)
        return apply(a)

    return checked


def _abs(x: Any) -> Any:
    _known(x)
    return abs(x)


def _min(*xs: Any) -> Any:
    _known(*xs)
    return min(xs)


def _max(*xs: Any) -> Any:
    _known(*xs)
    return max(xs)


#: The only functions a trigger may call.
FUNCTIONS: Mapping[str, Callable[..., Any]] = {"abs": _abs, "min": _min, "max": _max}
#: simpleeval's operators: only these, each refusing an unknown figure.
_OPERATORS: Mapping[type[ast.AST], Callable[..., Any]] = {
    **{op: _arithmetic(symbol, f) for op, (symbol, f) in _ARITHMETIC.items()},
    **{op: _comparison(f) for op, (_, f) in _COMPARISONS.items()},
    ast.Not: _unary(operator.not_),
    ast.USub: _unary(operator.neg),
    ast.UAdd: _unary(operator.pos),
}
#: The syntax-tree nodes simpleeval may evaluate (its others, such as indexing, f-strings and
#: x if c else y, are removed from the evaluator as well as refused by the check).
_EVALUATED_NODES = (
    ast.Name,
    ast.Attribute,
    ast.Constant,
    ast.UnaryOp,
    ast.BinOp,
    ast.BoolOp,
    ast.Compare,
    ast.Call,
)


@dataclass(frozen=True)
class _Vocabulary:
    """The names a trigger may use: the loaded signals and, once they have run, the kind of each
    detail their readings give (None before they run: any detail may come)."""

    signals: frozenset[str]
    details: Mapping[str, Mapping[str, Kind]] | None = None

    def detail_kind(self, signal: str, attr: str) -> Kind:
        if self.details is None:
            return "any"
        return self.details.get(signal, {}).get(attr, "any")

    def unknown_name(self, name: str) -> str:
        """The refusal of a name that is neither a signal nor one of the names above."""
        words = sorted(self.signals) + sorted(GROUPS) + sorted(SCALARS)
        close = difflib.get_close_matches(name.lower(), words, n=1)
        hint = f" (did you mean `{close[0]}`?)" if close else ""
        signals = ", ".join(sorted(self.signals)) or "none loaded"
        others = ", ".join(
            [*SCALARS, *(f"{g}.{f}" for g, fs in GROUPS.items() for f in fs), *FUNCTIONS]
        )
        return (
            f"`{name}` is not a signal or a name a rule can use{hint}. Signals: {signals}. "
            f"Other names: {others}"
        )


@dataclass(frozen=True)
class _Reference:
    """A figure the trigger reads, and where its text ends (UTF-8 byte offset)."""

    name: str
    attr: str | None
    end: int


class _Checker:
    """Types every node of a trigger against the whitelist; refuses with `_Refused`."""

    def __init__(self, text: str, vocabulary: _Vocabulary) -> None:
        self.text = text
        self.vocabulary = vocabulary
        self.references: list[_Reference] = []

    def source(self, node: ast.AST) -> str:
        return ast.get_source_segment(self.text, node) or type(node).__name__

    def kind(self, node: ast.AST, depth: int = 0) -> Kind:
        if depth > MAX_DEPTH:
            raise _Refused(f"the trigger nests more than {MAX_DEPTH} levels deep")
        deeper = depth + 1
        if isinstance(node, ast.Constant):
            return self.constant(node)
        if isinstance(node, ast.Name):
            return self.name(node)
        if isinstance(node, ast.Attribute):
            return self.attribute(node)
        if isinstance(node, ast.BoolOp):
            for value in node.values:
                self.expect(value, "bool", deeper, "`and` / `or`")
            return "bool"
        if isinstance(node, ast.UnaryOp):
            return self.unary(node, deeper)
        if isinstance(node, ast.BinOp):
            return self.binary(node, deeper)
        if isinstance(node, ast.Compare):
            return self.compare(node, deeper)
        if isinstance(node, ast.Call):
            return self.call(node, deeper)
        what = _REFUSED_SYNTAX.get(type(node), f"`{self.source(node)}`")
        raise _Refused(f"{what} is not allowed in a trigger")

    def expect(self, node: ast.AST, wanted: Kind, depth: int, where: str) -> Kind:
        found = self.kind(node, depth)
        if found not in (wanted, "any"):
            raise _Refused(
                f"`{self.source(node)}` is {_KIND_TEXT[found]}, but {where} needs "
                f"{_KIND_TEXT[wanted]}"
            )
        return found

    def constant(self, node: ast.Constant) -> Kind:
        value = node.value
        if isinstance(value, bool):
            return "bool"
        if isinstance(value, int | float) and not isinstance(value, complex):
            if not math.isfinite(value):
                raise _Refused(f"`{self.source(node)}` is not a finite number")
            return "number"
        if isinstance(value, str):
            if len(value) > MAX_TEXT:
                raise _Refused(f"text in quotes may have at most {MAX_TEXT} characters")
            return "text"
        raise _Refused(f"`{self.source(node)}` is not a number, true/false or text")

    def name(self, node: ast.Name) -> Kind:
        name = node.id
        if name in SCALARS:
            self.references.append(_Reference(name, None, _end(self.text, node)))
            return SCALARS[name]
        if name in GROUPS:
            example = next(iter(GROUPS[name]))
            raise _Refused(
                f"`{name}` alone is not a figure: read one of its figures, e.g. {name}.{example}"
            )
        if name in self.vocabulary.signals:
            raise _Refused(
                f"`{name}` alone is not a figure: read one of its figures, e.g. "
                f"{name}.triggered or {name}.value"
            )
        if name in FUNCTIONS:
            raise _Refused(f"`{name}` is a function: call it, e.g. {name}(...)")
        raise _Refused(self.vocabulary.unknown_name(name))

    def attribute(self, node: ast.Attribute) -> Kind:
        attr = node.attr
        if attr.startswith(tuple(simpleeval.DISALLOW_PREFIXES)) or attr in set(
            simpleeval.DISALLOW_METHODS
        ):
            raise _Refused(f"`{self.source(node)}`: `{attr}` is not a figure a rule may read")
        if not isinstance(node.value, ast.Name):
            raise _Refused(
                f"`{self.source(node)}` reads a figure of a figure: a rule reads one figure of a "
                "signal, book, market or signals (e.g. rsi.value)"
            )
        name = node.value.id
        if name in GROUPS:
            figures = GROUPS[name]
            if attr not in figures:
                offered = ", ".join(f"{name}.{f}" for f in figures)
                raise _Refused(f"`{name}.{attr}` is not offered; {name} has {offered}")
            found = figures[attr]
        elif name in self.vocabulary.signals:
            found = SIGNAL_FIGURES.get(attr) or self.vocabulary.detail_kind(name, attr)
        elif name in SCALARS or name in FUNCTIONS:
            raise _Refused(f"`{name}` has no figure `{attr}`")
        else:
            raise _Refused(self.vocabulary.unknown_name(name))
        self.references.append(_Reference(name, attr, _end(self.text, node)))
        return found

    def unary(self, node: ast.UnaryOp, depth: int) -> Kind:
        if isinstance(node.op, ast.Not):
            self.expect(node.operand, "bool", depth, "`not`")
            return "bool"
        if isinstance(node.op, ast.USub | ast.UAdd):
            self.expect(node.operand, "number", depth, "a sign (+ or -)")
            return "number"
        raise _Refused("the operator ~ is not offered (use not, + - * /, comparisons)")

    def binary(self, node: ast.BinOp, depth: int) -> Kind:
        spec = _ARITHMETIC.get(type(node.op))
        if spec is None:
            symbol = _REFUSED_OPERATORS.get(type(node.op), type(node.op).__name__)
            raise _Refused(f"the operator {symbol} is not offered (use + - * /)")
        for side in (node.left, node.right):
            self.expect(side, "number", depth, f"`{spec[0]}`")
        return "number"

    def compare(self, node: ast.Compare, depth: int) -> Kind:
        left = node.left
        left_kind = self.kind(left, depth)
        for op, right in zip(node.ops, node.comparators, strict=True):
            spec = _COMPARISONS.get(type(op))
            if spec is None:
                raise _Refused("only the comparisons == != < <= > >= are offered (not in, not is)")
            symbol = spec[0]
            right_kind = self.kind(right, depth)
            if symbol not in ("==", "!="):
                for side, found in ((left, left_kind), (right, right_kind)):
                    if found not in ("number", "any"):
                        raise _Refused(
                            f"`{self.source(side)}` is {_KIND_TEXT[found]}, but {symbol} "
                            "compares numbers"
                        )
            elif "any" not in (left_kind, right_kind) and left_kind != right_kind:
                raise _Refused(
                    f"`{self.source(node)}` compares {_KIND_TEXT[left_kind]} with "
                    f"{_KIND_TEXT[right_kind]}"
                )
            left, left_kind = right, right_kind
        return "bool"

    def call(self, node: ast.Call, depth: int) -> Kind:
        func = node.func
        if not isinstance(func, ast.Name):
            self.kind(func, depth)  # refuses `__import__(...).system`, lambdas, ... as such
        name = func.id if isinstance(func, ast.Name) else self.source(func)
        if name not in FUNCTIONS:
            offered = ", ".join(FUNCTIONS)
            raise _Refused(f"`{name}(...)` is not offered: the functions are {offered}")
        if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
            raise _Refused(f"`{name}` takes plain arguments (no name=, no *)")
        count = len(node.args)
        if (name == "abs" and count != 1) or (name != "abs" and not 2 <= count <= MAX_ARGS):
            wanted = "one number" if name == "abs" else f"2 to {MAX_ARGS} numbers"
            raise _Refused(f"`{self.source(node)}`: {name} takes {wanted}")
        for arg in node.args:
            self.expect(arg, "number", depth, f"`{name}`")
        return "number"


def _end(text: str, node: ast.expr) -> int:
    """Where the node's text ends, as a UTF-8 byte offset (the parser's unit)."""
    if node.end_col_offset is None:
        return len(text.encode())
    return node.end_col_offset


@dataclass(frozen=True)
class _Checked:
    """A trigger that passed the check: its text, syntax tree and the figures it reads."""

    text: str
    tree: ast.expr
    references: tuple[_Reference, ...]


def _check(expression: str, vocabulary: _Vocabulary) -> _Checked:
    """Parse and check one trigger; raises `_Refused` saying what is wrong."""
    if len(expression) > MAX_LENGTH:
        raise _Refused(
            f"the trigger is {len(expression):,} characters long; at most {MAX_LENGTH} are read"
        )
    # Line breaks and tabs (Alt+Enter in a cell) become spaces: one line, same offsets.
    text = re.sub(r"\s", " ", expression).strip()
    if not text:
        raise _Refused("the trigger is blank: enter an expression, e.g. True")
    try:
        tree = ast.parse(text, mode="eval").body
    except SyntaxError as exc:
        where = f" at character {exc.offset}" if exc.offset else ""
        raise _Refused(f"the trigger is not a valid expression ({exc.msg}{where})") from None
    except (ValueError, RecursionError, MemoryError):
        raise _Refused(
            "the trigger cannot be read as an expression (a stray character, or nested too deep)"
        ) from None
    for node in ast.walk(tree):  # first, so that a hostile trigger is refused as such
        named = node.id if isinstance(node, ast.Name) else getattr(node, "attr", "")
        if isinstance(named, str) and named.startswith("_"):
            segment = ast.get_source_segment(text, node) or named
            raise _Refused(f"`{segment}`: names starting with _ are refused")
    checker = _Checker(text, vocabulary)
    found = checker.kind(tree)
    if found not in ("bool", "any"):
        raise _Refused(
            f"the trigger gives {_KIND_TEXT[found]}, not true/false: compare it, e.g. "
            "composite >= 0.5"
        )
    return _Checked(text, tree, tuple(checker.references))


def check_rules(rules: Sequence[Rule], signal_names: Collection[str]) -> list[Issue]:
    """An error for each trigger that a rule may not hold, at its Trigger cell (Rules sheet),
    saying why; the other rules are unaffected. `signal_names` are the loaded signals."""
    vocabulary = _Vocabulary(frozenset(signal_names))
    issues = []
    for rule in rules:
        try:
            _check(rule.expression, vocabulary)
        except _Refused as refused:
            issues.append(_issue(rule, str(refused)))
    return issues


def _issue(rule: Rule, why: str) -> Issue:
    return Issue("error", f"layer {rule.layer}: {why}", RULES, rule.cell, "Trigger", "rules")


def evaluate_rules(
    rules: Sequence[Rule],
    outcomes: Sequence[SignalOutcome],
    composite: Composite,
    risk: RiskReport | None,
    market: Mapping[str, Any],
    open_pnl: float | None,
) -> dict[int, RuleResult]:
    """Each rule's trigger on this run's signal outcomes, composite warning level, risk report,
    Market fields and open P&L of the SPX book ($; None or NaN when unknown), by layer.

    Never raises: a refused trigger or one that cannot be decided (an unknown figure, a division
    by zero) gives `fired=None` and the reason; the other rules are evaluated all the same.
    """
    figures = _Figures(outcomes, composite, risk, market, open_pnl)
    return {rule.layer: _evaluate(rule, figures) for rule in rules}


def _evaluate(rule: Rule, figures: _Figures) -> RuleResult:
    try:
        _check(rule.expression, _Vocabulary(figures.signal_names))
        checked = _check(rule.expression, figures.vocabulary)
    except _Refused as refused:
        return RuleResult(rule.layer, rule.expression, None, f"refused: {refused}")
    values = {(r.name, r.attr): figures.value(r.name, r.attr) for r in checked.references}
    shown = _annotated(checked, values)
    try:
        result = _run(checked, values)
    except _NotEvaluable as why:
        return RuleResult(rule.layer, rule.expression, None, f"not evaluable: {why}: {shown}")
    except simpleeval.InvalidExpression as exc:
        return RuleResult(rule.layer, rule.expression, None, f"refused by the evaluator: {exc}")
    except (ArithmeticError, TypeError, ValueError, RecursionError, MemoryError) as exc:
        return RuleResult(rule.layer, rule.expression, None, f"not evaluable: {exc}: {shown}")
    if isinstance(result, _Unknown):
        return RuleResult(rule.layer, rule.expression, None, f"not evaluable: {result.why}")
    if not isinstance(result, bool):
        return RuleResult(
            rule.layer,
            rule.expression,
            None,
            f"not evaluable: gives {_shown(result)}, not true/false: {shown}",
        )
    return RuleResult(rule.layer, rule.expression, result, shown)


def _run(checked: _Checked, values: Mapping[tuple[str, str | None], Figure]) -> object:
    """Evaluate a checked trigger with simpleeval: only the figures it reads are reachable."""
    names: dict[str, object] = {}
    by_name: dict[str, dict[str, Figure]] = {}
    for (name, attr), value in values.items():
        if attr is None:
            names[name] = value
        else:
            by_name.setdefault(name, {})[attr] = value
    names.update({name: types.SimpleNamespace(**attrs) for name, attrs in by_name.items()})
    readable = {attr for attrs in by_name.values() for attr in attrs}
    evaluator = simpleeval.SimpleEval(
        operators=dict(_OPERATORS),
        functions=dict(FUNCTIONS),
        names=names,
        allowed_attrs={types.SimpleNamespace: readable},
    )
    evaluator.nodes = {k: v for k, v in evaluator.nodes.items() if k in _EVALUATED_NODES}
    return evaluator.eval(checked.text, previously_parsed=checked.tree)


def _annotated(checked: _Checked, values: Mapping[tuple[str, str | None], Figure]) -> str:
    """The trigger with each figure's value after it: "macd.triggered True and rsi.value 67.2 >
    65"."""
    text = checked.text.encode()
    for ref in sorted(checked.references, key=lambda r: r.end, reverse=True):
        value = f" {_shown(values[(ref.name, ref.attr)])}".encode()
        text = text[: ref.end] + value + text[ref.end :]
    return text.decode()


def _shown(value: object) -> str:
    """A figure as a reason shows it: 67.2, 0.625, 12,400, True, "triggered", unknown."""
    if isinstance(value, _Unknown):
        return "unknown"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        return f"{value:.6g}"
    if isinstance(value, str):
        return f'"{value}"'
    return repr(value)


class _Figures:
    """Every figure a trigger may read this run, each computed when first read."""

    def __init__(
        self,
        outcomes: Sequence[SignalOutcome],
        composite: Composite,
        risk: RiskReport | None,
        market: Mapping[str, Any],
        open_pnl: float | None,
    ) -> None:
        self.outcomes = {o.signal: o for o in outcomes}
        self.signal_names = frozenset(self.outcomes)
        self.composite = composite
        self.risk = risk
        self.market = market
        self.open_pnl = open_pnl
        self.vocabulary = _Vocabulary(
            self.signal_names,
            {
                name: {
                    key: "bool" if isinstance(v, bool) else "number"
                    for key, v in o.reading.details.items()
                }
                for name, o in self.outcomes.items()
                if o.reading is not None
            },
        )
        self._cache: dict[tuple[str, str | None], Figure] = {}

    def value(self, name: str, attr: str | None) -> Figure:
        key = (name, attr)
        if key not in self._cache:
            self._cache[key] = self._compute(name, attr)
        return self._cache[key]

    def _compute(self, name: str, attr: str | None) -> Figure:
        if attr is None:
            return float(self.composite.value)
        if name == "signals":
            if attr == "triggered":
                return sum(o.status == "triggered" for o in self.outcomes.values())
            return sum(o.reading is not None for o in self.outcomes.values())
        if name == "book":
            return self._book(attr)
        if name == "market":
            return self._market(attr)
        return self._signal(self.outcomes[name], attr)

    def _signal(self, outcome: SignalOutcome, attr: str) -> Figure:
        name, reading = outcome.signal, outcome.reading
        if attr == "status":
            return outcome.status
        if attr == "evaluated":
            return reading is not None
        if reading is None:
            if attr in _NOT_EVALUATED:
                return _NOT_EVALUATED[attr]
            return _Unknown(f"{name}.{attr} is unknown: {name} {outcome.status} ({outcome.reason})")
        if attr == "triggered":
            return reading.triggered
        if attr == "strength":
            return reading.strength
        if attr == "value":
            if reading.value is None:
                return _Unknown(
                    f"{name}.value is unknown: {name} gave none ({reading.explanation})"
                )
            return reading.value
        if attr in reading.details:
            return reading.details[attr]
        given = ", ".join(sorted(reading.details)) or "none"
        return _Unknown(
            f"{name}.{attr} is unknown: {name} gives no detail {attr!r} this run (its details: "
            f"{given}; {reading.explanation})"
        )

    def _book(self, attr: str) -> Figure:
        risk = self.risk
        if attr in ("open_pnl", "drawdown"):
            pnl = self.open_pnl
            if pnl is None or not math.isfinite(pnl):
                return _Unknown(
                    f"book.{attr} is unknown: the open P&L of the SPX book needs the Entry Price "
                    "of every SPX leg in Positions"
                )
            return float(pnl) if attr == "open_pnl" else pnl < 0
        if risk is None:
            return _Unknown(f"book.{attr} is unknown: the book's risk was not computed")
        if attr == "projected_loss":
            return float(risk.projected_loss())
        if attr == "condor_credit":
            return float(risk.condor_credit)
        days = [(c.expiry - risk.as_of).days for c in risk.condors]
        if not days:
            return _Unknown("book.days_to_expiry is unknown: Positions holds no iron condor")
        return min(days)

    def _market(self, attr: str) -> Figure:
        value = self.market.get(attr)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return _Unknown(
                f"market.{attr} is unknown: no {_MARKET_LABELS[attr]} in the Market sheet"
            )
        if not math.isfinite(value):
            return _Unknown(f"market.{attr} is unknown: the Market sheet's value is not a number")
        return float(value)
