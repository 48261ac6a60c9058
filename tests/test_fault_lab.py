"""The fault lab, one experiment per test: real worker processes on the real broker, asserting what
a student should see. (The page's controls for them are tested in test_browser_fault_lab.py.)"""
import collections
import re
import signal
import subprocess
import sys
import time
from urllib.parse import quote

import pika
import pytest
import requests

from ops.stack import wait_until
from queue_lab import PROJECT_ROOT as PROJECT
from queue_lab.queues import queue_layout
from tests.helpers import TOKEN

pytestmark = pytest.mark.broker

# The sweeper waits for two heartbeats of silence (lost_grace_s): quick ones keep these tests short.
QUICK_SWEEP = {"LOST_AFTER_S": "2", "SWEEP_EVERY_S": "1", "WORKER_HEARTBEAT_S": "1"}


def statuses(stack, num) -> list[str]:
    return [event["task_status"] for event in stack.history(num)]


def wait_running(stack, num, timeout=15):
    return wait_until(lambda: (r := stack.tasks([num])[num])["task_status"] == "IN_PROGRESS"
                      and r["progress"] > 0 and r, timeout, what=f"task {num} running")


def kill_worker_of(stack, num):
    answer = stack.post("/api/experiments/kill-worker", task_num=num)
    assert answer.status_code == 200, answer.text
    return answer.json()


# 1. Kill a worker mid-job ---------------------------------------------------------------------

def test_killed_consumer_mid_job_is_redelivered_as_attempt_2(stack):
    stack.start_api()
    stack.start_consumer("consumer1")
    stack.start_consumer("consumer2")
    (num,) = stack.submit("rabbitmq", seconds=3).json()["task_nums"]
    first = wait_running(stack, num)
    killed = kill_worker_of(stack, num)
    assert killed["worker_id"] == first["worker_id"] and killed["kind"] == "consumer"
    row = stack.wait_finished([num], 30)[num]
    assert (row["task_status"], row["attempt"]) == ("DONE", 2)
    assert row["worker_id"] != first["worker_id"]
    assert statuses(stack, num) == ["PENDING", "IN_PROGRESS", "IN_PROGRESS", "DONE"]


def test_killed_celery_late_ack_worker_redelivers_attempt_2(stack):
    stack.start_api()
    stack.start_celery_worker("late")
    (num,) = stack.submit("celery", seconds=3).json()["task_nums"]
    wait_running(stack, num)
    kill_worker_of(stack, num)  # the pool process; Celery's main process starts a new one
    row = stack.wait_finished([num], 40)[num]
    assert (row["task_status"], row["attempt"]) == ("DONE", 2)


# 2. Lost jobs are named -------------------------------------------------------------------------

def test_killed_celery_early_ack_job_is_named_lost_by_the_sweeper(stack, queues):
    stack.env.update(QUICK_SWEEP)
    stack.start_api()
    stack.start_celery_worker("early", CELERY_ACK_MODE="early")
    stack.start_celery_worker("beat", beat=True, queue=queues["CELERY_QUEUE"] + ".maintenance")
    (num,) = stack.post("/api/tasks", method="celery", seconds=4, celery_ack="early").json()["task_nums"]
    wait_running(stack, num)
    kill_worker_of(stack, num)
    row = wait_until(lambda: (r := stack.tasks([num])[num])["task_status"] == "LOST" and r, 20,
                     what="the sweeper to mark it LOST")
    assert "no report from" in row["error"] and "Acked early" in row["error"]
    time.sleep(6)  # acked early: nothing is redelivered, it stays LOST
    assert stack.tasks([num])[num]["task_status"] == "LOST"


# 3. Retries with backoff -----------------------------------------------------------------------

def test_flaky_jobs_retry_twice_then_succeed_on_both_methods(stack):
    stack.start_api(RETRY_DELAY_S="1")
    stack.start_consumer(RETRY_DELAY_S="1")
    stack.start_celery_worker(RETRY_DELAY_S="1")
    nums = [stack.post("/api/tasks", method=m, seconds=0.4, flaky=2).json()["task_nums"][0]
            for m in ("celery", "rabbitmq")]
    rows = stack.wait_finished(nums, 60)
    for num in nums:
        assert (rows[num]["task_status"], rows[num]["attempt"]) == ("DONE", 3)
        assert statuses(stack, num) == ["PENDING", "IN_PROGRESS", "RETRYING", "IN_PROGRESS",
                                        "RETRYING", "IN_PROGRESS", "DONE"]
        retrying = [e for e in stack.history(num) if e["task_status"] == "RETRYING"]
        assert all("flaky" in e["detail"] for e in retrying)
    # The raw attempt was counted by the broker's x-death (the wait queue's trips); Celery counts its own.
    assert (rows[nums[1]]["counted_by"], rows[nums[1]]["delivery_count"]) == ("x-death", 2)


