"""What a test left running: threads of the pytest process, and processes of this run.

`make test` must exit by itself. A thread a test started and never stopped (a status reporter
retrying against a server that is gone) or a child process that never finished (a forked child
deadlocked on a lock it inherited) keeps the run alive after its last test, or for ever. conftest.py
notes which test left each thread, and at the end of the session names every leftover, stops the
processes and fails the run. Processes carry a mark in their environment (ops/run_guard.py).
"""
from __future__ import annotations

import threading
import time


def threads_alive(exclude: set[threading.Thread]) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.is_alive() and t not in exclude
            and t is not threading.main_thread()]


def settle(threads: list[threading.Thread], timeout: float) -> list[threading.Thread]:
    """The threads still alive after giving them `timeout` seconds (together) to end."""
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    return [t for t in threads if t.is_alive()]
