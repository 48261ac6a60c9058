"""The rate-limits lesson (docs/rate-limits.md): Celery's rate_limit holds per worker (two workers,
twice the rate); the hand-written limit reaches every raw consumer on a fanout exchange, per consumer
or shared by the class — on the real broker, with real consumers and Celery workers.

Timing here is only ever a lower bound (a limit means "no sooner than"), never a speed: a slow
machine makes the gaps longer, not shorter. The API stamps each start as the report arrives, so a
gap may look up to a report's delay shorter than it was: SLACK_S allows for that."""
import threading
import time

import pika
import pytest

from ops.stack import wait_until
from queue_lab.queues import queue_layout
from queue_lab.rate_limit import Limiter, NotALimit, RateLimit

SLACK_S = 0.5


@pytest.mark.parametrize("body, field", [
    (b"not json", "body"),
    (b"[12]", "body"),
    (b'{"per_minute": 0}', "per_minute"),
    (b'{"per_minute": 601}', "per_minute"),
    (b'{"per_minute": "12/m"}', "per_minute"),
    (b'{"per_minute": 12.5}', "per_minute"),
    (b'{"per_minute": 12, "scope": "team"}', "scope"),
    (b'{"per_minute": 12, "celery": true}', "celery"),
    (b"\xff\xfe", "body"),
    (b"{" + b" " * 5000 + b"}", "body"),
])
def test_a_control_message_that_breaks_the_contract_is_refused_naming_the_field(body, field):
    with pytest.raises(NotALimit) as refused:
        RateLimit.from_body(body)
    assert refused.value.field == field


def test_a_limit_for_the_class_is_shared_by_the_consumers_on_the_queue():
    limit = RateLimit.from_body(RateLimit(12, "class").to_body())
    assert limit == RateLimit(12, "class")
    assert limit.interval_s(consumers=1) == 5.0
    assert limit.interval_s(consumers=2) == 10.0  # each consumer's share: 6 a minute
    assert RateLimit(12, "worker").interval_s(consumers=2) == 5.0  # per worker: 12 each, 24 for two
    assert RateLimit.from_body(b'{"per_minute": null}') == RateLimit()


def test_the_limiter_lets_the_first_job_start_at_once_and_spaces_the_next():
    limiter = Limiter()
    assert limiter.wait() == 0.0  # no limit: never waits
    limiter.set(RateLimit(600))  # one every 0.1 s
    before = time.monotonic()
    assert limiter.wait() == 0.0  # a full bucket: the first one at once
    limiter.wait()
    assert time.monotonic() - before >= 0.1


def test_a_job_waiting_for_its_turn_gives_way_to_a_stop():
    limiter = Limiter()
    limiter.set(RateLimit(1))  # one a minute
    limiter.wait()
    stop = threading.Event()
    threading.Timer(0.2, stop.set).start()
    before = time.monotonic()
    assert limiter.wait(stop) is None
    assert time.monotonic() - before < 5  # it did not wait out the minute


@pytest.mark.parametrize("body, field", [
    ({"per_minute": 12}, "method"),
    ({"method": "sync", "per_minute": 12}, "method"),
    ({"method": "rabbitmq"}, "per_minute"),
    ({"method": "rabbitmq", "per_minute": 0}, "per_minute"),
    ({"method": "rabbitmq", "per_minute": True}, "per_minute"),
    ({"method": "rabbitmq", "per_minute": 12, "scope": "everyone"}, "scope"),
    ({"method": "celery", "per_minute": 12, "scope": "class"}, "scope"),
    ({"method": "celery", "per_minute": 12, "queue": "x"}, "queue"),
])
def test_a_bad_limit_is_refused_400_naming_its_field(client, auth, body, field):
    answer = client.post("/api/experiments/rate-limit", json=body, headers=auth)
    assert answer.status_code == 400, answer.json
    assert answer.json["field"] == field, answer.json


def starts_by_worker(rows: dict) -> dict[str, list[float]]:
    starts: dict[str, list[float]] = {}
    for row in rows.values():
        starts.setdefault(row["worker_id"], []).append(row["started_at"])
    return {worker: sorted(times) for worker, times in starts.items()}


def assert_spaced(rows: dict, interval_s: float, workers: int) -> None:
    """Every row DONE, run by `workers` workers, each of which started its jobs `interval_s` apart."""
    assert {row["task_status"] for row in rows.values()} == {"DONE"}, rows
    starts = starts_by_worker(rows)
    assert len(starts) == workers, starts
    for worker, times in starts.items():
        gaps = [later - earlier for earlier, later in zip(times, times[1:])]
        assert gaps and min(gaps) >= interval_s - SLACK_S, (worker, gaps)


def profile_of(stack, kind: str) -> dict[str, dict]:
    workers = stack.session.get(stack.base_url + "/api/workers", timeout=5).json()["workers"]
    return {w["worker_id"]: w["profile"] for w in workers if w["kind"] == kind and w["online"]}


