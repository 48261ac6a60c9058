"""The real Queue Lab processes on free ports, for the tests and the bench: gunicorn API, raw
consumers, Celery workers — each started as a deployment would start it.

Each process gets the environment a deployment would give it, its own log file (printed when a
test fails, to help), and is stopped with SIGTERM then SIGKILL at the end.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from queue_lab import PROJECT_ROOT

# Debian's Chromium, headless, never phoning home (this machine's network is closed).
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def delete_queues(connection, names, exchanges=()) -> None:
    """Delete exactly these queues and exchanges (ours: the broker is shared); one that is not
    there is fine."""
    import pika.exceptions

    deletions = [("queue_delete", name) for name in names] + [("exchange_delete", name) for name in exchanges]
    for how, name in deletions:
        channel = connection.channel()  # a fresh one each time: a failed delete closes the channel
        try:
            getattr(channel, how)(name)
            channel.close()
        except pika.exceptions.AMQPError:
            pass


def wait_until(check, timeout: float, interval: float = 0.1, what: str = "condition"):
    """Poll `check()` until it returns something truthy; fail with `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}; last value: {last!r}")


class Service:
    def __init__(self, name: str, argv: list[str], env: dict, log_dir: Path):
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(argv, cwd=PROJECT_ROOT, env=env, stdout=self._log,
                                     stderr=subprocess.STDOUT, start_new_session=True)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def signal(self, signum: int) -> None:
        self.proc.send_signal(signum)

    def kill(self) -> None:
        """SIGKILL to its whole process group (a Celery worker's pool, gunicorn's workers), even
        when the leader has already exited."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.proc.wait(5)
        self._log.close()

    def stop(self, timeout: float = 10) -> int | None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self._log.close()
        return self.proc.returncode


class Stack:
    """A Queue Lab deployment on free ports, pointed at the real broker with this run's queues."""

    def __init__(self, tmp: Path, env: dict):
        self.tmp = tmp
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "PYTHONUNBUFFERED": "1",
            "DATABASE_PATH": str(tmp / "queue_lab.sqlite3"),
            "STATUS_API_URL": self.base_url,
            "API_BIND": f"127.0.0.1:{self.port}",
            "API_WORKERS": "2",
            **env,
        }
        self.services: list[Service] = []
        self.session = self.new_session()

    def start(self, name: str, argv: list[str], **env) -> Service:
        service = Service(name, argv, {**self.env, **env}, self.tmp)
        self.services.append(service)
        return service

    def start_api(self, name: str = "api", **env) -> Service:
        api = self.start(name, [str(BIN / "gunicorn"), "-c", "api/gunicorn_conf.py",
                                "api:create_app()"], **env)
        wait_until(self._api_up, 20, what=f"the API on {self.base_url} (log: {api.log_path})")
        return api

    def _api_up(self) -> bool:
        try:
            return self.session.get(self.base_url + "/api/summary", timeout=1).status_code == 200
        except requests.RequestException:
            return False

    def start_consumer(self, name: str = "consumer", **env) -> Service:
        consumer = self.start(name, [sys.executable, "-m", "consumer"], **env)
        wait_until(lambda: "waiting for messages" in consumer.log(), 20,
                   what=f"{name} to consume (log: {consumer.log_path})")
        return consumer

    def start_celery_worker(self, name: str = "celery", beat: bool = False, queue: str | None = None,
                            app: str = "celery_app", loglevel: str = "INFO", **env) -> Service:
        argv = [str(BIN / "celery"), "-A", app, "worker", f"--loglevel={loglevel}",
                # unique node name: Celery 5.7's control queue is exclusive per name
                f"--hostname={name}-{self.port}@%h", "--without-gossip", "--without-mingle"]
        if beat:  # the celery_beat process: embedded beat, on the maintenance queue
            argv += ["--beat", "-s", str(self.tmp / f"{name}-schedule")]
        if queue:
            argv += ["-Q", queue]
        worker = self.start(name, argv, **env)
        ready = " ready." if loglevel == "INFO" else "[queues]"  # quieter: its banner is all it prints
        wait_until(lambda: ready in worker.log(), 40, what=f"{name} to be ready (log: {worker.log_path})")
        return worker

    # -- talking to the API --------------------------------------------------------------------

    def submit(self, method: str, seconds: float = 0, count: int = 1, fail: bool = False):
        return self.session.post(self.base_url + "/api/tasks", timeout=30,
                                 json={"method": method, "seconds": seconds, "count": count, "fail": fail})

    def tasks(self, nums) -> dict[int, dict]:
        rows = self.session.get(self.base_url + "/api/tasks?limit=2000", timeout=5).json()["tasks"]
        return {row["task_num"]: row for row in rows if row["task_num"] in set(nums)}

    def new_session(self) -> requests.Session:
        """A session of its own, for a client thread (sessions are not shared across threads).
        A kept-alive connection the server closed as we reused it is retried, not a failure."""
        from requests.adapters import HTTPAdapter
        from urllib3.util.retry import Retry

        session = requests.Session()
        retry = Retry(total=3, connect=3, read=1, status=0, allowed_methods=None, backoff_factor=0.1,
                      respect_retry_after_header=False)  # a 429's Retry-After is for the test to read
        session.mount("http://", HTTPAdapter(max_retries=retry))
        return session

    def history(self, num: int) -> list[dict]:
        return self.session.get(f"{self.base_url}/api/tasks/{num}/history", timeout=5).json()["history"]

    def post(self, path: str, **json):
        return self.session.post(self.base_url + path, json=json, timeout=30)

    def wait_finished(self, nums, timeout: float) -> dict[int, dict]:
        def finished():
            rows = self.tasks(nums)
            done = len(rows) == len(nums) and all(
                r["task_status"] in ("DONE", "ERROR", "LOST") for r in rows.values())
            return rows if done else None
        return wait_until(finished, timeout, 0.2, what=f"tasks {list(nums)[:10]} to finish")

    def stop(self) -> None:
        """The end of a test or a bench run: every process group is killed at once. What a graceful
        stop does is tested where it matters (Service.stop, signals sent by the tests); here waiting
        for each worker's shutdown in turn only cost every test seconds."""
        for service in self.services:
            service.kill()
        self.session.close()

    def logs(self) -> str:
        return "\n".join(f"----- {s.name} -----\n{s.log()[-3000:]}" for s in self.services)
