"""The concurrency lesson (docs/concurrency.md): a Celery worker's pool processes (`--concurrency N`,
grown and shrunk live with pool_grow / pool_shrink), its prefetch (processes × multiplier, changed
live by this lab's remote command) and what it holds unacked, told by its main process — on the real
broker with real Celery workers. Times are never asserted: only what overlapped, and what was held."""
import pytest

from ops.stack import wait_until


@pytest.mark.parametrize("body, field", [
    ({}, "processes"),
    ({"processes": 0}, "processes"),
    ({"processes": 9}, "processes"),
    ({"processes": "4"}, "processes"),
    ({"processes": True}, "processes"),
    ({"processes": 2.5}, "processes"),
    ({"prefetch_multiplier": 0}, "prefetch_multiplier"),
    ({"prefetch_multiplier": 17}, "prefetch_multiplier"),
    ({"processes": 2, "threads": 4}, "threads"),
])
def test_a_bad_setting_is_refused_400_naming_its_field(client, auth, body, field):
    answer = client.post("/api/experiments/concurrency", json=body, headers=auth)
    assert answer.status_code == 400, answer.json
    assert answer.json["field"] == field, answer.json


def node_of(stack) -> dict | None:
    workers = stack.session.get(stack.base_url + "/api/workers", timeout=5).json()["workers"]
    nodes = [w for w in workers if w["kind"] == "celery_node" and w["online"]]
    return nodes[0] if len(nodes) == 1 else None


def processes_of(stack, node: str) -> list[dict]:
    workers = stack.session.get(stack.base_url + "/api/workers", timeout=5).json()["workers"]
    return [w for w in workers if w["kind"] == "celery" and w["online"] and w["profile"].get("node") == node]


def node_says(stack, **facts):
    """The node's heartbeat, once it says every one of `facts`."""
    node = node_of(stack)
    return node if node and all(node["profile"].get(k) == v for k, v in facts.items()) else None


@pytest.mark.broker
def test_a_worker_started_with_concurrency_says_its_processes_and_prefetch(stack):
    stack.env.update(WORKER_HEARTBEAT_S="0.5")
    stack.start_api()
    stack.start_celery_worker("celery", CELERY_CONCURRENCY="2", CELERY_PREFETCH_MULTIPLIER="3")
    node = wait_until(lambda: node_says(stack, processes=2, prefetch_count=6, prefetch_multiplier=3), 30, 0.3,
                      what="the worker to announce 2 processes, prefetch 6")
    assert node["prefetch"] == 6  # the flow diagram's field, the same fact
    wait_until(lambda: len(processes_of(stack, node["profile"]["node"])) == 2, 20, 0.3, what="its 2 processes")


@pytest.mark.broker
def test_the_pool_and_the_prefetch_change_live_and_the_worker_holds_what_they_allow(stack):
    stack.env.update(WORKER_HEARTBEAT_S="0.5")
    stack.start_api()
    stack.start_celery_worker("celery")
    node = wait_until(lambda: node_says(stack, processes=1, prefetch_count=1), 30, 0.3, what="one process")["profile"]["node"]

    answer = stack.post("/api/experiments/concurrency", processes=3, prefetch_multiplier=2)
    assert answer.status_code == 200, answer.text
    assert answer.json()["workers"] == {node: {"processes_before": 1, "processes": 3, "prefetch_multiplier": 2}}
    wait_until(lambda: node_says(stack, processes=3, prefetch_count=6, prefetch_multiplier=2), 30, 0.3,
               what="3 processes, prefetch 6 = 3 × 2")
    wait_until(lambda: len(processes_of(stack, node)) == 3, 20, 0.3, what="3 pool processes online")

    nums = stack.submit("celery", seconds=3, count=8).json()["task_nums"]
    held = wait_until(lambda: node_says(stack, running=3, reserved=3), 30, 0.2,
                      what="the worker to hold 3 running + 3 waiting (prefetch 6)")
    assert held["profile"]["prefetch_count"] == 6
    rows = stack.wait_finished(nums, 90)
    assert {r["task_status"] for r in rows.values()} == {"DONE"}
    first = sorted(rows.values(), key=lambda r: r["started_at"])[:3]
    assert len({r["worker_id"] for r in first}) == 3  # three processes of one worker...
    assert max(r["started_at"] for r in first) < min(r["finished_at"] for r in first)  # ...at the same time

    answer = stack.post("/api/experiments/concurrency", processes=1)
    assert answer.status_code == 200, answer.text
    wait_until(lambda: node_says(stack, processes=1, prefetch_count=2), 30, 0.3,
               what="1 process, prefetch 2 = 1 × 2 (the multiplier stays)")


@pytest.mark.broker
def test_no_celery_worker_is_a_409_that_says_so(stack):
    stack.start_api()
    answer = stack.post("/api/experiments/concurrency", processes=2)
    assert answer.status_code == 409, answer.text
    assert "no Celery worker" in answer.json()["error"]


@pytest.mark.broker
def test_a_pool_shrinks_by_its_idle_processes_only_and_says_so_when_all_are_busy(stack):
    stack.env.update(WORKER_HEARTBEAT_S="0.5")
    stack.start_api()
    stack.start_celery_worker("celery", CELERY_CONCURRENCY="2")
    wait_until(lambda: node_says(stack, processes=2), 30, 0.3, what="2 processes")
    nums = stack.submit("celery", seconds=4, count=2).json()["task_nums"]
    wait_until(lambda: node_says(stack, running=2), 30, 0.2, what="both processes busy")
    refused = stack.post("/api/experiments/concurrency", processes=1)
    assert refused.status_code == 200, refused.text
    (told,) = refused.json()["workers"].values()
    assert "busy" in told["refused"] and "processes" not in told, told  # Celery's own words, not a pretence
    stack.wait_finished(nums, 60)
    again = stack.post("/api/experiments/concurrency", processes=1)
    (told,) = again.json()["workers"].values()
    assert told == {"processes_before": 2, "processes": 1}, told
    wait_until(lambda: node_says(stack, processes=1, prefetch_count=1), 30, 0.3, what="1 process, prefetch 1")
