"""Every message is a stranger: real workers on the real broker meet what students publish by hand.

A queue is a public door. Whatever a message holds — not JSON, not an object, NaN, 1e12 seconds, a
job the table never held, a replay of a finished one, Celery's `send_task` with nonsense arguments —
no worker crashes, stalls or loops on it: it is refused (parked in the dead queue with its reason)
or skipped, and the next real job on every method ends DONE. A class reset empties every path,
and a student's own producer can make a real job (`publish: false`, then their own publish).
"""
from __future__ import annotations

import collections
import json
import subprocess
import time

import pika
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from ops.stack import wait_until
from queue_lab.job_message import JobSpec, NotAJob
from queue_lab.queues import queue_layout

pytestmark = pytest.mark.broker

# JSON-ish values, and things that are not even that.
scalars = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.text(max_size=20),
                    st.floats(allow_nan=True, allow_infinity=True),
                    st.sampled_from([1e12, -5, 1e30, 0.5, 300.5, 2**63]))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
    st.text(max_size=8), inner, max_size=4), max_leaves=8)
job_like = st.fixed_dictionaries({}, optional={
    "task_num": values, "seconds": values, "fail": values, "flaky": values, "time_limit_s": values,
    "poison": values, "extra": values})


def is_a_job(body: bytes) -> bool:
    try:
        return not JobSpec.from_body(body).poison  # poison is refused on the classic queue
    except NotAJob:
        return False


def encoded(value) -> bytes:
    return json.dumps(value, allow_nan=True).encode()


bodies = st.one_of(job_like.map(encoded), values.map(encoded), st.binary(max_size=40),
                   st.sampled_from([b"", b"\xff\xfe not utf-8", b"[1, 2, 3]", b'"hello"', b"null", b"NaN",
                                    b'{"task_num": 1, "seconds": NaN}', b"[" * 5000]))
celery_args = st.lists(values, max_size=5)


def publish(broker, queue: str, body: bytes, headers: dict | None = None) -> None:
    connection = pika.BlockingConnection(broker)
    try:
        connection.channel().basic_publish("", queue, body, pika.BasicProperties(headers=headers))
    finally:
        connection.close()


def dead_letters(broker, queue: str) -> list[tuple[bytes, dict]]:
    """Every message now in `queue` (taken off it): body and headers."""
    connection = pika.BlockingConnection(broker)
    found = []
    try:
        channel = connection.channel()
        while True:
            method, properties, body = channel.basic_get(queue, auto_ack=True)
            if method is None:
                return found
            found.append((body, properties.headers or {}))
    finally:
        connection.close()


def celery_app_of(stack, broker_url: str | None = None):
    """A client app that only knows a task's name (it never imports celery_tasks)."""
    from celery import Celery

    client = Celery("student", broker=broker_url or stack.env["RABBITMQ_URL"])
    client.conf.update(task_default_queue=stack.env["CELERY_QUEUE"], broker_connection_timeout=3,
                       task_serializer="json", accept_content=["json"])
    return client


def real_jobs_end_done(stack, seconds: float = 1.0) -> None:
    nums = [stack.submit("rabbitmq", seconds).json()["task_nums"][0],
            stack.post("/api/tasks", method="rabbitmq", seconds=seconds, queue_type="quorum").json()["task_nums"][0],
            stack.submit("celery", seconds).json()["task_nums"][0]]
    rows = stack.wait_finished(nums, seconds + 15)
    assert [rows[n]["task_status"] for n in nums] == ["DONE"] * 3, rows


@pytest.fixture
def lab(stack):
    stack.start_api()
    workers = [stack.start_consumer(), stack.start_consumer("quorum", CONSUMER_QUEUE_TYPE="quorum"),
               stack.start_celery_worker()]
    yield stack, workers


