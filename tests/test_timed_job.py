"""The one timed job, at unit level (the integration tests run it for real)."""
import time

import pytest

from queue_lab.job_states import DONE, ERROR, IN_PROGRESS
from queue_lab.job_message import JobSpec
from queue_lab.timed_job import JobFailed, job_answer, run_timed_job


class Recorder:
    def __init__(self):
        self.calls = []

    def __call__(self, task_num, task_status, **kw):
        self.calls.append((time.monotonic(), task_status, kw))

    def refusal(self, task_num, run_id, wait_for_start=False):
        return None  # the API holds every job and none has ended


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


def test_the_job_computes_its_result_and_reports_it_with_done():
    record = Recorder()
    assert run_timed_job(JobSpec(12, 0), record) == 78 == job_answer(12)  # 1 + 2 + … + 12
    assert record.calls[-1][1] == DONE and record.calls[-1][2]["result"] == 78
    assert all("result" not in kw for _, _, kw in record.calls[:-1])  # only DONE carries it


def test_fail_raises_part_way_after_reporting_error():
    record = Recorder()
    with pytest.raises(JobFailed):
        run_timed_job(JobSpec(1, 1.0, fail=True), record)
    assert record.calls[-1][1] == ERROR
    assert "failed on purpose at 50%" in record.calls[-1][2]["message"]
    assert record.calls[-1][2]["progress"] == 50  # the bar stays where the job stopped