def test_out_of_attempts_ends_error_and_the_raw_message_is_dead_lettered(stack, broker, queues):
    stack.start_api(RETRY_DELAY_S="0.5")
    stack.start_consumer(RETRY_DELAY_S="0.5")
    stack.start_celery_worker(RETRY_DELAY_S="0.5")
    nums = [stack.post("/api/tasks", method=m, seconds=0, flaky=3).json()["task_nums"][0]
            for m in ("celery", "rabbitmq")]
    rows = stack.wait_finished(nums, 60)
    for num in nums:
        assert rows[num]["task_status"] == "ERROR"
        assert "gave up after 3 attempts" in rows[num]["error"]
        assert rows[num]["attempt"] == 3
    dead_queue = queue_layout(queues["RAW_QUEUE"], queues["CELERY_QUEUE"]).raw.dead
    connection = pika.BlockingConnection(broker)
    channel = connection.channel()
    depth = channel.queue_declare(dead_queue, passive=True).method.message_count
    _, _, body = channel.basic_get(dead_queue, auto_ack=True)
    connection.close()
    assert depth == 1 and f'"task_num": {nums[1]}'.encode() in body


# 3b. Quorum queues: the broker counts deliveries ---------------------------------------------------

def test_a_poison_job_on_the_quorum_queue_is_dead_lettered_past_the_delivery_limit(stack, broker, queues):
    """The poison job crashes its consumer on every delivery (keep_running starts it again, as `make
    run` does). The quorum queue counts each return (x-delivery-count) and, past the limit, moves the
    message to its dead queue by itself; the consumer reports that on the row. Works on RabbitMQ 3.10
    (this machine) as on 4.x: a crashed consumer counts in every version."""
    limit = 2
    stack.start_api(QUORUM_DELIVERY_LIMIT=str(limit))
    consumer = stack.start("quorum-consumer", [sys.executable, "-m", "ops.keep_running", sys.executable, "-m",
                                               "consumer"], CONSUMER_QUEUE_TYPE="quorum", QUORUM_DELIVERY_LIMIT=str(limit))
    wait_until(lambda: "waiting for messages" in consumer.log(), 20, what="the quorum consumer")
    (poison,) = stack.post("/api/tasks", method="rabbitmq", seconds=1, queue_type="quorum",
                           poison=True).json()["task_nums"]
    row = stack.wait_finished([poison], 60)[poison]
    assert row["task_status"] == "ERROR" and "dead-lettered by RabbitMQ" in row["error"], row
    assert (row["attempt"], row["delivery_count"], row["counted_by"]) == (limit + 1, limit, "x-delivery-count")
    assert statuses(stack, poison) == ["PENDING", *["IN_PROGRESS"] * (limit + 1), "ERROR"]
    assert consumer.log().count("the consumer crashes") == limit + 1
    # A plain job on the same queue just runs: the consumer came back each time.
    (plain,) = stack.post("/api/tasks", method="rabbitmq", seconds=0, queue_type="quorum").json()["task_nums"]
    assert stack.wait_finished([plain], 30)[plain]["task_status"] == "DONE"
    connection = pika.BlockingConnection(broker)
    declared = connection.channel().queue_declare(f"{queues['RAW_QUEUE']}.quorum", passive=True)
    connection.close()
    assert declared.method.message_count == 0


# 4. Delayed start --------------------------------------------------------------------------------

def test_delayed_jobs_are_scheduled_and_start_no_earlier_than_due(stack):
    stack.start_api()
    stack.start_consumer()
    stack.start_celery_worker()
    nums = [stack.post("/api/tasks", method=m, seconds=0.2, delay_s=3).json()["task_nums"][0]
            for m in ("celery", "rabbitmq")]
    scheduled = stack.tasks(nums)
    assert {r["task_status"] for r in scheduled.values()} == {"SCHEDULED"}
    rows = stack.wait_finished(nums, 30)
    for num in nums:
        assert rows[num]["task_status"] == "DONE"
        assert rows[num]["started_at"] >= scheduled[num]["due_at"]
        assert scheduled[num]["due_at"] - scheduled[num]["created_at"] == pytest.approx(3, abs=0.01)


