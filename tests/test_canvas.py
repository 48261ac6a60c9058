"""Canvas vs by hand (issue 22, docs/results.md): a chain — each job takes the one before's result —
and a chord — N jobs, then a callback that takes all their results — by Celery (chain on RabbitMQ,
chord on Redis; a chord on rpc:// is refused in Celery's words) and by hand on RabbitMQ (the API
sends each step on when the jobs it follows are DONE). On the real broker, Redis and real workers.
Every job adds what it was passed to its own answer, 1 + 2 + … + n, so each result is checked."""
from __future__ import annotations

import pytest

from queue_lab.timed_job import job_answer
from tests.helpers import REDIS_URL

pytestmark = pytest.mark.broker


def send(stack, **body) -> list[int]:
    answer = stack.post("/api/tasks", **body)
    assert answer.status_code == 202, answer.text
    return answer.json()["task_nums"]


def assert_chain(rows: dict, nums: list[int]) -> None:
    expected = 0
    for i, num in enumerate(nums):
        expected += job_answer(num)
        row = rows[num]
        assert row["task_status"] == "DONE", row
        assert row["follows"] == ([nums[i - 1]] if i else None), row
        assert row["result"] == expected, (num, row["result"], expected)  # its own answer + the one before's


@pytest.mark.parametrize("method", ["celery", "rabbitmq"])
def test_a_chain_passes_each_result_on_and_the_rows_name_their_links(stack, method):
    stack.start_api()
    stack.start_celery_worker() if method == "celery" else stack.start_consumer()
    nums = send(stack, method=method, seconds=0.2, count=3, canvas="chain")
    assert len(nums) == 3
    assert_chain(stack.wait_finished(nums, 40), nums)
    history = stack.history(nums[1])
    assert history[0]["detail"] == f"waits for #{nums[0]} (chain)", history


@pytest.mark.parametrize("method", ["celery", "rabbitmq"])
def test_a_failed_step_stops_the_chain_and_every_later_step_says_why(stack, method):
    stack.start_api()
    stack.start_celery_worker() if method == "celery" else stack.start_consumer()
    nums = send(stack, method=method, seconds=0.2, count=3, fail=True, canvas="chain")
    rows = stack.wait_finished(nums, 40)
    assert [rows[n]["task_status"] for n in nums] == ["ERROR"] * 3
    assert rows[nums[1]]["error"] == f"never sent: job #{nums[0]}, whose result it takes, ended ERROR"
    assert rows[nums[2]]["error"] == f"never sent: job #{nums[1]}, whose result it takes, ended ERROR"


@pytest.mark.parametrize("method", ["celery_redis", "rabbitmq"])
def test_a_chord_calls_back_once_with_every_members_result(stack, redis_keys, method):
    stack.start_api(REDIS_URL=REDIS_URL)
    if method == "rabbitmq":
        stack.start_consumer()
    else:
        stack.start_celery_worker("celery-redis", CELERY_BROKER_KIND="redis", REDIS_URL=REDIS_URL)
    nums = send(stack, method=method, seconds=0.2, count=3, canvas="chord")
    assert len(nums) == 4  # three members and the callback
    rows = stack.wait_finished(nums, 40)
    members, callback = nums[:3], nums[3]
    assert all(rows[n]["task_status"] == "DONE" and rows[n]["follows"] is None for n in members)
    assert rows[callback]["follows"] == members
    assert rows[callback]["result"] == job_answer(callback) + sum(job_answer(n) for n in members)
    assert rows[callback]["attempt"] == 1


def test_a_chord_on_rpc_is_refused_in_celerys_words_and_no_row_is_left_waiting(stack):
    stack.start_api()
    answer = stack.post("/api/tasks", method="celery", seconds=0, count=2, canvas="chord")
    assert (answer.status_code, answer.json()["field"]) == (422, "canvas"), answer.text
    assert 'The "rpc" result backend does not support chords!' in answer.json()["error"]
    nums = answer.json()["task_nums"]
    rows = stack.tasks(nums)
    assert len(nums) == 3 and all(rows[n]["task_status"] == "ERROR" for n in nums)
    assert all(rows[n]["error"].startswith('Celery refused the chord: The "rpc" result backend') for n in nums)

