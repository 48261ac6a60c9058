"""Fixtures: a fresh app per test (unit level), and real processes on the real broker (integration).

Broker and browser: under CI=true a missing one is a failure, never a skip.
"""
from __future__ import annotations

import faulthandler
import os
import shutil
import signal
import subprocess
import threading
import uuid
from urllib.parse import quote

import pika
import pika.exceptions
import pytest

from api import create_app
from ops import run_guard
from ops.stack import CHROMIUM_ARGS, Stack, delete_queues, wait_until
from queue_lab.queues import queue_layout
from tests import leftovers
from tests.helpers import MANAGEMENT_URL, RABBITMQ_URL, REDIS_URL, RUN_ID, TOKEN, missing

# Every process this run starts carries the mark, so the session's end finds what is still alive
# (under `make test`, ops/run_guard.py has set one already; a bare `pytest` gets its own).
os.environ.setdefault(run_guard.MARK, RUN_ID)
# ops/run_guard.py sends SIGUSR1 before it stops a run that overran: every thread's stack, printed.
faulthandler.register(signal.SIGUSR1, all_threads=True)
THREADS_AT_START = set(threading.enumerate())
THREAD_OWNERS: dict[threading.Thread, str] = {}  # a thread a test left running → that test


@pytest.fixture(scope="session", autouse=True)
def compiled_catalogs():
    """The .mo files the API reads, as `make` builds them — rebuilt here when a .po is newer, so a
    `pytest` run straight after editing a translation sees it (the real processes read them too)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    from queue_lab import PROJECT_ROOT

    for po in (PROJECT_ROOT / "translations").glob("*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            with open(po, "rb") as source, open(mo, "wb") as target:
                write_mo(target, read_po(source, locale=po.parts[-3]))


@pytest.fixture
def make_app(tmp_path):
    """`make_app(**settings)`: a fresh app on this test's own database, with the test token;
    each one's background parts (the change feed's poller) stop with the test."""
    from api.state import EXTENSION

    made = []

    def make(testing=False, **settings):
        app = create_app({"TESTING": testing, "SETTINGS": {
            "database_path": str(tmp_path / "jobs.sqlite3"), "status_api_token": TOKEN, **settings}})
        made.append(app)
        return app

    yield make
    for app in made:
        app.extensions[EXTENSION].close()


@pytest.fixture
def app(make_app):
    return make_app(testing=True, raw_queue=f"ql.test.{RUN_ID}.unit", celery_queue=f"ql.test.{RUN_ID}.unit.celery")


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def auth():
    return {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="session")
def broker():
    """The real RabbitMQ: its connection parameters, once we know it answers. Each use opens a
    connection of its own — a session-long idle one would be dropped for missed heartbeats."""
    params = pika.URLParameters(RABBITMQ_URL)
    try:
        pika.BlockingConnection(params).close()
    except (pika.exceptions.AMQPError, OSError) as exc:
        missing(f"RabbitMQ is not reachable at {RABBITMQ_URL}: {exc!r}")
    return params


@pytest.fixture
def queues(broker, request):
    """Queue names unique to this test; deleted afterwards with every queue derived from them
    (only ours — the broker is shared)."""
    base = f"ql.test.{RUN_ID}.{request.node.name[:40]}"
    names = {"RAW_QUEUE": f"{base}.jobs", "CELERY_QUEUE": f"{base}.celery"}
    yield names
    connection = pika.BlockingConnection(broker)
    layout = queue_layout(names["RAW_QUEUE"], names["CELERY_QUEUE"])
    delete_queues(connection, layout.names(), exchanges=layout.exchange_names())
    connection.close()


@pytest.fixture
def redis_keys(queues):
    """This machine's Redis (a missing one fails the test under CI); the keys named after this test's
    queue are deleted afterwards — the Redis is shared."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        missing(f"Redis is not reachable at {REDIS_URL}: {exc!r}")
    yield client
    keys = list(client.scan_iter(match=f"*{queues['CELERY_QUEUE']}*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
def stack(tmp_path, queues, request):
    """An unstarted Queue Lab on free ports; the test starts the processes it needs."""
    stack = Stack(tmp_path, {**queues, "RABBITMQ_URL": RABBITMQ_URL, "STATUS_API_TOKEN": TOKEN})
    yield stack
    stack.stop()
    if getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed:
        print(stack.logs())


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    """Note the threads a test leaves running (after its fixtures have stopped what they started)."""
    before = set(threading.enumerate())
    yield
    for thread in leftovers.settle(leftovers.threads_alive(before), timeout=2):
        THREAD_OWNERS[thread] = item.nodeid


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    """Fail the run, naming each leftover, if a thread or process of a test is still alive — and
    stop the processes, so the run exits instead of waiting for them."""
    threads = leftovers.settle(leftovers.threads_alive(THREADS_AT_START), timeout=5)
    processes = run_guard.marked_processes(os.environ[run_guard.MARK])
    if not threads and not processes:
        return
    lines = [f"thread {t.name!r} (daemon={t.daemon}), left by {THREAD_OWNERS.get(t, 'a session fixture')}"
             for t in threads]
    lines += [f"process {pid}: {command}" for pid, command in sorted(processes.items())]
    run_guard.stop_processes(list(processes))
    session.config.get_terminal_writer().line(
        "\nLEFT RUNNING after the tests (each test must stop what it starts):\n  " + "\n  ".join(lines),
        red=True, bold=True)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture(scope="session")
def chromium_path():
    path = shutil.which("chromium") or "/usr/bin/chromium"
    if not os.path.exists(path):
        missing("Chromium is not installed (`make browser` installs Debian's chromium)")
    return path


@pytest.fixture
def routed(queues, broker):
    """The exchanges lesson's routed queues of this test (Q.routed.emails, Q.routed.long and theirs):
    consumers declare them, so they are deleted here, after the test, with the rest of its queues."""
    yield
    connection = pika.BlockingConnection(broker)
    layout = queue_layout(queues["RAW_QUEUE"], queues["CELERY_QUEUE"])
    delete_queues(connection, [name for queue in ("emails", "long") for name in layout.routed(queue).names()])
    connection.close()


@pytest.fixture(scope="session")
def management_api(broker):
    """RabbitMQ's management HTTP API on 15672: enabled here (idempotent), as the issue asks of the
    test setup. A new machine has the plugin but not enabled."""
    import requests

    def answers():
        try:
            return requests.get(f"{MANAGEMENT_URL}/api/overview", auth=("guest", "guest"), timeout=2).ok
        except requests.RequestException:
            return False

    if not answers():
        try:
            subprocess.run(["rabbitmq-plugins", "enable", "rabbitmq_management"], check=True,
                           capture_output=True, timeout=120)
        except (OSError, subprocess.SubprocessError) as exc:
            missing(f"could not enable rabbitmq_management: {exc!r}")
        wait_until(answers, 60, 0.5, what=f"the management API at {MANAGEMENT_URL}")
    return MANAGEMENT_URL


@pytest.fixture
def private_vhost(broker):
    """A vhost of this test's own, for experiments that close every connection: on the shared
    broker, closing connections in "/" would hit everyone else's."""
    name = f"ql-test-{RUN_ID}-{uuid.uuid4().hex[:6]}"
    for argv in (["add_vhost", name], ["set_permissions", "-p", name, "guest", ".*", ".*", ".*"]):
        subprocess.run(["rabbitmqctl", *argv], check=True, capture_output=True, timeout=60)
    yield name, RABBITMQ_URL.rstrip("/") + "/" + quote(name, safe="")
    subprocess.run(["rabbitmqctl", "delete_vhost", name], capture_output=True, timeout=60)


@pytest.fixture
def page(chromium_path):
    """A headless Chromium page (Playwright driving Debian's chromium); `page.errors` collects
    uncaught page errors, which every browser test asserts are none."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        errors = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.errors = errors
        yield page
        browser.close()