# 5. Time limits ---------------------------------------------------------------------------------

def test_time_limits_soft_hard_and_hand_written(stack):
    stack.start_api()
    stack.start_consumer()
    stack.start_celery_worker()
    soft, hard = (stack.post("/api/tasks", method="celery", seconds=6, time_limit_s=1.5,
                             time_limit_kind=kind).json()["task_nums"][0] for kind in ("soft", "hard"))
    raw = stack.post("/api/tasks", method="rabbitmq", seconds=6, time_limit_s=1.5).json()["task_nums"][0]
    rows = stack.wait_finished([soft, hard, raw], 40)
    assert rows[soft]["task_status"] == "ERROR" and "SoftTimeLimitExceeded" in rows[soft]["error"]
    assert rows[hard]["task_status"] == "ERROR" and "hard time limit" in rows[hard]["error"]
    assert rows[raw]["task_status"] == "ERROR" and "1.5 s time limit" in rows[raw]["error"]
    for num in (soft, hard, raw):
        assert rows[num]["progress"] < 50  # stopped early, not at the end


# 6. Prefetch and fairness ------------------------------------------------------------------------

FAIRNESS_BATCH = [2.5, 0.2] * 4  # long, short, long, short...


def long_jobs_per_worker(stack, method, **env):
    starter = stack.start_consumer if method == "rabbitmq" else stack.start_celery_worker
    for i in (1, 2):
        starter(f"{method}-{i}", **env)
    time.sleep(1)  # both consumers registered with the broker before the batch arrives
    nums = [stack.submit(method, seconds=s).json()["task_nums"][0] for s in FAIRNESS_BATCH]
    rows = stack.wait_finished(nums, 60)
    return collections.Counter(rows[n]["worker_id"] for n, s in zip(nums, FAIRNESS_BATCH) if s > 1)


@pytest.mark.parametrize("method, setting", [("rabbitmq", "CONSUMER_PREFETCH"),
                                             ("celery", "CELERY_PREFETCH_MULTIPLIER")])
def test_prefetch_4_hoards_the_long_jobs_on_one_worker_prefetch_1_shares_them(stack, method, setting):
    stack.start_api()
    hoarded = long_jobs_per_worker(stack, method, **{setting: "4"})
    for service in stack.services[1:]:
        service.stop()
    shared = long_jobs_per_worker(stack, method, **{setting: "1"})
    assert sorted(hoarded.values()) == [4], hoarded  # round robin: every long job on one worker
    assert len(shared) == 2, shared  # fair dispatch: both workers ran long jobs


# 7. Heartbeat starvation --------------------------------------------------------------------------

def test_naive_consumer_loses_its_connection_while_the_threaded_one_completes(stack):
    stack.start_api()
    naive = stack.start_consumer("naive", CONSUMER_MODE="naive", CONSUMER_HEARTBEAT="2")
    stack.start_consumer("threaded", CONSUMER_HEARTBEAT="2")
    (starved,) = stack.post("/api/tasks", method="rabbitmq", seconds=7, consumer="naive").json()["task_nums"]
    (fine,) = stack.submit("rabbitmq", seconds=7).json()["task_nums"]
    row = stack.wait_finished([fine], 30)[fine]
    assert (row["task_status"], row["attempt"]) == ("DONE", 1)
    # Its connection died during the job (no heartbeats from inside the callback), so its ack
    # fails and RabbitMQ delivers the job again: as attempt 2 if the job had not finished, or as a
    # counted rerun of a DONE row if it had (the result stands; the duplicate run is shown).
    row = wait_until(lambda: (r := stack.tasks([starved])[starved])["attempt"] >= 2 or r["reruns"] >= 1,
                     30, what="the naive consumer's job to run again")
    assert "lost or could not open the connection" in naive.log()
    assert any("ran again" in (e["detail"] or "") for e in stack.history(starved)) or row["attempt"] >= 2
    stack.services.remove(naive)
    naive.stop(timeout=3)


# 8. Broker outage ---------------------------------------------------------------------------------

