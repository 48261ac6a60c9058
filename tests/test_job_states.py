"""Every cell of the state machine (queue_lab/job_states.py), including the refused regressions."""
import pytest

from queue_lab.job_states import (
    APPLIED, DONE, DUPLICATE, ERROR, IN_PROGRESS, LOST, PENDING, REFUSED, RETRYING, SCHEDULED,
    Report, decide,
)


def row(status=PENDING, progress=0.0, worker="w1", attempt=0, run_id=None, started_at=None):
    waiting = status in (PENDING, SCHEDULED)
    if not waiting and attempt == 0:
        attempt, started_at = 1, 100.0
    return {"task_status": status, "progress": progress, "worker_id": None if waiting else worker,
            "attempt": attempt, "run_id": run_id, "started_at": started_at}


@pytest.mark.parametrize("current, report, outcome, status_after", [
    # from PENDING
    (row(), Report(PENDING, "w1"), DUPLICATE, None),
    (row(), Report(IN_PROGRESS, "w1", 0, starting=True), APPLIED, IN_PROGRESS),
    (row(), Report(IN_PROGRESS, "w1", 30), APPLIED, IN_PROGRESS),  # the start report was lost
    (row(), Report(DONE, "w1"), APPLIED, DONE),  # a 0-second job, start report lost
    (row(), Report(ERROR, "w1", message="boom"), APPLIED, ERROR),
    # from IN_PROGRESS (attempt 1, worker w1, at 40 %)
    (row(IN_PROGRESS, 40), Report(PENDING, "w1"), REFUSED, None),
    (row(IN_PROGRESS, 40), Report(IN_PROGRESS, "w1", 60), APPLIED, IN_PROGRESS),
    (row(IN_PROGRESS, 40), Report(IN_PROGRESS, "w1", 40), DUPLICATE, None),
    (row(IN_PROGRESS, 40), Report(IN_PROGRESS, "w1", None), DUPLICATE, None),
    (row(IN_PROGRESS, 40), Report(IN_PROGRESS, "w1", 20), REFUSED, None),  # progress never goes back
    (row(IN_PROGRESS, 40), Report(IN_PROGRESS, "w2", 60), REFUSED, None),  # stale: not this attempt's worker
    (row(IN_PROGRESS, 40), Report(IN_PROGRESS, "w2", 0, starting=True), APPLIED, IN_PROGRESS),  # redelivered
    (row(IN_PROGRESS, 40), Report(IN_PROGRESS, "w1", 0, starting=True), APPLIED, IN_PROGRESS),  # same worker again
    (row(IN_PROGRESS, 40), Report(DONE, "w1"), APPLIED, DONE),
    (row(IN_PROGRESS, 40), Report(DONE, "w2"), APPLIED, DONE),  # DONE is a fact, whoever did it
    (row(IN_PROGRESS, 40), Report(ERROR, "w1", message="x"), APPLIED, ERROR),
    (row(IN_PROGRESS, 40), Report(ERROR, "w2", message="x"), REFUSED, None),  # stale attempt failing
    # from DONE: nothing moves it
    (row(DONE, 100), Report(PENDING, "w1"), REFUSED, None),
    (row(DONE, 100), Report(IN_PROGRESS, "w1", 50), REFUSED, None),  # a late IN_PROGRESS after DONE
    (row(DONE, 100), Report(IN_PROGRESS, "w2", 0, starting=True), REFUSED, None),
    (row(DONE, 100), Report(DONE, "w1"), DUPLICATE, None),
    (row(DONE, 100), Report(ERROR, "w1", message="x"), REFUSED, None),
    # from SCHEDULED: like PENDING, it has not started
    (row(SCHEDULED), Report(PENDING, "w1"), REFUSED, None),
    (row(SCHEDULED), Report(IN_PROGRESS, "w1", 0, starting=True), APPLIED, IN_PROGRESS),
    (row(SCHEDULED), Report(DONE, "w1"), APPLIED, DONE),
    (row(SCHEDULED), Report(RETRYING, "w1", retry_in_s=1), APPLIED, RETRYING),
    # into and out of RETRYING
    (row(IN_PROGRESS, 50), Report(RETRYING, "w1", message="flaky", retry_in_s=2), APPLIED, RETRYING),
    (row(IN_PROGRESS, 50), Report(RETRYING, "w2", retry_in_s=2), REFUSED, None),  # stale run
    (row(RETRYING, 50), Report(RETRYING, "w1", retry_in_s=2), DUPLICATE, None),
    (row(RETRYING, 50), Report(IN_PROGRESS, "w1", 60), REFUSED, None),  # late progress of the failed run
    (row(RETRYING, 50), Report(IN_PROGRESS, "w2", 0, starting=True), APPLIED, IN_PROGRESS),  # next attempt
    (row(RETRYING, 50), Report(ERROR, "w1", message="gave up"), REFUSED, None),  # only a new run decides
    (row(RETRYING, 50), Report(DONE, "w1"), APPLIED, DONE),
    (row(RETRYING, 50), Report(PENDING, "w1"), REFUSED, None),
    # from LOST: revived by its own run or by a redelivery; never by a stranger
    (row(LOST, 40), Report(IN_PROGRESS, "w1", 60), APPLIED, IN_PROGRESS),
    (row(LOST, 40), Report(IN_PROGRESS, "w1", 20), REFUSED, None),
    (row(LOST, 40), Report(IN_PROGRESS, "w2", 0, starting=True), APPLIED, IN_PROGRESS),
    (row(LOST, 40), Report(IN_PROGRESS, "w2", 60), REFUSED, None),
    (row(LOST, 40), Report(DONE, "w1"), APPLIED, DONE),
    (row(LOST, 40), Report(ERROR, "w1", message="x"), APPLIED, ERROR),
    (row(LOST, 40), Report(RETRYING, "w1", retry_in_s=1), APPLIED, RETRYING),
    (row(LOST, 40), Report(PENDING, "w1"), REFUSED, None),
    # from ERROR: final too
    (row(ERROR, 50), Report(PENDING, "w1"), REFUSED, None),
    (row(ERROR, 50), Report(IN_PROGRESS, "w1", 60), REFUSED, None),
    (row(ERROR, 50), Report(DONE, "w1"), REFUSED, None),
    (row(ERROR, 50), Report(ERROR, "w1", message="x"), DUPLICATE, None),
])
def test_every_transition(current, report, outcome, status_after):
    decision = decide(current, report, now=200.0)
    assert decision.outcome == outcome, decision.reason
    assert decision.reason
    if outcome == APPLIED:
        assert decision.changes.get("task_status", current["task_status"]) == status_after
    else:
        assert decision.changes == {}


