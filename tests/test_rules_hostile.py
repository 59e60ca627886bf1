"""Hostile Rules-sheet triggers: each kind is refused with a message naming its cell, and nothing
of it runs. Proof that nothing ran: a Python audit hook records, while the rules are checked and
evaluated, every event of code execution, import, file, process or network access (none may
occur), a file each payload would create does not appear, and a sentinel `os.system` is not
called."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from rules_engine import Reading
from rules_engine.composite import Composite
from rules_engine.models import Rule
from rules_engine.rules import MAX_LENGTH, check_rules, evaluate_rules
from rules_engine.runner import SignalOutcome

#: Audit events that mean code ran that a trigger must never reach.
FORBIDDEN = ("exec", "import", "open", "os.", "subprocess.", "socket.", "shutil.", "ctypes.")
_recording: dict[str, object] = {"thread": None, "events": []}


def _hook(event: str, args: tuple[object, ...]) -> None:
    if threading.get_ident() == _recording["thread"] and event.startswith(FORBIDDEN):
        _recording["events"].append(event)  # type: ignore[attr-defined]


sys.addaudithook(_hook)  # audit hooks cannot be removed; this one only records while recording


@contextmanager
def recording() -> Iterator[list[str]]:
    events: list[str] = []
    _recording.update(thread=threading.get_ident(), events=events)
    try:
        yield events
    finally:
        _recording.update(thread=None, events=[])


OUTCOMES = [
    SignalOutcome("rsi", "rsi", "triggered", Reading(67.2, True, 0.6, "rsi 67.2"), "", "technical"),
    SignalOutcome(
        "macd", "macd", "not triggered", Reading(-1.0, False, 0.0, "quiet"), "", "technical"
    ),
]
SIGNALS = ["rsi", "macd"]


@pytest.fixture
def sentinel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, list[str]]]:
    """A file path payloads try to create, and the calls a patched os.system would record."""
    calls: list[str] = []
    monkeypatch.setattr(os, "system", lambda command: calls.append(command) or 0)
    yield tmp_path / "pwned", calls


def refused(expression: str, sentinel: tuple[Path, list[str]]) -> str:
    """Check and evaluate the trigger (with a harmless rule beside it); assert it is refused at
    its cell, the other rule still fires, and nothing ran. Returns the refusal's message."""
    path, calls = sentinel
    expression = expression.replace("PWNED", str(path))
    rules = [Rule(1, "rsi.triggered", "B2"), Rule(2, expression, "B3")]
    check_rules(rules[:1], SIGNALS)  # warm: anything imported lazily is imported now
    with recording() as events:
        issues = check_rules(rules, SIGNALS)
        results = evaluate_rules(rules, OUTCOMES, Composite(0.5, (), (), ()), None, {}, None)
    assert events == []
    assert not path.exists() and calls == []
    (issue,) = issues
    assert (issue.sheet, issue.cell, issue.column, issue.severity) == (
        "Rules",
        "B3",
        "Trigger",
        "error",
    )
    assert results[1].fired is True
    assert results[2].fired is None and results[2].reason == f"refused: {issue.message[9:]}"
    return issue.message


def test_the_recorder_sees_what_would_run(sentinel: tuple[Path, list[str]]) -> None:
    """The proof has teeth: the very payloads below, run by Python itself, are caught."""
    path, calls = sentinel
    with recording() as events:
        __import__("os").system(f"touch {path}")
        with open(path, "w") as handle:
            handle.write("x")
    assert calls == [f"touch {path}"] and path.exists()
    assert "open" in events
    path.unlink()


# --- one test per kind ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "expression",
    [
        "rsi.__class__",
        "().__class__.__bases__",
        "rsi.__class__.__init__.__globals__['os'].system('touch PWNED')",
        "rsi.__dict__ == 1",
        "__builtins__",
        "_ == 1",
    ],
)
def test_dunder_access(expression: str, sentinel: tuple[Path, list[str]]) -> None:
    assert "names starting with _ are refused" in refused(expression, sentinel)


@pytest.mark.parametrize(
    ("expression", "words"),
    [
        ("__import__('os').system('touch PWNED')", "names starting with _ are refused"),
        ("import os", "not a valid expression"),
        ("exec('import os')", "`exec(...)` is not offered"),
        ("eval('1')", "`eval(...)` is not offered"),
        ("open('PWNED', 'w')", "`open(...)` is not offered"),
        ("compile('1', 'x', 'eval')", "`compile(...)` is not offered"),
    ],
)
def test_imports_and_builtins(
    expression: str, words: str, sentinel: tuple[Path, list[str]]
) -> None:
    assert words in refused(expression, sentinel)


