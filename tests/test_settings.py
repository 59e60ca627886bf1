"""Settings-sheet validation: defaults, conversions, bounds, and messages that name the cell."""

from __future__ import annotations

import pytest

from rules_engine.models import Setting, SettingCell
from rules_engine.settings import CORE_SETTINGS, parse_points, resolve_settings

THRESHOLD = Setting("x.threshold", 70.0, "float", "t", minimum=50.0, maximum=99.0)
PERIOD = Setting("x.period", 14, "int", "p", minimum=2, maximum=250)
FLAG = Setting("x.flag", False, "bool", "f")
DECLARED = (*CORE_SETTINGS, THRESHOLD, PERIOD, FLAG)


def resolve(**cells):
    raw = {
        k.replace("__", "."): SettingCell(v, f"B{i + 2}") for i, (k, v) in enumerate(cells.items())
    }
    return resolve_settings(raw, DECLARED)


def test_defaults_apply_and_blank_keeps_the_default():
    values, issues = resolve(x__threshold=None, x__period="")
    assert values["x.threshold"] == 70.0 and values["x.period"] == 14 and values["x.flag"] is False
    assert values["engine.sizer"] == "alvh"
    assert issues == []


def test_values_are_converted_by_declared_type():
    values, issues = resolve(x__threshold="75", x__period=20.0, x__flag="yes")
    assert values["x.threshold"] == 75.0
    assert values["x.period"] == 20 and isinstance(values["x.period"], int)
    assert values["x.flag"] is True
    assert issues == []


@pytest.mark.parametrize(
    ("key", "value", "text"),
    [
        ("x__threshold", "high", "expected a number, got 'high'"),
        ("x__threshold", 120, "120 is above the maximum 99"),
        ("x__threshold", True, "expected a number, got True"),
        ("x__period", 14.5, "expected a whole number, got 14.5"),
        ("x__flag", "maybe", "expected TRUE or FALSE"),
        ("scenario__vix_points", "5, -2", "spike size '-2' is not a positive number"),
    ],
)
def test_bad_values_are_errors_naming_the_value_cell(key, value, text):
    _, issues = resolve(**{key: value})
    (issue,) = issues
    assert issue.severity == "error"
    assert (issue.sheet, issue.cell, issue.column) == ("Settings", "B2", "Value")
    assert text in issue.message and key.replace("__", ".") in issue.message


def test_unknown_setting_is_a_warning():
    _, issues = resolve(nobody__knows=3)
    (issue,) = issues
    assert issue.severity == "warning" and "'nobody.knows'" in issue.message


def test_parse_points_sorts_and_deduplicates():
    assert parse_points("7, 5;5") == (5.0, 7.0)
    with pytest.raises(ValueError, match="no spike sizes"):
        parse_points(" , ")