@settings(max_examples=2, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(raw=st.lists(bodies, min_size=25, max_size=25), calls=st.lists(celery_args, min_size=10, max_size=10))
def test_whatever_a_stranger_publishes_every_worker_goes_on_and_real_jobs_end_done(lab, broker, raw, calls):
    stack, workers = lab
    layout = queue_layout(stack.env["RAW_QUEUE"], stack.env["CELERY_QUEUE"])
    for body in raw:  # every queue a worker reads
        for queue in (layout.raw.work, layout.quorum.work, layout.quorum.dead, layout.celery):
            publish(broker, queue, body)
    client = celery_app_of(stack)
    for args in calls:
        client.send_task("process_task", args=args)
    client.close()
    real_jobs_end_done(stack)
    assert all(worker.proc.poll() is None for worker in workers), stack.logs()
    consumer, quorum, _celery = workers
    assert consumer.log().count(" waiting for messages") == 1  # never restarted
    assert quorum.log().count(" waiting for messages") == 1
    # Every message that breaks the contract is parked with its reason; one that happens to be a
    # valid job is parked too ("no such job") or skipped (its row has ended): none ran.
    parked = dead_letters(broker, layout.raw.dead)
    reasons = collections.Counter(body for body, headers in parked
                                  if headers.get("queue-lab-reason", "").startswith("not a job"))
    assert reasons == collections.Counter(body for body in raw if not is_a_job(body))
    assert all(headers.get("queue-lab-reason") for _, headers in parked) and len(parked) <= len(raw)


def test_a_refused_message_says_why_in_its_headers_and_one_line(lab, broker):
    stack, (consumer, quorum, _) = lab
    layout = queue_layout(stack.env["RAW_QUEUE"], stack.env["CELERY_QUEUE"])
    cases = {b'{"task_num": 1, "seconds": 1e12}': ("seconds", "seconds must be from 0 to 300"),
             b"[1, 2, 3]": ("body", "the message must be a JSON object, got [1, 2, 3]"),
             b'{"task_num": 1, "seconds": 2, "poison": true}': ("poison", "poison applies to the quorum queue only"),
             b"\xff": ("body", "not UTF-8")}
    for body in cases:
        publish(broker, layout.raw.work, body)
    publish(broker, layout.quorum.work, b'"hello"')
    wait_until(lambda: consumer.log().count(" [!] Refused") == len(cases), 15, what="the refusals")
    parked = dict(dead_letters(broker, layout.raw.dead))
    for body, (field, words) in cases.items():
        assert parked[body]["queue-lab-field"] == field and words in parked[body]["queue-lab-reason"]
    # the quorum consumer parks in .quorum.parked: it reads .quorum.dead itself, and would take it back
    wait_until(lambda: dead_letters(broker, layout.quorum.parked), 15, what="the quorum refusal parked")


def test_a_job_the_table_never_held_never_runs_and_a_finished_one_never_runs_again(lab, broker):
    stack, (consumer, _quorum, celery) = lab
    layout = queue_layout(stack.env["RAW_QUEUE"], stack.env["CELERY_QUEUE"])
    done = [stack.submit(method, 0).json()["task_nums"][0] for method in ("rabbitmq", "celery")]
    stack.wait_finished(done, 15)
    # each would hold the only worker of its kind for 30-40 s if it ran
    publish(broker, layout.raw.work, encoded({"task_num": 999999, "seconds": 30}))
    publish(broker, layout.raw.work, encoded({"task_num": done[0], "seconds": 40}))
    client = celery_app_of(stack)
    client.send_task("process_task", args=[999999, 30])
    client.send_task("process_task", args=[done[1], 40])
    client.close()
    started = time.monotonic()
    real_jobs_end_done(stack, seconds=1)
    assert time.monotonic() - started < 15  # nobody sat out 30 s of a job that is not the table's
    assert "no such job: the table holds no job 999999" in consumer.log()
    assert f"Skipped #{done[0]}: already DONE" in consumer.log()
    assert "no such job" in celery.log() and f"skipped process_task #{done[1]}: already DONE" in celery.log()
    (parked,) = dead_letters(broker, layout.raw.dead)
    assert json.loads(parked[0])["task_num"] == 999999 and "no such job" in parked[1]["queue-lab-reason"]
    rows = stack.tasks(done)
    assert all(rows[n]["task_status"] == "DONE" and rows[n]["attempt"] == 1 for n in done)  # untouched


def test_a_bad_message_for_a_waiting_job_ends_its_row_error_with_the_reason(lab, broker):
    stack, _ = lab
    layout = queue_layout(stack.env["RAW_QUEUE"], stack.env["CELERY_QUEUE"])
    answer = stack.post("/api/tasks", method="rabbitmq", seconds=1, publish=False).json()
    (num,) = answer["task_nums"]
    publish(broker, layout.raw.work, encoded({"task_num": num, "seconds": "soon"}))
    (row,) = stack.wait_finished([num], 15).values()
    assert row["task_status"] == "ERROR" and "seconds must be a number from 0 to 300" in row["error"]


def test_a_students_own_producer_makes_a_real_job(lab, broker):
    """`publish: false` writes the row PENDING and hands out the number; the student sends it."""
    stack, _ = lab
    raw = stack.post("/api/tasks", method="rabbitmq", seconds=1, publish=False)
    assert raw.status_code == 201
    (message,) = raw.json()["messages"]
    assert message["queue"] == stack.env["RAW_QUEUE"] and message["body"]["task_num"] == raw.json()["task_nums"][0]
    by_name = stack.post("/api/tasks", method="celery", seconds=1, publish=False).json()["messages"][0]
    assert by_name["task"] == "process_task" and by_name["queue"] == stack.env["CELERY_QUEUE"]
    nums = [message["task_num"], by_name["task_num"]]
    time.sleep(1.5)
    assert {row["task_status"] for row in stack.tasks(nums).values()} == {"PENDING"}  # nothing was published
    for recipe in (message, by_name):  # the one line the API hands out, run as the student would
        result = subprocess.run(["bash", "-c", recipe["code"].replace("***", "guest")], env=stack.env,
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
    rows = stack.wait_finished(nums, 15)
    assert [rows[n]["task_status"] for n in nums] == ["DONE", "DONE"]
    assert "waiting for your own message" in stack.history(nums[0])[0]["detail"]


@pytest.mark.parametrize("body, field", [({"method": "sync", "seconds": 1, "publish": False}, "publish"),
                                         ({"method": "rabbitmq", "seconds": 1, "publish": False, "delay_s": 5}, "delay_s"),
                                         ({"method": "rabbitmq", "seconds": 1, "publish": "no"}, "publish")])
def test_publish_false_refuses_what_it_cannot_keep(client, body, field):
    response = client.post("/api/tasks", json=body)
    assert response.status_code == 400 and response.json["field"] == field


def test_a_class_reset_empties_every_path_and_nothing_queued_before_it_starts_after(stack, broker):
    import redis

    stack.start_api(CLASS_CONTROLS="everyone")
    celery = stack.start_celery_worker()  # takes countdown tasks at once and holds them
    # no raw consumer: the jobs wait in the queues
    sent = {"rabbitmq": 2, "naive": 1, "quorum": 1, "delayed": 1, "countdown": 1, "celery": 1, "redis": 2}
    stack.post("/api/tasks", method="rabbitmq", seconds=1, count=2)
    stack.post("/api/tasks", method="rabbitmq", seconds=1, consumer="naive")
    stack.post("/api/tasks", method="rabbitmq", seconds=1, queue_type="quorum")
    stack.post("/api/tasks", method="rabbitmq", seconds=1, delay_s=30)
    stack.post("/api/tasks", method="celery", seconds=1, delay_s=8)
    stack.post("/api/tasks", method="celery_redis", seconds=1, count=2)  # no Redis worker: they wait
    busy = stack.post("/api/tasks", method="celery", seconds=20).json()["task_nums"][0]  # it runs meanwhile
    wait_until(lambda: stack.tasks([busy])[busy]["task_status"] == "IN_PROGRESS", 15, what="the running job")
    stack.post("/api/tasks", method="celery", seconds=1)  # waits behind it (prefetch 1: in the queue)
    answer = stack.post("/api/reset").json()
    layout = queue_layout(stack.env["RAW_QUEUE"], stack.env["CELERY_QUEUE"])
    purged = answer["purged"]
    assert purged[layout.raw.work] == sent["rabbitmq"] and purged[layout.naive.work] == sent["naive"]
    assert purged[layout.quorum.work] == sent["quorum"] and purged[layout.raw.delay] == sent["delayed"]
    # the job behind the running one is in the queue, or already reserved by the worker: either way gone
    assert purged[layout.celery] + answer["revoked"]["celery"] == sent["celery"] + sent["countdown"]
    assert answer["revoked"]["celery"] >= sent["countdown"]
    assert purged[f"redis:{layout.celery}"] == sent["redis"]
    assert answer["errors"] == {} and answer["deleted_jobs"] == sum(sent.values()) + 1
    assert layout.maintenance not in purged  # the sweeper's queue holds no student's job
    # The running job stops within a step: its row is gone. Then nothing queued before starts.
    wait_until(lambda: "skipped process_task" in celery.log(), 10, what="the running job to stop")
    time.sleep(9)  # past the countdown's due time
    assert stack.session.get(stack.base_url + "/api/tasks").json()["tasks"] == []
    assert "revoked" in celery.log().lower()
    client = redis.Redis.from_url(stack.env.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    assert client.llen(layout.celery) == 0
    client.close()


def test_a_reset_revokes_only_what_came_from_its_own_queues(stack):
    """Celery's control broadcast reaches every worker on the vhost: another class's reset (here,
    one for other queues) must not revoke this class's countdown task, which then runs DONE."""
    from api.class_reset import revoke_held_tasks

    stack.start_api()
    stack.start_celery_worker()
    (num,) = stack.post("/api/tasks", method="celery", seconds=0, delay_s=4).json()["task_nums"]
    client = celery_app_of(stack)
    def held_here():
        answer = client.control.inspect(timeout=1).scheduled() or {}
        return any(task["request"]["delivery_info"]["routing_key"] == stack.env["CELERY_QUEUE"]
                   for tasks in answer.values() for task in tasks)

    wait_until(held_here, 10, what="the countdown task held by this class's worker")
    assert revoke_held_tasks(client, {f"{stack.env['CELERY_QUEUE']}.another-class"}) == 0
    client.close()
    assert stack.wait_finished([num], 20)[num]["task_status"] == "DONE"