@pytest.mark.parametrize(
    ("expression", "words"),
    [
        ("rsi.value.real.__class__", "names starting with _ are refused"),
        ("book.__dict__", "names starting with _ are refused"),
        ("rsi.value.real > 0", "reads a figure of a figure"),
        ("rsi.value.hex() == 'x'", "`rsi.value.hex` reads a figure of a figure"),
        ("rsi.status.upper() == 'X'", "`rsi.status.upper` reads a figure of a figure"),
        ("rsi.hex() == 'x'", "`rsi.hex(...)` is not offered"),
        ("rsi.gi_frame", "`gi_frame` is not a figure a rule may read"),
        ("rsi.format", "`format` is not a figure a rule may read"),
        ("composite.real > 0", "`composite` has no figure `real`"),
        ("getattr(rsi, 'value') > 1", "`getattr(...)` is not offered"),
        ("rsi['value'] > 1", "indexing with [] is not allowed"),
    ],
)
def test_attribute_walks(expression: str, words: str, sentinel: tuple[Path, list[str]]) -> None:
    assert words in refused(expression, sentinel)


@pytest.mark.parametrize(
    "expression",
    ["9**9**9", "10**100000 > 1", "rsi.value ** 2 > 1", "pow(10, 100000) > 1"],
)
def test_huge_exponents(expression: str, sentinel: tuple[Path, list[str]]) -> None:
    message = refused(expression, sentinel)
    assert "the operator ** is not offered" in message or "`pow(...)` is not offered" in message


def test_huge_numbers_and_text(sentinel: tuple[Path, list[str]]) -> None:
    assert "is not a finite number" in refused("1e999 > rsi.value", sentinel)
    assert "`*` needs a number" in refused("'a' * 10**9 == 'a'", sentinel)
    assert "at most 40 characters" in refused(f"rsi.status == '{'x' * 41}'", sentinel)


@pytest.mark.parametrize(
    ("expression", "words"),
    [
        ("x" * 100_000, "the trigger is 100,000 characters long; at most 500 are read"),
        ("rsi.value > 1 " + "or rsi.value > 1 " * 40, "characters long; at most 500"),
        ("(" * 240 + "1" + ")" * 240, "too many nested parentheses"),
        ("-" * 450 + "1 > 0", "nests more than 40 levels deep"),
        ("not " * 120 + "True", "nests more than 40 levels deep"),
        ("1 + " * 120 + "1 > 0", "nests more than 40 levels deep"),
        ("rsi.value > 1\x00", "not a valid expression"),
    ],
)
def test_very_long_or_deep_input(
    expression: str, words: str, sentinel: tuple[Path, list[str]]
) -> None:
    assert words in refused(expression, sentinel)


def test_the_length_limit_is_checked_before_parsing() -> None:
    assert MAX_LENGTH == 500
    (issue,) = check_rules([Rule(1, "(" * 10_000_000, "B2")], SIGNALS)  # never parsed
    assert "10,000,000 characters long" in issue.message


@pytest.mark.parametrize(
    ("expression", "words"),
    [
        ("(lambda: 1)() == 1", "lambda is not allowed"),
        ("[x for x in (1, 2)] == 1", "a comprehension is not allowed"),
        ("any(x > 1 for x in (1, 2))", "`any(...)` is not offered"),
        ("{k: 1 for k in 'ab'} == 1", "a comprehension is not allowed"),
        ("f'{rsi.value}' == '1'", "an f-string is not allowed"),
        ("f'{rsi:{1}}' == '1'", "an f-string is not allowed"),
        ("(x := 1) == 1", "assignment (:=) is not allowed"),
        ("rsi.triggered if True else False", "x if c else y (use and / or) is not allowed"),
        ("rsi.value in (1, 2)", "only the comparisons"),
        ("rsi.value is None", "only the comparisons"),
        ("~rsi.value > 0", "the operator ~ is not offered"),
        ("rsi.value << 9999 > 0", "the operator << is not offered"),
    ],
)
def test_lambda_comprehension_fstring_walrus(
    expression: str, words: str, sentinel: tuple[Path, list[str]]
) -> None:
    assert words in refused(expression, sentinel)


def test_evaluator_reaches_only_the_figures_read() -> None:
    """Even a detail named like an attribute simpleeval guards is refused, not looked up."""
    reading = Reading(1.0, False, 0.0, "x", {"mro": 1.0, "real": 2.0})
    outcome = SignalOutcome("odd", "odd", "not triggered", reading, "", "technical")
    results = evaluate_rules(
        [Rule(1, "odd.mro > 0", "B2"), Rule(2, "odd.real == 2", "B3")],
        [outcome],
        Composite(0.0, (), (), ()),
        None,
        {},
        None,
    )
    assert results[1].fired is None and "`mro` is not a figure a rule may read" in results[1].reason
    assert (results[2].fired, results[2].reason) == (True, "odd.real 2 == 2")
