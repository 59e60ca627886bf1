"""Signals that try to end the run: sys.exit, SystemExit, KeyboardInterrupt, bare BaseException."""

import sys

from rules_engine import Signal, hookimpl


class Escape(BaseException):
    pass


def exit_zero(ctx):
    sys.exit(0)


def exit_text(ctx):
    raise SystemExit("leaving now")


def interrupt(ctx):
    raise KeyboardInterrupt


def escape(ctx):
    raise Escape("not an Exception")


def generator_exit(ctx):
    raise GeneratorExit


@hookimpl
def alvh_register_signals(register):
    register(Signal("exit_zero", exit_zero))
    register(Signal("exit_text", exit_text))
    register(Signal("interrupt", interrupt))
    register(Signal("escape", escape))
    register(Signal("generator_exit", generator_exit))
