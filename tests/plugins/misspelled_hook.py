"""A plugin whose hook name is misspelled: pluggy's check_pending must catch it."""

from rules_engine import hookimpl


@hookimpl
def alvh_register_signal(register):
    raise AssertionError("never called")
