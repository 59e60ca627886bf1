"""Plugin discovery and attribution: built-ins, entry points, plugin folders, failure modes."""

from __future__ import annotations

import shutil
import sys
from importlib.metadata import EntryPoint
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from rules_engine import host as host_module
from rules_engine.cli import main
from rules_engine.host import PluginFolderError, load_plugins
from rules_engine.models import Reading
from rules_engine.runner import run_signals
from rules_engine.testing import defaults, make_context

TEST_PLUGINS = Path(__file__).parent / "plugins"


def folder_with(tmp_path: Path, *names: str) -> Path:
    folder = tmp_path / "plugins"
    folder.mkdir(exist_ok=True)
    for name in names:
        shutil.copy(TEST_PLUGINS / f"{name}.py", folder / f"{name}.py")
    return folder


#: Every warning sign the ALVH method names (issue 7), each a built-in plugin of its own name.
BUILTIN_SIGNALS = {
    "rsi": "technical",
    "macd": "technical",
    "bollinger": "technical",
    "big_top": "technical",
    "ad_divergence": "breadth",
    "breadth_narrowing": "breadth",
    "vix_term_structure": "volatility",
    "forward_vol": "volatility",
    "vol_risk_premium": "volatility",
    "event_window": "event",
    "valuation": "valuation",
    "macro": "valuation",
    "second_engine": "book",
    "book_beta": "book",
}


def test_builtins_register_every_signal_and_the_alvh_sizer_with_their_settings():
    host = load_plugins(use_entry_points=False)
    assert host.failures == []
    assert set(host.signals) == set(BUILTIN_SIGNALS)
    assert set(host.sizers) == {"alvh", "vega_ratio", "credit_budget", "fixed_ratio"}
    for name, category in BUILTIN_SIGNALS.items():
        entry = host.signals[name]
        assert (entry.plugin, entry.item.category) == (name, category)
        assert entry.item.description
        for setting in entry.item.settings:
            assert setting.name.startswith(f"{name}.") and setting.description
            if setting.type in ("int", "float"):
                assert setting.minimum is not None and setting.maximum is not None, setting.name
    assert host.sizers["alvh"].plugin == "alvh_sizer"
    names = {s.name for s in host.declared_settings}
    assert {"engine.sizer", "rsi.threshold", "alvh.ladder"} <= names
    assert host.setting_owners["rsi.threshold"] == "rsi"
    assert host.setting_owners["engine.sizer"] == "core"


def test_plugin_folder_adds_a_signal_with_version_and_source(tmp_path):
    host = load_plugins([folder_with(tmp_path, "always_warn")], use_entry_points=False)
    assert host.signals["always_warn"].plugin == "always_warn"
    record = host.record("always_warn")
    assert record.version == "1.2.3"
    assert record.source.startswith("file ") and record.source.endswith("always_warn.py")
    assert record.settings == ["always_warn.level"]


def test_env_variable_names_plugin_folders(tmp_path):
    env = {"ALVH_PLUGINS_DIR": str(folder_with(tmp_path, "always_warn"))}
    host = load_plugins(use_entry_points=False, env=env)
    assert "always_warn" in host.signals


def test_each_broken_plugin_fails_alone_and_is_named(tmp_path):
    folder = folder_with(
        tmp_path,
        "always_warn",
        "broken_import",
        "misspelled_hook",
        "duplicate_rsi",
        "raising_register",
    )
    host = load_plugins([folder], use_entry_points=False)
    failures = {f.plugin: f.error for f in host.failures}
    assert "ModuleNotFoundError" in failures["broken_import"]
    assert "alvh_register_signal" in failures["misspelled_hook"]
    assert "'rsi'" in failures["duplicate_rsi"] and "'duplicate_rsi'" in failures["duplicate_rsi"]
    assert "registration failed halfway" in failures["raising_register"]
    assert "half_registered" not in host.signals
    # the built-in keeps its name; the good plugin still loaded
    assert host.signals["rsi"].plugin == "rsi"
    assert "always_warn" in host.signals


def test_entry_points_can_be_switched_off_by_the_environment(monkeypatch):
    eps = [EntryPoint("always_warn", "always_warn", "alvh")]
    monkeypatch.setattr(host_module, "entry_points", lambda group: eps)
    monkeypatch.setenv("ALVH_NO_ENTRY_POINTS", "1")
    assert "always_warn" not in load_plugins().signals
    assert host_module.entry_points_enabled({"ALVH_NO_ENTRY_POINTS": "0"})
    assert not host_module.entry_points_enabled({"ALVH_NO_ENTRY_POINTS": "yes"})


def test_a_missing_plugin_folder_is_an_error_before_anything_loads(tmp_path):
    with pytest.raises(PluginFolderError, match=r"--plugins-dir names '.*nope', which is not a"):
        load_plugins([tmp_path / "nope"], use_entry_points=False)
    env = {"ALVH_PLUGINS_DIR": str(tmp_path / "gone")}
    with pytest.raises(PluginFolderError, match="ALVH_PLUGINS_DIR names"):
        load_plugins(use_entry_points=False, env=env)


