"""The plugin host: finds plugins, lets each register its signals and sizers, remembers whose is
whose.

Discovery (DESIGN.md): the built-in modules, installed entry points in group `alvh`, and `.py`
files in plugin folders named on the command line or in ALVH_PLUGINS_DIR. A workbook never names
code to load. Every plugin is loaded and registered in its own try/except, so one broken plugin is
reported by name while the others load.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType
from typing import Any, Generic, TypeVar

import pluggy

from rules_engine import PROJECT, __version__, hookspecs
from rules_engine.guarded import DEFAULT_TIME_LIMIT, call_guarded, describe_exception
from rules_engine.models import SIGNAL_CATEGORIES, Setting, Signal, Sizer
from rules_engine.settings import CORE_OWNER, CORE_SETTINGS, validate_declaration

BUILTIN_PLUGINS: tuple[str, ...] = (
    "rules_engine_plugins.rsi",
    "rules_engine_plugins.macd",
    "rules_engine_plugins.bollinger",
    "rules_engine_plugins.ad_divergence",
    "rules_engine_plugins.breadth_narrowing",
    "rules_engine_plugins.big_top",
    "rules_engine_plugins.vix_term_structure",
    "rules_engine_plugins.forward_vol",
    "rules_engine_plugins.vol_risk_premium",
    "rules_engine_plugins.event_window",
    "rules_engine_plugins.valuation",
    "rules_engine_plugins.macro",
    "rules_engine_plugins.second_engine",
    "rules_engine_plugins.book_beta",
    "rules_engine_plugins.alvh_sizer",
    "rules_engine_plugins.vega_ratio",
    "rules_engine_plugins.credit_budget",
    "rules_engine_plugins.fixed_ratio",
)
ENTRY_POINT_GROUP = "alvh"
PLUGINS_DIR_ENV = "ALVH_PLUGINS_DIR"
#: Set to 1 to load no installed entry points: a run (or a test suite) that must not depend on
#: which third-party plugins happen to be installed.
NO_ENTRY_POINTS_ENV = "ALVH_NO_ENTRY_POINTS"
_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.\-]*$")

T = TypeVar("T", Signal, Sizer)


@dataclass(frozen=True)
class Registered(Generic[T]):
    """A registered signal or sizer and the plugin it came from."""

    item: T
    plugin: str


@dataclass
class PluginRecord:
    """What `alvh plugins` shows for one loaded plugin."""

    name: str
    source: str
    version: str
    signals: list[str] = field(default_factory=list)
    sizers: list[str] = field(default_factory=list)
    settings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PluginFailure:
    """A plugin, or one thing it tried to register, that did not load."""

    plugin: str
    source: str
    error: str


@dataclass
class PluginHost:
    """The loaded plugins and everything they registered, keyed by name."""

    plugins: list[PluginRecord] = field(default_factory=list)
    failures: list[PluginFailure] = field(default_factory=list)
    signals: dict[str, Registered[Signal]] = field(default_factory=dict)
    sizers: dict[str, Registered[Sizer]] = field(default_factory=dict)
    setting_owners: dict[str, str] = field(default_factory=dict)
    declared_settings: list[Setting] = field(default_factory=list)

    def record(self, name: str) -> PluginRecord:
        return next(p for p in self.plugins if p.name == name)


class PluginFolderError(ValueError):
    """A plugin folder named on the command line or in ALVH_PLUGINS_DIR is not a folder: an error,
    never a silently missing plugin."""


def plugin_folders(given: Sequence[Path], env: Mapping[str, str] | None = None) -> list[Path]:
    """The folders given plus those in ALVH_PLUGINS_DIR (os.pathsep-separated), each checked."""
    value = (os.environ if env is None else env).get(PLUGINS_DIR_ENV, "")
    named = [Path(p).expanduser() for p in value.split(os.pathsep) if p.strip()]
    for folder, where in [
        *((g, "--plugins-dir") for g in given),
        *((n, PLUGINS_DIR_ENV) for n in named),
    ]:
        if not folder.is_dir():
            raise PluginFolderError(f"{where} names {str(folder)!r}, which is not a folder")
    return [*given, *named]


def _load_file_module(path: Path) -> ModuleType:
    """Import one plugin file under a private, collision-free module name."""
    digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:10]
    stem = re.sub(r"\W", "_", path.stem)
    module_name = f"alvh_user_plugins.{stem}_{digest}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(module_name, None)
        raise
    return module


class _Loader:
    """Registers candidate plugins one at a time into a pluggy manager and the host."""

    def __init__(self, host: PluginHost, time_limit: float) -> None:
        self.host = host
        self.time_limit = time_limit
        self.pm = pluggy.PluginManager(PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self._declare_settings(CORE_OWNER, CORE_SETTINGS)

    def add(self, name: str, source: str, load: Callable[[], Any], version: str | None) -> None:
        loaded = call_guarded(load, self.time_limit, name)
        if loaded.error:
            self.host.failures.append(PluginFailure(name, source, f"import {loaded.error}"))
            return
        plugin = loaded.value
        if self.pm.has_plugin(name):
            other = self.host.record(name).source
            self.host.failures.append(
                PluginFailure(
                    name, source, f"a plugin named {name!r} is already loaded from {other}"
                )
            )
            return
        try:
            self.pm.register(plugin, name=name)
            self.pm.check_pending()
        except (Exception, SystemExit) as exc:
            if self.pm.is_registered(plugin):
                self.pm.unregister(plugin)
            self.host.failures.append(PluginFailure(name, source, describe_exception(exc)))
            return
        version = version or str(getattr(plugin, "__version__", "") or "-")
        self.host.plugins.append(PluginRecord(name, source, version))

    def _declare_settings(self, owner: str, settings: Iterable[Setting]) -> list[str]:
        """Claim setting names for `owner`; returns the problems (duplicates, bad declarations)."""
        problems: list[str] = []
        for setting in settings:
            if type(setting) is not Setting:
                problems.append(f"settings must be Setting objects, got a {type(setting).__name__}")
                continue
            bad = validate_declaration(setting)
            if bad:
                problems.extend(bad)
                continue
            holder = self.host.setting_owners.get(setting.name)
            if holder is not None:
                problems.append(
                    f"setting {setting.name!r} is declared by both {holder!r} and {owner!r}"
                )
                continue
            self.host.setting_owners[setting.name] = owner
            self.host.declared_settings.append(setting)
        return problems

    def _register_items(
        self, hook_name: str, kind: type[T], table: dict[str, Registered[T]]
    ) -> None:
        hook = getattr(self.pm.hook, hook_name)
        for impl in hook.get_hookimpls():
            plugin_name = impl.plugin_name
            record = self.host.record(plugin_name)
            staged: list[Any] = []
            hook_call = partial(impl.function, **{arg: staged.append for arg in impl.argnames})
            called = call_guarded(hook_call, self.time_limit, plugin_name)
            if called.error:
                self.host.failures.append(
                    PluginFailure(plugin_name, record.source, f"{hook_name} {called.error}")
                )
                continue
            for item in staged:
                problem = self._check_item(item, kind, table, plugin_name)
                if problem:
                    self.host.failures.append(PluginFailure(plugin_name, record.source, problem))
                    continue
                setting_problems = self._declare_settings(plugin_name, item.settings)
                for text in setting_problems:
                    self.host.failures.append(
                        PluginFailure(plugin_name, record.source, f"{item.name}: {text}")
                    )
                table[item.name] = Registered(item, plugin_name)
                names = record.signals if kind is Signal else record.sizers
                names.append(item.name)
                record.settings.extend(s.name for s in item.settings if isinstance(s, Setting))

    def _check_item(
        self, item: Any, kind: type[T], table: dict[str, Registered[T]], plugin: str
    ) -> str | None:
        label = kind.__name__.lower()
        if type(item) is not kind:  # a subclass could run its own code on every attribute read
            return f"registered a {type(item).__name__}, expected a {kind.__name__}"
        if type(item.name) is not str or not _NAME_RE.match(item.name):
            shown = repr(item.name) if type(item.name) is str else type(item.name).__name__
            return f"{label} name {shown} must start with a letter (letters, digits, _ . -)"
        if type(item.settings) is not tuple:
            return f"{label} {item.name!r}: settings must be a tuple of Setting"
        action = item.evaluate if isinstance(item, Signal) else item.size
        if not callable(action):
            return f"{label} {item.name!r} has nothing callable to run"
        if isinstance(item, Signal) and not (
            type(item.requires) is tuple and all(type(r) is str for r in item.requires)
        ):
            return f"signal {item.name!r}: requires must be a tuple of column names"
        if isinstance(item, Signal) and item.category not in SIGNAL_CATEGORIES:
            return (
                f"signal {item.name!r}: category {item.category!r} is not one of "
                f"{', '.join(SIGNAL_CATEGORIES)}"
            )
        holder = table.get(item.name)
        if holder is not None:
            return (
                f"{label} {item.name!r} is registered by both {holder.plugin!r} and {plugin!r}; "
                f"the one from {plugin!r} is ignored"
            )
        return None

    def finish(self) -> PluginHost:
        self._register_items("alvh_register_signals", Signal, self.host.signals)
        self._register_items("alvh_register_sizers", Sizer, self.host.sizers)
        return self.host


def _entry_point_source(ep: Any) -> tuple[str, str | None]:
    dist = getattr(ep, "dist", None)
    if dist is None:
        return f"entry point {ep.name} = {ep.value}", None
    return f"entry point {ep.name} = {ep.value} ({dist.name} {dist.version})", str(dist.version)


def entry_points_enabled(env: Mapping[str, str] | None = None) -> bool:
    """False when ALVH_NO_ENTRY_POINTS is set to a true value."""
    value = (os.environ if env is None else env).get(NO_ENTRY_POINTS_ENV, "")
    return value.strip().lower() not in {"1", "true", "yes", "on"}


def load_plugins(
    plugin_dirs: Sequence[Path] = (),
    *,
    builtins: Sequence[str] = BUILTIN_PLUGINS,
    use_entry_points: bool | None = None,
    env: Mapping[str, str] | None = None,
    time_limit: float = DEFAULT_TIME_LIMIT,
) -> PluginHost:
    """Load every plugin, each in isolation and within the time limit, and collect what
    registered and what failed. Entry points load unless `use_entry_points` is False or
    ALVH_NO_ENTRY_POINTS says not to. A plugin folder that does not exist raises
    PluginFolderError before anything is loaded."""
    if use_entry_points is None:
        use_entry_points = entry_points_enabled(env)
    folders = plugin_folders(plugin_dirs, env)
    loader = _Loader(PluginHost(), time_limit)
    for module_name in builtins:
        short = module_name.rsplit(".", 1)[-1]
        load = partial(importlib.import_module, module_name)
        loader.add(short, f"built-in {module_name}", load, __version__)
    if use_entry_points:
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            source, version = _entry_point_source(ep)
            loader.add(ep.name, source, ep.load, version)
    for folder in folders:
        for path in sorted(folder.glob("*.py")):
            if path.name.startswith(("_", ".")):
                continue
            loader.add(path.stem, f"file {path}", partial(_load_file_module, path), None)
    return loader.finish()
