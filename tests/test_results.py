"""Results back, Celery's way (issue 22): a job sent with keep_result keeps its result in Celery's
backend — rpc:// on RabbitMQ, a key on Redis — and GET /api/tasks/<n>/celery-result reads it with one
poll of AsyncResult, never `.get()`. On the real broker, the real Redis and real gunicorn processes:
a rpc:// result is seen only by the API process that sent the task (the others say PENDING, and why);
a Redis result by every process; a fire-and-forget job has no Celery state at all."""
from __future__ import annotations

import collections
import json

import pytest
import requests

from ops.stack import wait_until
from tests.helpers import REDIS_URL

pytestmark = pytest.mark.broker


def ask(stack, num: int) -> dict:
    """A fresh connection each time, so gunicorn's processes take turns answering."""
    answer = requests.get(f"{stack.base_url}/api/tasks/{num}/celery-result", headers={"Connection": "close"}, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()


def asked_many_times(stack, num: int, times: int = 24) -> collections.Counter:
    return collections.Counter((a["state"], a["result"], a["asked"] == a["sent_by"], a["reason"] != "")
                               for a in (ask(stack, num) for _ in range(times)))


def test_a_rpc_result_goes_back_only_to_the_api_process_that_sent_the_task(stack):
    stack.start_api()  # two gunicorn processes (API_WORKERS=2)
    stack.start_celery_worker()
    sent = stack.post("/api/tasks", method="celery", seconds=0.2, keep_result=True)
    assert sent.status_code == 202, sent.text
    num = sent.json()["task_nums"][0]
    row = stack.wait_finished([num], 30)[num]
    assert (row["task_status"], row["result"], row["result_backend"]) == ("DONE", num * (num + 1) // 2, "rpc://")
    assert row["result_client"].startswith("api-")
    seen = asked_many_times(stack, num)
    # The sender reads SUCCESS and the value; the other process is told PENDING, and why.
    assert seen[("SUCCESS", row["result"], True, True)] > 0, seen
    assert set(seen) <= {("SUCCESS", row["result"], True, True), ("PENDING", None, False, True)}, seen
    assert seen[("PENDING", None, False, True)] > 0, seen  # 24 fresh connections reach both processes


def test_a_redis_result_is_a_key_every_api_process_reads(stack, redis_keys):
    client = redis_keys
    stack.start_api(REDIS_URL=REDIS_URL)
    stack.start_celery_worker("celery-redis", CELERY_BROKER_KIND="redis", REDIS_URL=REDIS_URL)
    num = stack.post("/api/tasks", method="celery_redis", seconds=0.2, keep_result=True).json()["task_nums"][0]
    row = stack.wait_finished([num], 30)[num]
    try:
        assert row["result_backend"] == "redis" and row["result_client"] is None
        assert client.ttl(f"celery-task-meta-{row['celery_id']}") > 0  # it expires (result_expires)
        assert set(asked_many_times(stack, num, 8)) == {("SUCCESS", row["result"], False, True)}
    finally:
        client.delete(f"celery-task-meta-{row['celery_id']}")


def test_a_fire_and_forget_job_has_no_celery_state_and_other_jobs_are_refused_by_name(stack):
    stack.start_api()
    stack.start_celery_worker()
    stack.start_consumer()
    plain = stack.submit("celery", 0).json()["task_nums"][0]
    raw = stack.submit("rabbitmq", 0).json()["task_nums"][0]
    stack.wait_finished([plain, raw], 30)
    answer = ask(stack, plain)
    assert (answer["backend"], answer["state"], answer["table"]["task_status"]) == (None, "PENDING", "DONE")
    assert "keeps no state" in answer["reason"]
    refused = stack.session.get(f"{stack.base_url}/api/tasks/{raw}/celery-result", timeout=5)
    assert (refused.status_code, refused.json()["field"]) == (400, "task_num")
    assert stack.session.get(f"{stack.base_url}/api/tasks/999999/celery-result", timeout=5).status_code == 404
    for body in ({"method": "rabbitmq", "seconds": 0, "keep_result": True},
                 {"method": "celery", "seconds": 0, "keep_result": True, "publish": False},
                 {"method": "celery", "seconds": 0, "keep_result": "yes"}):
        answer = stack.post("/api/tasks", **body)
        assert (answer.status_code, answer.json()["field"]) == (400, "keep_result"), (body, answer.text)


@pytest.mark.browser
def test_on_the_page_keep_the_result_or_ask_for_a_reply_then_read_it_on_the_done_row(stack, page):
    stack.start_api()
    stack.start_celery_worker()
    page.goto(stack.base_url + "/")
    form = page.locator('form[data-method="celery"]')
    form.locator("details.fault-options > summary").click()
    form.locator('input[name="keep_result"]').check()
    assert "result kept by Celery" in form.locator('[data-role="fault-summary"]').inner_text()
    form.locator('input[name="seconds"]').fill("0.3")
    form.locator('button[type="submit"]').click()
    row = page.locator('tr[data-task-num][data-status="DONE"]')
    row.wait_for(timeout=20_000)
    num = int(row.get_attribute("data-task-num"))
    assert stack.tasks([num])[num]["result_backend"] == "rpc://"
    row.locator('button[data-action="ask-celery"]').click()
    note = row.locator(".row-note")
    page.wait_for_function("document.querySelector('tr[data-task-num] .row-note').textContent.startsWith('Celery:')",
                           timeout=10_000)
    text = note.inner_text()
    # whichever API process answered: the sender reads the value, another one says why it cannot
    assert text.startswith(f"Celery: SUCCESS · {num * (num + 1) // 2} — read from rpc://") or \
        ("Celery: PENDING" in text and "sent the result to the API process that sent the task" in text), text
    profile = page.locator('#workers [data-kind="celery"] .profile')
    assert "results: rpc://" in profile.inner_text()  # the workers panel states the backend

    # The same by hand: ask for a reply, then collect it from the DONE row.
    stack.start_consumer()
    raw = page.locator('form[data-method="rabbitmq"]')
    raw.locator("details.fault-options > summary").click()
    raw.locator('input[name="reply"]').check()
    raw.locator('input[name="seconds"]').fill("0.3")
    raw.locator('button[type="submit"]').click()
    raw_row = page.locator('tr[data-task-num][data-method="rabbitmq"][data-status="DONE"]')
    raw_row.wait_for(timeout=20_000)
    raw_num = int(raw_row.get_attribute("data-task-num"))
    raw_row.locator('button[data-action="ask-reply"]').click()
    page.wait_for_function("document.querySelector('tr[data-method=\"rabbitmq\"] .row-note').textContent.startsWith('reply:')",
                           timeout=10_000)
    assert raw_row.locator(".row-note").inner_text().startswith(f"reply: {raw_num * (raw_num + 1) // 2} from ")
    assert page.errors == []


def test_rpc_by_hand_the_consumer_replies_to_reply_to_and_any_api_process_files_it(stack, broker, queues):
    """RabbitMQ tutorial 6: the message carries reply_to (our replies queue) and a correlation_id; the
    consumer publishes its answer there; whichever API process is asked collects every reply waiting
    and files it on its row — so, unlike rpc://, every process sees it. A stranger's reply_to (a queue
    that does not exist) neither stops the consumer nor the job."""
    import pika

    from queue_lab.queues import queue_layout

    stack.start_api()
    consumer = stack.start_consumer()
    sent = stack.post("/api/tasks", method="rabbitmq", seconds=0.2, count=3, reply=True)
    assert sent.status_code == 202, sent.text
    nums = sent.json()["task_nums"]
    rows = stack.wait_finished(nums, 30)
    assert all(rows[n]["reply_id"].startswith(f"job-{n}-") for n in nums)
    for num in nums:  # fresh connections: either gunicorn process may answer, and both know
        answer = requests.get(f"{stack.base_url}/api/tasks/{num}/reply", headers={"Connection": "close"}, timeout=10)
        assert answer.status_code == 200, answer.text
        reply = answer.json()["reply"]
        assert reply == {"task_num": num, "result": num * (num + 1) // 2, "attempt": 1,
                         "worker_id": rows[num]["worker_id"]}, answer.json()
    # A stranger asks for a reply to nowhere: the consumer says so and goes on.
    layout = queue_layout(queues["RAW_QUEUE"], queues["CELERY_QUEUE"])
    [message] = stack.post("/api/tasks", method="rabbitmq", seconds=0, publish=False).json()["messages"]
    connection = pika.BlockingConnection(broker)
    connection.channel().basic_publish("", layout.raw.work, json.dumps(message["body"]).encode(),
                                       pika.BasicProperties(reply_to="no-such-queue", correlation_id="c"))
    connection.close()
    stack.wait_finished([message["task_num"]], 20)
    next_job = stack.submit("rabbitmq", 0).json()["task_nums"][0]
    assert stack.wait_finished([next_job], 20)[next_job]["task_status"] == "DONE"
    # the default exchange drops a reply to a queue that does not exist: published, lost, harmless
    assert f"Replied #{message['task_num']} to no-such-queue" in consumer.log() and consumer.proc.poll() is None
    refused = stack.session.get(f"{stack.base_url}/api/tasks/{next_job}/reply", timeout=5)
    assert (refused.status_code, refused.json()["field"]) == (400, "task_num")  # it asked for no reply
    for body in ({"method": "celery", "seconds": 0, "reply": True},
                 {"method": "rabbitmq", "seconds": 0, "reply": True, "publish": False}):
        answer = stack.post("/api/tasks", **body)
        assert (answer.status_code, answer.json()["field"]) == (400, "reply"), (body, answer.text)


# ---------- the traps (fault-lab cards "get-in-task", "rpc-once", "result-expiry", "results-pile-up")

def unread(stack) -> dict:
    answer = stack.session.get(f"{stack.base_url}/api/results/unread", timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_get_inside_a_task_is_refused_by_celery_in_its_own_words_and_the_row_ends_error(stack):
    stack.start_api()
    stack.start_celery_worker()
    sent = stack.post("/api/tasks", method="celery", seconds=1, get_in_task=True)
    assert sent.status_code == 202, sent.text
    num = sent.json()["task_nums"][0]
    row = stack.wait_finished([num], 30)[num]
    assert row["task_status"] == "ERROR" and row["result"] is None
    assert row["error"].startswith("Celery refused .get() inside a task: Never call result.get() within a task!"), row
    plain = stack.submit("celery", 0).json()["task_nums"][0]  # the worker goes on
    assert stack.wait_finished([plain], 20)[plain]["task_status"] == "DONE"
    for body in ({"method": "rabbitmq", "seconds": 0, "get_in_task": True},
                 {"method": "sync", "seconds": 0, "get_in_task": True},
                 {"method": "celery", "seconds": 0, "get_in_task": True, "publish": False},
                 {"method": "celery", "seconds": 0, "get_in_task": 1}):
        answer = stack.post("/api/tasks", **body)
        assert (answer.status_code, answer.json()["field"]) == (400, "get_in_task"), (body, answer.text)


def test_unread_rpc_results_wait_in_the_senders_reply_queue_and_the_first_read_takes_them_all(stack, broker):
    import pika

    stack.start_api(API_WORKERS="1")  # one process: every answer comes from the sender
    stack.start_celery_worker()
    assert unread(stack)["rpc"] is None  # nothing kept yet
    nums = stack.post("/api/tasks", method="celery", seconds=0, count=3, keep_result=True).json()["task_nums"]
    stack.wait_finished(nums, 30)
    queue = unread(stack)["rpc"]["queue"]  # this process's reply queue: its results thread's oid
    try:
        waiting = wait_until(lambda: (found := unread(stack)["rpc"]) and found["ready"] == 3 and found, 15, 0.3,
                             "three results in the reply queue")
        assert waiting["sent"] == 3 and waiting["expires_after_s"] == 3600  # the queue's x-expires, in s
        assert ask(stack, nums[0])["state"] == "SUCCESS"
        assert unread(stack)["rpc"]["ready"] == 0  # the first read took every result off the broker...
        for num in nums:  # ...and this process keeps them in memory: each still reads SUCCESS here
            answer = ask(stack, num)
            assert (answer["state"], answer["result"]) == ("SUCCESS", num * (num + 1) // 2), answer
    finally:
        connection = pika.BlockingConnection(broker)
        connection.channel().queue_delete(queue)  # the shared broker keeps no queue of ours
        connection.close()


def test_redis_results_pile_up_as_keys_until_result_expires_then_celery_says_pending(stack, redis_keys):
    client = redis_keys
    short = {"REDIS_URL": REDIS_URL, "RESULT_EXPIRES_S": "4"}
    stack.start_api(**short)
    stack.start_celery_worker("celery-redis", CELERY_BROKER_KIND="redis", **short)
    nums = stack.post("/api/tasks", method="celery_redis", seconds=0, count=2, keep_result=True).json()["task_nums"]
    rows = stack.wait_finished(nums, 30)
    try:
        held = unread(stack)["redis"]
        assert (held["keys"], held["kept"], held["pattern"]) == (2, 2, "celery-task-meta-*"), held
        answer = ask(stack, nums[0])
        assert answer["state"] == "SUCCESS" and 0 < answer["expires_in_s"] <= 4, answer
        wait_until(lambda: unread(stack)["redis"]["keys"] == 0, 10, 0.5, "the keys to expire")
        gone = ask(stack, nums[0])
        assert (gone["state"], gone["expires_in_s"], gone["table"]["task_status"]) == ("PENDING", None, "DONE")
        assert "expired (result_expires = 4 s)" in gone["reason"], gone
    finally:
        client.delete(*(f"celery-task-meta-{row['celery_id']}" for row in rows.values()))