def test_a_folder_named_in_the_environment_is_loaded_once(tmp_path, monkeypatch):
    folder = folder_with(tmp_path, "always_warn")
    monkeypatch.setenv("ALVH_PLUGINS_DIR", str(folder))
    host = load_plugins(use_entry_points=False)
    assert host.failures == []
    assert [p.name for p in host.plugins].count("always_warn") == 1
    result = CliRunner().invoke(main, ["plugins"])
    assert result.exit_code == 0, result.output
    assert "FAILED" not in result.output and "always_warn 1.2.3" in result.output


def test_entry_points_load_each_in_isolation(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(TEST_PLUGINS))
    eps = [
        EntryPoint("always_warn", "always_warn", "alvh"),
        EntryPoint("broken", "broken_import", "alvh"),
    ]
    monkeypatch.setattr(host_module, "entry_points", lambda group: eps)
    try:
        host = load_plugins(use_entry_points=True)
    finally:
        for name in ("always_warn", "broken_import"):
            sys.modules.pop(name, None)
    assert host.signals["always_warn"].plugin == "always_warn"
    assert host.record("always_warn").source.startswith("entry point always_warn")
    assert [f.plugin for f in host.failures] == ["broken"]


def test_duplicate_setting_names_are_errors_naming_both(tmp_path):
    src = (TEST_PLUGINS / "always_warn.py").read_text()
    folder = folder_with(tmp_path, "always_warn")
    (folder / "copycat.py").write_text(src.replace('"always_warn",', '"copycat",'))
    host = load_plugins([folder], use_entry_points=False)
    (failure,) = host.failures
    assert failure.plugin == "copycat"
    assert "'always_warn.level' is declared by both 'always_warn' and 'copycat'" in failure.error


def test_signals_fail_alone_at_run_time(tmp_path):
    folder = folder_with(
        tmp_path, "raising_signal", "garbage_signal", "needs_breadth", "always_warn"
    )
    host = load_plugins([folder], use_entry_points=False)
    settings = defaults(*[[s for s in host.declared_settings]])
    ctx = make_context(closes=[100.0 + i for i in range(30)], settings=settings)
    outcomes = {o.signal: o for o in run_signals(host.signals, ctx)}
    assert outcomes["explodes"].status == "failed"
    assert outcomes["explodes"].plugin == "raising_signal"
    assert "RuntimeError: boom from raising_signal" in outcomes["explodes"].reason
    assert outcomes["garbage_text"].status == "failed"
    assert "expected a Reading" in outcomes["garbage_text"].reason
    assert "strength 7.0" in outcomes["garbage_strength"].reason
    assert outcomes["breadth"].status == "not evaluated"
    assert "'advances'" in outcomes["breadth"].reason
    assert outcomes["always_warn"].status == "triggered"
    assert outcomes["rsi"].status == "triggered"  # a steadily rising series: RSI 100


def test_a_signal_cannot_change_what_the_next_one_sees():
    from rules_engine.host import Registered
    from rules_engine.models import Signal

    def vandal(ctx):
        ctx.history["spx_close"] = 0.0
        return Reading(0.0, False, 0.0, "vandal")

    seen = []

    def witness(ctx):
        seen.append(float(ctx.history["spx_close"].iloc[-1]))
        return Reading(0.0, False, 0.0, "witness")

    ctx = make_context(closes=[1.0, 2.0, 3.0])
    run_signals(
        {"a": Registered(Signal("a", vandal), "p"), "b": Registered(Signal("b", witness), "q")}, ctx
    )
    assert seen == [3.0]
    assert isinstance(ctx.history, pd.DataFrame) and ctx.history["spx_close"].iloc[-1] == 3.0


def test_alvh_plugins_command_lists_sources_versions_and_failures(tmp_path):
    folder = folder_with(tmp_path, "always_warn", "broken_import")
    result = CliRunner().invoke(main, ["plugins", "--plugins-dir", str(folder)])
    assert result.exit_code == 1
    assert "rsi" in result.output and "built-in rules_engine_plugins.rsi" in result.output
    assert "registers: sizer alvh" in result.output
    assert "always_warn 1.2.3" in result.output and "signal always_warn" in result.output
    assert "broken_import  FAILED" in result.output and "ModuleNotFoundError" in result.output


@pytest.mark.parametrize("bad", ["", "1abc", "has space"])
def test_bad_signal_names_are_refused(tmp_path, bad):
    folder = tmp_path / "p"
    folder.mkdir()
    (folder / "badname.py").write_text(
        "from rules_engine import Reading, Signal, hookimpl\n"
        "@hookimpl\n"
        "def alvh_register_signals(register):\n"
        f"    register(Signal({bad!r}, lambda ctx: Reading(0.0, False, 0.0, '-')))\n"
    )
    host = load_plugins([folder], use_entry_points=False)
    assert host.failures and "must start with a letter" in host.failures[0].error
