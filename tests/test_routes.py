"""The routes lesson (docs/routes.md): a second kind of job that task_routes sends to its own queue,
consumed only by the worker started with -Q, and what a lane with no consumer does — on the real
broker, with real Celery workers."""
import pytest

from api.validation import parse_submission
from ops.stack import wait_until
from queue_lab.fields import BadField
from queue_lab.queues import queue_layout


@pytest.mark.parametrize("body, field", [
    ({"method": "rabbitmq", "seconds": 1, "lane": "long"}, "lane"),
    ({"method": "celery_redis", "seconds": 1, "lane": "long"}, "lane"),
    ({"method": "sync", "seconds": 1, "lane": "long"}, "lane"),
    ({"method": "celery", "seconds": 1, "lane": "fast"}, "lane"),
    ({"method": "celery", "seconds": 1, "lane": "long", "celery_ack": "early"}, "celery_ack"),
    ({"method": "celery", "seconds": 1, "count": 3, "canvas": "chain", "lane": "long"}, "lane"),
])
def test_a_lane_that_cannot_be_is_refused_naming_the_field(app, body, field):
    with app.test_request_context(), pytest.raises(BadField) as refused:
        parse_submission(body)
    assert refused.value.field == field


def test_the_long_lane_is_a_queue_of_its_own_that_a_reset_empties():
    layout = queue_layout("q", "c")
    assert layout.celery_long == "c.long"
    assert layout.celery_long in layout.students_queues()


def test_the_lane_switch_answers_400_naming_its_field(client, auth):
    for body in ({}, {"consume": "yes"}, {"consume": True, "queue": "x"}):
        answer = client.post("/api/experiments/long-lane", json=body, headers=auth)
        assert answer.status_code == 400, answer.json
        assert answer.json["field"] in ("consume", "queue"), answer.json


def queue_row(stack, name: str) -> dict:
    rows = stack.session.get(stack.base_url + "/api/queues", timeout=5).json()["queues"]
    return next(row for row in rows if row["name"] == name)


def waiting_with_no_consumer(stack, name: str, ready: int):
    """The panel's row once the broker's counts (refreshed every 5 s) show `ready` jobs, nobody consuming."""
    row = queue_row(stack, name)
    return row if row["messages_ready"] == ready and row["consumers"] == 0 else None


@pytest.mark.broker
def test_a_long_job_waits_in_its_lane_until_a_worker_consumes_it(stack, queues, management_api):
    stack.env.update(RABBITMQ_MANAGEMENT_URL=management_api)
    stack.start_api()
    stack.start_celery_worker("celery")  # the default queue's worker only
    long_queue = f"{queues['CELERY_QUEUE']}.long"

    sent = stack.post("/api/tasks", method="celery", seconds=0.2, lane="long")
    assert sent.status_code == 202, sent.text
    long_num = sent.json()["task_nums"][0]
    row = wait_until(lambda: waiting_with_no_consumer(stack, long_queue, 1), 20, 0.5,
                     what="the long lane's queue to hold the job with no consumer")
    assert row["path"] == "celery_long"
    assert row["no_consumer"] == f"no consumer on queue {long_queue}: its jobs wait for a worker"

    # The default worker is idle and takes a default job at once, but never the long one.
    short_num = stack.submit("celery", seconds=0.1).json()["task_nums"][0]
    assert stack.wait_finished([short_num], 30)[short_num]["task_status"] == "DONE"
    held = stack.tasks([long_num])[long_num]
    assert (held["task_status"], held["queue"]) == ("PENDING", long_queue)

    stack.start_celery_worker("celery-long", queue=long_queue)
    done = stack.wait_finished([long_num], 30)[long_num]
    assert done["task_status"] == "DONE", done
    workers = stack.session.get(stack.base_url + "/api/workers", timeout=5).json()["workers"]
    ran_it = next(worker for worker in workers if worker["worker_id"] == done["worker_id"])
    assert ran_it["queue"] == long_queue  # the lane's own worker, started with -Q
    assert wait_until(lambda: "no_consumer" not in queue_row(stack, long_queue) or None, 20, 0.5,
                      what="the panel to stop saying no consumer")


@pytest.mark.broker
def test_pausing_the_long_lane_holds_its_jobs_and_resuming_runs_them(stack, queues, management_api):
    stack.env.update(RABBITMQ_MANAGEMENT_URL=management_api)
    stack.start_api()
    long_queue = f"{queues['CELERY_QUEUE']}.long"
    lane_worker = stack.start_celery_worker("celery-long", queue=long_queue)

    paused = stack.post("/api/experiments/long-lane", consume=False)
    assert paused.status_code == 200, paused.text
    assert paused.json()["queue"] == long_queue
    [node] = paused.json()["workers"]
    assert node.startswith("celery-long-")
    again = stack.post("/api/experiments/long-lane", consume=False)
    assert again.status_code == 409 and f"no worker consumes queue {long_queue}" in again.json()["error"]

    nums = stack.post("/api/tasks", method="celery", seconds=0.1, count=2, lane="long").json()["task_nums"]
    wait_until(lambda: waiting_with_no_consumer(stack, long_queue, 2), 20, 0.5,
               what="the paused lane to hold both jobs with no consumer")
    assert {row["task_status"] for row in stack.tasks(nums).values()} == {"PENDING"}
    assert lane_worker.proc.poll() is None  # paused, not stopped: the worker is still up

    resumed = stack.post("/api/experiments/long-lane", consume=True)
    assert resumed.status_code == 200, resumed.text
    assert resumed.json()["workers"] == [node]
    rows = stack.wait_finished(nums, 30)
    assert {row["task_status"] for row in rows.values()} == {"DONE"}, rows
    nothing_paused = stack.post("/api/experiments/long-lane", consume=True)
    assert nothing_paused.status_code == 409, nothing_paused.text
