"""Real processes on the real RabbitMQ: gunicorn API, `python -m consumer`, `celery worker`."""
import collections
import signal
import time

import pytest
import requests

from ops.stack import free_port, wait_until

pytestmark = pytest.mark.broker


def assert_done_properly(row):
    assert row["task_status"] == "DONE", row
    assert row["progress"] == 100
    assert row["worker_id"]
    assert row["created_at"] <= row["started_at"] <= row["finished_at"]


def test_a_job_by_each_method_reaches_done(stack):
    stack.start_api()
    stack.start_consumer()
    stack.start_celery_worker()
    nums = {}
    for method in ("celery", "rabbitmq"):
        response = stack.submit(method, seconds=1.2)
        assert response.status_code == 202, response.text
        nums[method] = response.json()["task_nums"][0]
        # Location names these jobs' status, not the whole table.
        watched = stack.session.get(stack.base_url + response.headers["Location"], timeout=5).json()
        assert [row["task_num"] for row in watched["tasks"]] == [nums[method]]
    response = stack.submit("sync", seconds=1.2)
    assert response.status_code == 200
    nums["sync"] = response.json()["task_nums"][0]
    rows = stack.wait_finished(list(nums.values()), 30)
    for method, num in nums.items():
        assert_done_properly(rows[num])
        assert rows[num]["method"] == method and rows[num]["attempt"] == 1
        assert rows[num]["result"] == num * (num + 1) // 2, rows[num]  # what the job computed, by each path
    assert rows[nums["celery"]]["celery_id"]
    assert rows[nums["rabbitmq"]]["celery_id"] is None


def test_a_failing_job_ends_error_with_the_reason_on_both_queues(stack):
    stack.start_api()
    stack.start_consumer()
    stack.start_celery_worker()
    nums = [stack.submit(m, seconds=0.4, fail=True).json()["task_nums"][0] for m in ("celery", "rabbitmq")]
    rows = stack.wait_finished(nums, 30)
    for num in nums:
        assert rows[num]["task_status"] == "ERROR"
        assert "failed on purpose" in rows[num]["error"]


def test_twenty_jobs_are_spread_over_two_workers_of_each_kind(stack):
    stack.start_api()
    for i in (1, 2):
        stack.start_consumer(f"consumer{i}")
        stack.start_celery_worker(f"celery{i}")
    nums = []
    for method in ("rabbitmq", "celery"):
        response = stack.submit(method, seconds=0.3, count=20)
        assert response.status_code == 202
        nums += response.json()["task_nums"]
    rows = stack.wait_finished(nums, 60)
    for method in ("rabbitmq", "celery"):
        per_worker = collections.Counter(r["worker_id"] for r in rows.values() if r["method"] == method)
        assert len(per_worker) == 2, per_worker
        assert min(per_worker.values()) >= 5, per_worker  # prefetch 1: fair, not all on one
        assert all(r["task_status"] == "DONE" for r in rows.values() if r["method"] == method)


def test_a_job_longer_than_the_heartbeat_keeps_its_connection(stack):
    stack.start_api()
    consumer = stack.start_consumer(CONSUMER_HEARTBEAT="2")
    (num,) = stack.submit("rabbitmq", seconds=8).json()["task_nums"]
    row = stack.wait_finished([num], 30)[num]
    assert_done_properly(row)
    assert row["attempt"] == 1  # not redelivered: the connection never dropped
    assert "lost or could not open" not in consumer.log()
    assert "could not ack" not in consumer.log()


def test_broker_unreachable_answers_503_quickly_and_leaves_nothing_pending(stack):
    stack.start_api(RABBITMQ_URL=f"amqp://guest:guest@127.0.0.1:{free_port()}/")
    for method in ("rabbitmq", "celery"):
        started = time.monotonic()
        response = stack.submit(method, seconds=1, count=3)
        assert response.status_code == 503, response.text
        assert time.monotonic() - started < 8
        assert "RabbitMQ is not reachable" in response.json()["error"]
        assert "guest:guest" not in response.json()["error"]  # no password in messages
        rows = stack.tasks(response.json()["task_nums"])
        assert {r["task_status"] for r in rows.values()} == {"ERROR"}
        assert all("not reachable" in r["error"] for r in rows.values())


def test_sigterm_lets_the_running_job_finish_then_the_consumer_exits(stack):
    stack.start_api()
    consumer = stack.start_consumer()
    (num,) = stack.submit("rabbitmq", seconds=3).json()["task_nums"]
    wait_until(lambda: stack.tasks([num])[num]["task_status"] == "IN_PROGRESS", 10, what="job start")
    consumer.signal(signal.SIGTERM)
    (later,) = stack.submit("rabbitmq", seconds=0).json()["task_nums"]
    assert consumer.proc.wait(20) == 0
    assert_done_properly(stack.tasks([num])[num])
    assert stack.tasks([later])[later]["task_status"] == "PENDING"  # not taken: still in the queue
    stack.start_consumer("consumer2")
    assert_done_properly(stack.wait_finished([later], 20)[later])


def test_a_second_signal_abandons_the_job_and_it_is_redelivered(stack):
    stack.start_api()
    first = stack.start_consumer("consumer1")
    (num,) = stack.submit("rabbitmq", seconds=20).json()["task_nums"]
    wait_until(lambda: stack.tasks([num])[num]["progress"] > 0, 10, what="job progress")
    first.signal(signal.SIGINT)
    time.sleep(0.3)
    first.signal(signal.SIGINT)
    assert first.proc.wait(10) == 0
    stack.start_consumer("consumer2", CONSUMER_HEARTBEAT="5")
    wait_until(lambda: stack.tasks([num])[num]["attempt"] == 2, 15, what="attempt 2")
    row = stack.tasks([num])[num]
    assert row["task_status"] == "IN_PROGRESS" and row["progress"] < 50  # the bar restarted


def test_sse_stream_outlives_the_gunicorn_timeout(stack):
    stack.start_api(API_TIMEOUT="2", SSE_KEEPALIVE_S="0.5")
    seq = stack.session.get(stack.base_url + "/api/tasks").json()["seq"]
    with requests.get(f"{stack.base_url}/api/events?since={seq}", stream=True, timeout=10) as stream:
        lines = stream.iter_lines(decode_unicode=True)
        time.sleep(4)  # twice the worker timeout
        (num,) = stack.submit("sync", seconds=0).json()["task_nums"]
        for line in lines:
            if line.startswith("data:") and f'"task_num":{num}' in line and "DONE" in line:
                break
    assert "WORKER TIMEOUT" not in stack.services[0].log()


def test_restarting_the_api_loses_nothing(stack):
    api = stack.start_api()
    nums = stack.submit("sync", seconds=0, count=3).json()["task_nums"]
    api.stop()
    stack.services.remove(api)
    stack.start_api()
    rows = stack.tasks(nums)
    assert sorted(rows) == nums and {r["task_status"] for r in rows.values()} == {"DONE"}