def test_after_closing_every_connection_jobs_still_complete(private_vhost, management_api, stack):
    vhost, url = private_vhost
    stack.env.update(RABBITMQ_URL=url, RABBITMQ_MANAGEMENT_URL=management_api)
    stack.start_api()
    consumer = stack.start_consumer()
    worker = stack.start_celery_worker()
    before = [stack.submit(m, seconds=2).json()["task_nums"][0] for m in ("celery", "rabbitmq")]

    def listed():  # the management API lists connections from stats it samples every 5 s
        answer = requests.get(f"{management_api}/api/vhosts/{quote(vhost, safe='')}/connections",
                              auth=("guest", "guest"), timeout=5)
        return len(answer.json()) >= 3
    wait_until(listed, 20, 0.5, what="the management API to list our connections")
    closed = stack.post("/api/experiments/close-connections")
    assert closed.status_code == 200 and closed.json()["closed"] >= 3, closed.text
    wait_until(lambda: "lost or could not open" in consumer.log(), 10, what="the consumer to notice")
    after = [None, None]

    def submitted():  # the API's publisher reconnects on its own too
        for i, m in enumerate(("celery", "rabbitmq")):
            if after[i] is None and (r := stack.submit(m, seconds=0.5)).status_code == 202:
                after[i] = r.json()["task_nums"][0]
        return None not in after
    wait_until(submitted, 20, 1, what="the API to publish again")
    rows = stack.wait_finished(before + after, 60)
    assert {r["task_status"] for r in rows.values()} == {"DONE"}, rows
    assert "Connection to broker lost" in worker.log()  # Celery noticed, and reconnected by itself


# make run: the terminal stays readable -------------------------------------------------------------

def test_the_sweeper_is_quiet_until_it_names_a_job_lost(stack, queues):
    """`make run` shows the workers' tutorial lines: the sweeper's schedule (every SWEEP_EVERY_S)
    prints nothing, unless it finds a job to name LOST."""
    (procfile_line,) = [line for line in (PROJECT / "Procfile").read_text().splitlines()
                        if line.startswith("celery_beat:")]
    loglevel = re.search(r"--loglevel=(\w+)", procfile_line).group(1)
    assert loglevel == "WARNING"
    stack.start_api(**QUICK_SWEEP)
    beat = stack.start_celery_worker("beat", beat=True, queue=f"{queues['CELERY_QUEUE']}.maintenance",
                                     loglevel=loglevel, **QUICK_SWEEP)
    time.sleep(4)  # a few sweeps that find nothing
    quiet = beat.log()
    assert not re.search(r"sweep_lost_jobs|sweeper:|Sending due task|succeeded", quiet), quiet[-500:]
    (num,) = stack.submit("celery", seconds=30).json()["task_nums"]  # no Celery worker: we report for it
    stack.session.post(stack.base_url + "/update_task_status_api/", headers={"Authorization": f"Bearer {TOKEN}"},
                       json={"task_num": num, "task_status": "IN_PROGRESS", "worker_id": "gone-1",
                             "starting": True, "run_id": "r1"})
    wait_until(lambda: f"now LOST: #{num}" in beat.log(), 20, what="the sweeper's one line")
    assert beat.log().count("sweeper:") == 1


# make run: a killed worker comes back ---------------------------------------------------------------

def test_keep_running_restarts_a_killed_worker_and_stops_on_sigterm(stack):
    stack.start_api()
    wrapper = stack.start("wrapped-consumer", [sys.executable, "-m", "ops.keep_running",
                                               sys.executable, "-m", "consumer"])
    wait_until(lambda: "waiting for messages" in wrapper.log(), 20, what="the wrapped consumer")
    (child,) = [int(p) for p in subprocess.run(["pgrep", "-P", str(wrapper.pid)], capture_output=True,
                                               text=True).stdout.split()]
    subprocess.run(["kill", "-9", str(child)], check=True)
    wait_until(lambda: wrapper.log().count("waiting for messages") == 2, 20, what="the restart")
    assert "killed by SIGKILL; starting it again" in wrapper.log()
    (num,) = stack.submit("rabbitmq", seconds=0).json()["task_nums"]
    assert stack.wait_finished([num], 20)[num]["task_status"] == "DONE"
    import os
    os.killpg(wrapper.pid, signal.SIGTERM)  # as honcho stops a process: the whole group
    assert wrapper.proc.wait(15) == 0