def test_a_redelivered_job_starts_a_new_attempt_from_zero():
    decision = decide(row(IN_PROGRESS, 80, attempt=1), Report(IN_PROGRESS, "w2", 0, starting=True), 200.0)
    assert decision.changes["attempt"] == 2
    assert decision.changes["progress"] == 0
    assert decision.changes["worker_id"] == "w2"
    assert decision.changes["started_at"] == 200.0


def test_a_retried_start_report_is_not_a_new_attempt():
    current = row(IN_PROGRESS, 0, run_id="run-a")
    assert decide(current, Report(IN_PROGRESS, "w1", 0, starting=True, run_id="run-a"), 1).outcome == DUPLICATE


def test_run_id_tells_an_old_run_in_the_same_process_from_the_current_one():
    current = row(IN_PROGRESS, 10, attempt=2, run_id="run-b")
    late = Report(IN_PROGRESS, "w1", 90, run_id="run-a")  # same worker id, superseded run
    assert decide(current, late, 1).outcome == REFUSED
    assert decide(current, Report(IN_PROGRESS, "w1", 20, run_id="run-b"), 1).outcome == APPLIED


def test_done_sets_progress_100_and_finish_time():
    changes = decide(row(IN_PROGRESS, 40), Report(DONE, "w1"), 250.0).changes
    assert (changes["progress"], changes["finished_at"], changes["error"]) == (100.0, 250.0, None)


def test_done_without_a_start_still_has_ordered_timestamps_and_an_attempt():
    changes = decide(row(), Report(DONE, "w1"), 250.0).changes
    assert changes["started_at"] == changes["finished_at"] == 250.0
    assert changes["attempt"] == 1


