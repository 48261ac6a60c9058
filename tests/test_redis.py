"""Celery on Redis beside Celery on RabbitMQ, for real: this machine's Redis and RabbitMQ, real Celery
workers of both kinds, the API between them. What the broker changes: Redis only emulates acks, so a
dead worker's job comes back only after the visibility timeout, and a countdown longer than it runs
twice. (Keys are named after this test's queue and deleted afterwards: the Redis is shared.)"""
from __future__ import annotations

import sys
import time

import pytest

from ops.stack import BIN, free_port, wait_until
from tests.helpers import REDIS_URL

pytestmark = pytest.mark.broker

def start_kept_worker(stack, name, **env):
    """A Celery worker under keep_running, as `make run` starts it: killed whole, it comes back."""
    worker = stack.start(name, [sys.executable, "-m", "ops.keep_running", str(BIN / "celery"), "-A", "celery_app",
                                "worker", "--loglevel=INFO", f"--hostname={name}-{stack.port}@%h",
                                "--without-gossip", "--without-mingle"], **env)
    wait_until(lambda: " ready." in worker.log(), 40, what=f"{name} to be ready (log: {worker.log_path})")
    return worker


def start_redis_worker(stack, name="celery-redis", **env):
    return start_kept_worker(stack, name, CELERY_BROKER_KIND="redis", **env)


def started_at(stack, num, attempt):
    return next(e["at"] for e in stack.history(num) if e["task_status"] == "IN_PROGRESS" and e["attempt"] == attempt)


def test_a_job_by_celery_on_redis_is_done_and_waits_in_a_redis_list(stack, redis_keys, queues):
    stack.start_api(REDIS_URL=REDIS_URL)
    waiting = stack.submit("celery_redis", seconds=0, count=3).json()["task_nums"]
    queue = queues["CELERY_QUEUE"]
    assert redis_keys.llen(queue) == 3  # no worker yet: the jobs wait in the list
    row = next(q for q in stack.session.get(stack.base_url + "/api/queues").json()["queues"]
               if q["path"] == "celery_redis")
    assert (row["messages_ready"], row["messages_unacknowledged"], row["consumers"]) == (3, 0, None)
    start_redis_worker(stack, REDIS_URL=REDIS_URL)
    rows = stack.wait_finished(waiting, 30)
    assert {r["task_status"] for r in rows.values()} == {"DONE"} and {r["method"] for r in rows.values()} == {"celery_redis"}
    assert redis_keys.llen(queue) == 0 and redis_keys.hlen(f"{queue}.unacked") == 0


def test_with_redis_away_delay_answers_503_and_the_rows_end_error(stack, redis_keys):
    gone = f"redis://127.0.0.1:{free_port()}/0"
    stack.start_api(REDIS_URL=gone, BROKER_TIMEOUT="1")
    for keep_result in (False, True):  # a kept result's backend is the same Redis: the same 503
        answer = stack.post("/api/tasks", method="celery_redis", seconds=0, count=2, keep_result=keep_result)
        assert answer.status_code == 503 and "Redis is not reachable" in answer.json()["error"], answer.text
        rows = stack.tasks(answer.json()["task_nums"])
        assert {r["task_status"] for r in rows.values()} == {"ERROR"}


def test_a_whole_worker_killed_mid_job_comes_back_at_once_on_rabbitmq_and_after_the_visibility_timeout_on_redis(
        stack, redis_keys):
    timeout = 8
    env = {"REDIS_URL": REDIS_URL, "REDIS_VISIBILITY_TIMEOUT_S": str(timeout)}
    stack.start_api(**env)
    start_redis_worker(stack, **env)
    start_kept_worker(stack, "celery-rabbitmq", **env)
    nums = {method: stack.submit(method, seconds=3).json()["task_nums"][0] for method in ("celery", "celery_redis")}
    killed_at = {}
    for method, num in nums.items():
        wait_until(lambda: stack.tasks([num])[num]["task_status"] == "IN_PROGRESS", 20, what=f"{method} job running")
        answer = stack.post("/api/experiments/kill-worker", task_num=num, whole=True)
        assert answer.status_code == 200 and len(answer.json()["killed_pids"]) == 2, answer.text
        killed_at[method] = time.time()
    rows = stack.wait_finished(list(nums.values()), 60)
    for method, num in nums.items():
        assert (rows[num]["task_status"], rows[num]["attempt"]) == ("DONE", 2), (method, rows[num])
    first_run = {method: started_at(stack, num, 1) for method, num in nums.items()}
    back_after = {method: started_at(stack, num, 2) - first_run[method] for method, num in nums.items()}
    # RabbitMQ: as soon as the new worker is up (the connection's drop returned it). Redis: not before
    # the visibility timeout, counted from the delivery (a little before the start report).
    assert back_after["celery"] < timeout - 2, back_after
    assert back_after["celery_redis"] >= timeout - 1.5, back_after


def test_a_countdown_longer_than_the_visibility_timeout_runs_twice_on_redis_once_on_rabbitmq(stack, redis_keys):
    env = {"REDIS_URL": REDIS_URL, "REDIS_VISIBILITY_TIMEOUT_S": "3"}
    stack.start_api(**env)
    start_redis_worker(stack, **env)
    stack.start_celery_worker("celery-rabbitmq", **env)
    nums = {method: stack.post("/api/tasks", method=method, seconds=0.5, delay_s=7).json()["task_nums"][0]
            for method in ("celery", "celery_redis")}
    stack.wait_finished(list(nums.values()), 40)
    time.sleep(4)  # the second copy's run, after the first's DONE
    rows = stack.tasks(list(nums.values()))
    ran = {method: rows[num]["reruns"] + rows[num]["attempt"] for method, num in nums.items()}
    assert ran["celery"] == 1, rows[nums["celery"]]
    assert ran["celery_redis"] >= 2, rows[nums["celery_redis"]]


def test_strangers_calls_by_name_on_redis_never_stop_its_worker(stack, redis_keys):
    """The message contract on the Redis broker too: send_task with nonsense arguments, a job the
    table never held, a replay — the Redis worker refuses or skips each, and a real job runs next."""
    from celery import Celery

    stack.start_api(REDIS_URL=REDIS_URL)
    worker = start_redis_worker(stack, REDIS_URL=REDIS_URL)
    (done,) = stack.post("/api/tasks", method="celery_redis", seconds=0).json()["task_nums"]
    stack.wait_finished([done], 20)
    client = Celery("student", broker=REDIS_URL)
    client.conf.update(task_default_queue=stack.env["CELERY_QUEUE"], broker_connection_timeout=3)
    for args in (["x", "y"], [], [999999, 30], [done, 1e12], [done, 40]):
        client.send_task("process_task", args=args)
    client.close()
    (num,) = stack.post("/api/tasks", method="celery_redis", seconds=1).json()["task_nums"]
    assert stack.wait_finished([num], 15)[num]["task_status"] == "DONE"
    log = worker.log()
    assert log.count("refused process_task") == 3 and "no such job" in log and f"#{done}: already DONE" in log
    assert stack.tasks([done])[done]["attempt"] == 1
