"""A signal that leaves threads running: a non-daemon thread and a thread-pool task, both asleep
for ten minutes. The process must still end once the workbook is written."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from rules_engine import Reading, Signal, hookimpl

_POOL = []


def evaluate(ctx):
    threading.Thread(target=time.sleep, args=(600,), daemon=False).start()
    pool = ThreadPoolExecutor(max_workers=1)
    pool.submit(time.sleep, 600)
    _POOL.append(pool)
    return Reading(0.0, False, 0.0, "left two threads behind")


@hookimpl
def alvh_register_signals(register):
    register(Signal("leaves_threads", evaluate))