def test_error_keeps_the_message_and_where_it_stopped():
    changes = decide(row(IN_PROGRESS, 40), Report(ERROR, "w1", 50, message="JobFailed: boom"), 1).changes
    assert (changes["error"], changes["progress"]) == ("JobFailed: boom", 50)


def test_error_without_message_still_says_something():
    assert decide(row(IN_PROGRESS, 40), Report(ERROR, "w1"), 1).changes["error"]


def test_retrying_records_when_the_next_attempt_is_due():
    changes = decide(row(IN_PROGRESS, 50), Report(RETRYING, "w1", message="flaky", retry_in_s=2.5), 100.0).changes
    assert (changes["due_at"], changes["error"], changes["progress"] if "progress" in changes else 50) == (
        102.5, "flaky", 50)


def test_the_next_attempt_clears_the_due_time_and_the_old_reason():
    current = {**row(RETRYING, 50), "due_at": 102.5}
    changes = decide(current, Report(IN_PROGRESS, "w1", 0, starting=True, run_id="b"), 103.0).changes
    assert (changes["attempt"], changes["due_at"], changes["error"]) == (2, None, None)


def test_lost_revived_by_its_own_run_clears_the_sweepers_reason():
    changes = decide(row(LOST, 40), Report(IN_PROGRESS, "w1", 60), 1).changes
    assert (changes["task_status"], changes["error"], changes["progress"]) == (IN_PROGRESS, None, 60)


def test_workers_cannot_report_api_only_statuses():
    from queue_lab.fields import BadField
    for status in (SCHEDULED, LOST):
        with pytest.raises(BadField):
            Report.from_json({"task_num": 1, "task_status": status, "worker_id": "w"})


def test_done_keeps_the_jobs_result_and_only_done_may_carry_one():
    from queue_lab.fields import BadField

    task_num, report = Report.from_json({"task_num": 12, "task_status": DONE, "worker_id": "w1", "result": 78})
    assert decide(row(IN_PROGRESS, 50), report, 1).changes["result"] == 78
    assert Report.from_json(report.to_json(task_num)) == (task_num, report)  # one contract, both ways
    for body, field in (({"task_status": IN_PROGRESS, "result": 78}, "result"), ({"task_status": DONE, "result": -1}, "result"),
                        ({"task_status": DONE, "result": 1.5}, "result"), ({"task_status": DONE, "result": 2**60}, "result")):
        with pytest.raises(BadField) as refused:
            Report.from_json({"task_num": 1, "worker_id": "w", **body})
        assert refused.value.field == field


@pytest.mark.parametrize("current", [row(IN_PROGRESS, 30, worker="gone-1", run_id="r4"), row(LOST, 30, run_id="r4"),
                                     row(RETRYING, 50, run_id="r2"), row()])
def test_a_dead_lettering_ends_the_job_whichever_run_reports_it(current):
    """The broker dead-lettered the message (a quorum queue's delivery limit): no attempt can follow,
    so the report of the dead-letter queue's consumer ends the row, though it is no run of the job."""
    report = Report(ERROR, "watcher-9", message="dead-lettered by RabbitMQ (delivery_limit)", dead_lettered=True)
    decision = decide(current, report, 200.0)
    assert (decision.outcome, decision.changes["task_status"]) == (APPLIED, ERROR)
    assert decision.changes["error"].startswith("dead-lettered")
    plain = decide(current, Report(ERROR, "watcher-9", message="boom"), 200.0)  # an ordinary stranger's ERROR
    assert plain.outcome == (APPLIED if current["task_status"] == PENDING else REFUSED)


def test_a_dead_lettering_does_not_reopen_a_finished_job():
    decision = decide(row(DONE, 100), Report(ERROR, "watcher-9", dead_lettered=True), 200.0)
    assert decision.outcome == REFUSED


def test_a_start_report_records_who_counted_the_deliveries():
    started = decide(row(IN_PROGRESS, 10, run_id="r1"), Report(IN_PROGRESS, "w2", 0, starting=True, run_id="r2",
                                                               delivery_count=1, counted_by="x-delivery-count"), 1.0)
    assert (started.changes["attempt"], started.changes["delivery_count"], started.changes["counted_by"]) == (
        2, 1, "x-delivery-count")
