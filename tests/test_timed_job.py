"""The one timed job and the HTTP reporter, at unit level (the integration tests run them for real)."""
import time

import pytest

from ops.stack import free_port
from queue_lab.job_states import DONE, ERROR, IN_PROGRESS
from queue_lab.settings import Settings
from queue_lab.status_reporter import StatusReporter
from queue_lab.timed_job import JobFailed, JobSpec, run_timed_job


class Recorder:
    def __init__(self):
        self.calls = []

    def __call__(self, task_num, task_status, **kw):
        self.calls.append((time.monotonic(), task_status, kw))


def test_reports_start_progress_at_least_every_second_then_done():
    record = Recorder()
    run_timed_job(JobSpec(1, 2.2), record)
    statuses = [c[1] for c in record.calls]
    assert statuses[0] == IN_PROGRESS and record.calls[0][2]["starting"] is True
    assert statuses[-1] == DONE and record.calls[-1][2]["progress"] == 100
    progress = [c[2]["progress"] for c in record.calls]
    assert progress == sorted(progress)
    gaps = [b[0] - a[0] for a, b in zip(record.calls, record.calls[1:])]
    assert max(gaps) < 1.0
    assert len({c[2]["run_id"] for c in record.calls}) == 1  # one run, one id


def test_zero_seconds_is_start_then_done():
    record = Recorder()
    run_timed_job(JobSpec(1, 0), record)
    assert [c[1] for c in record.calls] == [IN_PROGRESS, DONE]


def test_fail_raises_part_way_after_reporting_error():
    record = Recorder()
    with pytest.raises(JobFailed):
        run_timed_job(JobSpec(1, 1.0, fail=True), record)
    assert record.calls[-1][1] == ERROR
    assert "failed on purpose at 50%" in record.calls[-1][2]["message"]
    assert record.calls[-1][2]["progress"] == 50  # the bar stays where the job stopped


def test_reporter_never_raises_when_the_api_is_down(monkeypatch):
    monkeypatch.setenv("STATUS_API_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("REPORT_RETRIES", "2")
    reporter = StatusReporter(Settings.from_env(), "w")
    started = time.monotonic()
    assert reporter(1, DONE) is None
    assert time.monotonic() - started < 5  # bounded: 2 quick retries with a short backoff
    run_timed_job(JobSpec(2, 0), reporter)  # the job still completes


def test_reporter_retries_are_urllib3_retry_not_a_loop():
    reporter = StatusReporter(Settings.from_env(), "w")
    adapter = reporter._session_for_this_process().get_adapter("http://x")
    assert adapter.max_retries.total == Settings.from_env().report_retries
    assert "POST" in adapter.max_retries.allowed_methods


def test_batched_reporter_sends_arrays_in_order_and_flush_waits_for_them(monkeypatch):
    import http.server
    import json
    import threading

    received = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            received.append(body)
            answer = json.dumps({"results": [{"status": 200} for _ in body]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("STATUS_API_URL", f"http://127.0.0.1:{server.server_port}")
    reporter = StatusReporter(Settings.from_env(), "w", batched=True)
    for num in range(1, 51):
        assert reporter(num, IN_PROGRESS, progress=0.0, starting=True) is None  # never waits
        reporter(num, DONE, progress=100.0)
    assert reporter.flush(10)
    server.shutdown()
    sent = [report for batch in received for report in batch]
    assert all(isinstance(batch, list) for batch in received)
    assert [(r["task_num"], r["task_status"]) for r in sent] == [
        (num, status) for num in range(1, 51) for status in (IN_PROGRESS, DONE)]
    assert len(received) < 100  # batched, not one request per report
