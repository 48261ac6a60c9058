"""The table never lies, tried for real: the API goes away while jobs run (as when `docker compose up
-d` recreates it), and every job still ends as it really ended — DONE, attempt 1, never LOST.

Real gunicorn, a real raw consumer, a real Celery worker and the real sweeper (celery beat) on the
real broker. The sweeper runs every second and calls a job LOST after 2 s of silence, so if it could
mistake a worker's late reports for a dead worker, these tests would see it.
"""
import signal
import time

import pytest

from ops.stack import wait_until

pytestmark = pytest.mark.broker

HARSH_SWEEPER = {"LOST_AFTER_S": "2", "SWEEP_EVERY_S": "1", "WORKER_HEARTBEAT_S": "1"}
JOBS_PER_METHOD, JOB_SECONDS = 10, 2


def workers(stack) -> list[dict]:
    return stack.session.get(stack.base_url + "/api/workers", timeout=5).json()["workers"]


@pytest.mark.parametrize("outage_s", [15, 60])
def test_jobs_running_through_an_api_outage_all_end_done(stack, queues, outage_s):
    stack.env.update(HARSH_SWEEPER)
    api = stack.start_api("api-before")
    stack.start_consumer()
    stack.start_celery_worker("celery")
    beat = stack.start_celery_worker("beat", beat=True, queue=f"{queues['CELERY_QUEUE']}.maintenance")
    nums = [num for method in ("rabbitmq", "celery")
            for num in stack.submit(method, seconds=JOB_SECONDS, count=JOBS_PER_METHOD).json()["task_nums"]]
    wait_until(lambda: sum(r["task_status"] == "IN_PROGRESS" for r in stack.tasks(nums).values()) == 2,
               20, what="one job of each method running")

    api.signal(signal.SIGTERM)  # as `docker compose up -d` stops the API to recreate it
    assert api.proc.wait(15) == 0
    time.sleep(outage_s)
    after = stack.start_api("api-after", API_ACCESS_LOG="-")

    rows = stack.wait_finished(nums, 60)
    assert {num: (r["task_status"], r["attempt"]) for num, r in rows.items()} == {
        num: ("DONE", 1) for num in nums}
    # The sweeper swept meanwhile (answered by the API), and never named any of them LOST, not even
    # for a moment: a LOST would stay in the job's history.
    wait_until(lambda: after.log().count('"POST /api/maintenance/sweep HTTP/1.1" 200') >= 5, 20,
               what="five sweeps answered after the outage")
    assert "sweep of lost jobs" in beat.log()  # it did try during the outage, and was not answered
    assert all("LOST" not in [e["task_status"] for e in stack.history(num)] for num in nums)

    # The workers panel saw the reports wait, then drain: nothing waits now, and what waited arrived late.
    listed = wait_until(lambda: (ws := workers(stack)) and all(w["backlog"] == 0 for w in ws) and ws,
                        20, what="every backlog drained")
    job_workers = [w for w in listed if w["worker_id"] in {r["worker_id"] for r in rows.values()}]
    assert {w["kind"] for w in job_workers} == {"consumer", "celery"}
    assert all(w["delivered_late"] > 0 and w["backlog_peak"] > 0 for w in job_workers), job_workers
