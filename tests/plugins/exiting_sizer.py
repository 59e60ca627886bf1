"""A sizer that calls sys.exit(0): the run must end with exit 3 and Signals and Risk written."""

import sys

from rules_engine import Sizer, hookimpl


def size(ctx, readings):
    sys.exit(0)


@hookimpl
def alvh_register_sizers(register):
    register(Sizer("exiting", size))
