"""The worker's reporter at unit level, against a small HTTP server that can be down, fail or answer:
reports are delivered in order once the API answers, never dropped for a refused connection, a
timeout or a 5xx, and memory stays bounded (progress collapses; past the bound the job pauses)."""
from __future__ import annotations

import dataclasses
import http.server
import json
import threading
import time

import pytest

from ops.stack import free_port, wait_until
from queue_lab.job_states import DONE, IN_PROGRESS
from queue_lab.settings import Settings
from queue_lab.status_reporter import StatusReporter


class FakeApi:
    """`POST /update_task_status_api/` on a fixed port: `answer` is the status it replies with
    (None: the port is closed, as while the API is down)."""

    def __init__(self):
        self.port = free_port()
        self.received: list[list[dict]] = []
        self.status = 200
        self._server = None
        self._serving: threading.Thread | None = None
        self.reporters: list[StatusReporter] = []

    def up(self, status: int = 200) -> None:
        self.status = status
        if self._server is None:
            api = self

            class Handler(http.server.BaseHTTPRequestHandler):
                def do_POST(self):
                    body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                    if api.status < 500:
                        api.received.append(body)
                    answer = json.dumps({"results": [{"status": 200} for _ in body]}).encode()
                    self.send_response(api.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)

                def log_message(self, *args):
                    pass

            http.server.ThreadingHTTPServer.allow_reuse_address = True
            self._server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
            self._serving = threading.Thread(target=self._server.serve_forever, daemon=True)
            self._serving.start()

    def down(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._serving.join(5)
            self._server = None

    def reporter(self, **settings) -> StatusReporter:
        """A reporter posting here; the fixture closes it (its sender thread ends with the test)."""
        base = Settings.from_env()
        reporter = StatusReporter(dataclasses.replace(base, status_api_url=f"http://127.0.0.1:{self.port}",
                                                      report_timeout=1.0, **settings), "w")
        self.reporters.append(reporter)
        return reporter

    def reports(self) -> list[tuple]:
        return [(r["task_num"], r["task_status"], r.get("progress")) for batch in self.received for r in batch]


@pytest.fixture
def api():
    fake = FakeApi()
    yield fake
    for reporter in fake.reporters:
        reporter.close(timeout=0)
    fake.down()


def test_batches_arrive_in_order_and_flush_waits_for_them(api):
    api.up()
    report = api.reporter()
    for num in range(1, 51):
        assert report(num, IN_PROGRESS, progress=0.0, starting=True, run_id=f"r{num}") is None  # never waits
        report(num, DONE, progress=100.0, run_id=f"r{num}")
    assert report.flush(10)
    assert all(isinstance(batch, list) for batch in api.received)
    assert [(n, s) for n, s, _ in api.reports()] == [
        (num, status) for num in range(1, 51) for status in (IN_PROGRESS, DONE)]
    assert len(api.received) < 100  # batched, not one request per report


def test_reports_made_while_the_api_is_down_arrive_when_it_is_back(api):
    report = api.reporter()
    started = time.monotonic()
    report(1, IN_PROGRESS, progress=0.0, starting=True, run_id="a")
    report(1, DONE, progress=100.0, run_id="a")
    assert time.monotonic() - started < 1  # the job never waits for the API
    wait_until(lambda: report.backlog == 2, 5, what="two reports waiting")
    time.sleep(1.5)  # a few failed attempts
    api.up()
    assert report.flush(15)
    assert api.reports() == [(1, IN_PROGRESS, 0.0), (1, DONE, 100.0)]
    assert report.backlog == 0


def test_a_5xx_is_tried_again_and_a_4xx_is_an_answer(api):
    api.up(status=503)
    report = api.reporter()
    report(1, DONE, run_id="a")
    time.sleep(1)
    assert report.backlog == 1 and api.received == []  # kept: 503 is "not now"
    api.status = 400
    assert report.flush(15)  # a 400 answered: sending it again would get the same answer
    assert api.reports() == [(1, DONE, None)]


def test_progress_of_a_run_collapses_to_the_newest_while_it_waits(api):
    report = api.reporter()
    report(7, IN_PROGRESS, progress=0.0, starting=True, run_id="a")
    for percent in range(10, 100, 10):
        report(7, IN_PROGRESS, progress=float(percent), run_id="a")
        time.sleep(0.05)
    report(8, IN_PROGRESS, progress=50.0, run_id="b")
    report(7, DONE, progress=100.0, run_id="a")
    assert report.backlog <= 5  # start, a progress of 7 (and at most one in flight), 8's, DONE
    api.up()
    assert report.flush(15)
    sent = api.reports()
    assert sent[0] == (7, IN_PROGRESS, 0.0) and sent[-1] == (7, DONE, 100.0)
    progress_of_7 = [p for n, s, p in sent[1:-1] if n == 7]
    assert progress_of_7[-1] == 90.0 and len(progress_of_7) <= 2  # collapsed, newest last
    assert (8, IN_PROGRESS, 50.0) in sent


def test_after_a_failed_post_each_run_keeps_one_progress_with_the_newest_values_in_order(api):
    """The outbox as a failed post leaves it when a run's progress was in flight while newer ones
    queued behind it (and the DONE made them unmergeable until now)."""
    report = api.reporter()
    start = {"task_num": 7, "task_status": IN_PROGRESS, "worker_id": "w", "starting": True, "run_id": "a"}
    progress = lambda n, p, run: {"task_num": n, "task_status": IN_PROGRESS, "worker_id": "w",  # noqa: E731
                                  "progress": p, "run_id": run}
    done = {"task_num": 7, "task_status": DONE, "worker_id": "w", "progress": 100.0, "run_id": "a"}
    report._outbox.extend([start, progress(7, 60.0, "a"), progress(8, 50.0, "b"), progress(7, 90.0, "a"),
                           done, progress(7, 10.0, "z")])
    report._collapse_outbox()
    assert [(r["task_num"], r["task_status"], r.get("progress")) for r in report._outbox] == [
        (7, IN_PROGRESS, None), (7, IN_PROGRESS, 90.0), (8, IN_PROGRESS, 50.0), (7, DONE, 100.0),
        (7, IN_PROGRESS, 10.0)]  # a later run's progress is its own


def test_past_the_bound_the_job_pauses_until_the_api_answers(api):
    report = api.reporter(report_backlog_max=3)
    for num in range(1, 4):
        report(num, DONE, run_id=str(num))
    paused = threading.Thread(target=report, args=(4, DONE), kwargs={"run_id": "4"}, daemon=True)
    paused.start()
    paused.join(1.5)
    assert paused.is_alive() and report.backlog == 3  # waiting, not dropping or growing
    api.up()
    paused.join(15)
    assert not paused.is_alive()
    assert report.flush(15)
    assert [n for n, _, _ in api.reports()] == [1, 2, 3, 4]


def test_a_stop_that_cannot_deliver_says_what_it_leaves_behind(api, caplog):
    report = api.reporter(report_flush_s=0.5)
    report(5, DONE, run_id="a")
    with caplog.at_level("ERROR", logger="queue_lab.report"):
        assert report.flush() is False
    assert "not delivered (the API did not answer within 0.5 s)" in caplog.text and "DONE of task 5" in caplog.text


def test_close_ends_the_sender_even_while_the_api_is_away(api):
    report = api.reporter()
    report(6, DONE, run_id="a")
    wait_until(lambda: [t for t in threading.enumerate() if t.name == "report-sender"], 5, what="the sender")
    assert report.close(timeout=0.3) is False  # the API never answered: the report is left, and said so
    assert not [t for t in threading.enumerate() if t.name == "report-sender" and t.is_alive()]
