"""Plain helpers and constants the tests share (the fixtures are in conftest.py)."""
from __future__ import annotations

import os
import uuid

import pytest

TOKEN = "test-token"
RABBITMQ_URL = os.environ.get("RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/")
REDIS_URL = "redis://127.0.0.1:6379/0"  # this machine's Redis (shared: tests keep to their own keys)
MANAGEMENT_URL = os.environ.get("RABBITMQ_MANAGEMENT_URL", "http://127.0.0.1:15672")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
RUN_ID = uuid.uuid4().hex[:8]  # every queue and vhost a test makes carries it: ours to delete


def missing(what: str) -> None:
    """A missing broker or browser fails under CI and skips on a developer's laptop."""
    if IN_CI:
        pytest.fail(f"{what} (CI=true: integration tests must run)", pytrace=False)
    pytest.skip(what)


def send(page, method: str, seconds: float, count: int = 1):
    """Fill a method's panel on the page and press Send; returns the panel's form."""
    form = page.locator(f'form[data-method="{method}"]')
    form.locator('input[name="seconds"]').fill(str(seconds))
    form.locator('input[name="count"]').fill(str(count))
    form.locator('button[type="submit"]').click()
    return form


_TOGETHER = """
import json, os, pathlib, sys, time
sys.path[:0] = {path!r}
from {module} import {name}
args, ready, go = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3]
pathlib.Path(ready).touch()
while not os.path.exists(go):
    time.sleep(0.001)
{name}(*args)
"""


def run_together(target, calls: list[tuple], tmp_path, timeout: float = 60) -> None:
    """Run `target(*args)` for each args in `calls`, each in a fresh Python process of its own, all
    released at the same moment; fail if any raises or has not finished within `timeout`.

    Fresh processes, not `fork`: a child forked from the pytest process, which runs many threads,
    can inherit a lock another thread held (logging's is the classic) and wait for it for ever."""
    import inspect
    import json
    import subprocess
    import sys
    import time

    from queue_lab import PROJECT_ROOT

    code = _TOGETHER.format(module=target.__module__, name=target.__name__,
                            path=[os.path.dirname(inspect.getfile(target)), str(PROJECT_ROOT)])
    go = tmp_path / f"go-{uuid.uuid4().hex[:6]}"
    ready = [tmp_path / f"ready-{go.name}-{i}" for i in range(len(calls))]
    procs = [subprocess.Popen([sys.executable, "-c", code, json.dumps(list(args)), str(r), str(go)],
                              cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
             for args, r in zip(calls, ready)]
    try:
        deadline = time.monotonic() + timeout
        while not all(r.exists() for r in ready):
            assert all(p.poll() is None for p in procs), "a process ended before it was released"
            assert time.monotonic() < deadline, f"the processes were not all ready within {timeout} s"
            time.sleep(0.01)
        go.touch()
        for p in procs:
            try:
                p.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pytest.fail(f"{target.__name__} did not finish within {timeout} s", pytrace=False)
        failed = [p.stdout.read().decode(errors="replace") for p in procs if p.returncode != 0]
        assert not failed, f"{target.__name__} failed in {len(failed)} process(es):\n" + "\n".join(failed)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait(5)
            p.stdout.close()