def limits_shown(stack, per_minute, scope, count: int):
    """The workers panel's facts, once every one of `count` consumers reports the limit."""
    profiles = profile_of(stack, "consumer")
    held = [p for p in profiles.values()
            if p.get("rate_limit_per_min") == per_minute and p.get("rate_limit_scope") == scope]
    return profiles if len(profiles) == count and len(held) == count else None


@pytest.mark.broker
def test_the_hand_written_limit_holds_per_consumer_or_for_the_class(stack):
    stack.env.update(WORKER_HEARTBEAT_S="0.5")
    stack.start_api()
    stack.start_consumer("consumer-a")
    stack.start_consumer("consumer-b")

    per_worker = stack.post("/api/experiments/rate-limit", method="rabbitmq", per_minute=30)
    assert per_worker.status_code == 200, per_worker.text
    assert per_worker.json()["exchange"].endswith(".control")
    wait_until(lambda: limits_shown(stack, 30, "worker", 2), 20, 0.2, what="both consumers to hold 30/min")
    nums = stack.submit("rabbitmq", seconds=0.1, count=6).json()["task_nums"]
    assert_spaced(stack.wait_finished(nums, 60), interval_s=2.0, workers=2)  # 30/min each: 60/min for two
    measured = stack.session.get(stack.base_url + "/api/experiments/rate-limit", timeout=5).json()
    assert measured["methods"]["rabbitmq"]["started"] == 6
    assert sorted(measured["methods"]["rabbitmq"]["workers"].values()) == [3, 3]

    shared = stack.post("/api/experiments/rate-limit", method="rabbitmq", per_minute=30, scope="class")
    assert shared.status_code == 200, shared.text
    wait_until(lambda: limits_shown(stack, 30, "class", 2), 20, 0.2, what="both consumers to share 30/min")
    nums = stack.submit("rabbitmq", seconds=0.1, count=4).json()["task_nums"]
    assert_spaced(stack.wait_finished(nums, 60), interval_s=4.0, workers=2)  # 15/min each: 30/min for two

    late = stack.start_consumer("consumer-late")  # started after the setting: it reads Q.control.last
    wait_until(lambda: limits_shown(stack, 30, "class", 3), 20, 0.2, what="the late consumer to hold the limit")
    assert "rate limit: 30/min for the class, shared" in late.log()

    lifted = stack.post("/api/experiments/rate-limit", method="rabbitmq", per_minute=None)
    assert lifted.status_code == 200, lifted.text
    assert sorted(lifted.json()["consumers"]) == sorted(profile_of(stack, "consumer"))
    wait_until(lambda: all("rate_limit_per_min" not in p for p in profile_of(stack, "consumer").values()) or None,
               20, 0.2, what="the consumers to drop the limit")


@pytest.mark.broker
def test_a_strangers_control_message_is_refused_and_the_consumer_goes_on(stack, queues, broker):
    stack.start_api()
    consumer = stack.start_consumer()
    control = queue_layout(queues["RAW_QUEUE"], queues["CELERY_QUEUE"]).control
    connection = pika.BlockingConnection(broker)
    channel = connection.channel()
    for body in (b"slow down please", b'{"per_minute": 1000000}', b'{"per_minute": 1, "scope": "galaxy"}'):
        channel.basic_publish(control, "", body)
    connection.close()
    wait_until(lambda: consumer.log().count("Refused a control message") == 3, 20, 0.2,
               what=f"the consumer to refuse the three (log: {consumer.log_path})")
    assert "per_minute must be from 1 to 600" in consumer.log()
    num = stack.submit("rabbitmq", seconds=0.1).json()["task_nums"][0]
    assert stack.wait_finished([num], 30)[num]["task_status"] == "DONE"
    assert consumer.proc.poll() is None
    assert "rate limit:" not in consumer.log()  # none of them was applied


@pytest.mark.broker
def test_celerys_rate_limit_holds_per_worker_so_two_workers_run_twice_the_rate(stack):
    stack.start_api()
    stack.start_celery_worker("celery-a")
    stack.start_celery_worker("celery-b")

    limited = stack.post("/api/experiments/rate-limit", method="celery", per_minute=30)
    assert limited.status_code == 200, limited.text
    assert [node.split("-")[1] for node in limited.json()["workers"]] == ["a", "b"]
    nums = stack.submit("celery", seconds=0.1, count=6).json()["task_nums"]
    assert_spaced(stack.wait_finished(nums, 60), interval_s=2.0, workers=2)  # 30/min on each worker
    measured = stack.session.get(stack.base_url + "/api/experiments/rate-limit", timeout=5).json()
    assert measured["methods"]["celery"]["started"] == 6 and len(measured["methods"]["celery"]["workers"]) == 2

    lifted = stack.post("/api/experiments/rate-limit", method="celery", per_minute=None)
    assert lifted.status_code == 200, lifted.text


@pytest.mark.broker
def test_celerys_limit_with_no_worker_running_says_so(stack):
    stack.start_api()
    answer = stack.post("/api/experiments/rate-limit", method="celery", per_minute=12)
    assert answer.status_code == 409, answer.text
    assert "no Celery worker of this lab is running" in answer.json()["error"]
