"""Issue 3's backend: workers panel, queue panel, health, class reset — on real processes."""
import collections
import json
import os
import signal
import socket
import subprocess
import sys
import threading

import pytest

from ops.stack import free_port, wait_until
from queue_lab.queues import queue_layout

FAST_WORKER_CLOCK = {"WORKER_HEARTBEAT_S": "0.5", "WORKER_OFFLINE_S": "2", "WORKER_FORGET_S": "6"}


def workers(stack) -> dict[str, dict]:
    answer = stack.session.get(stack.base_url + "/api/workers", timeout=5).json()
    return {w["worker_id"]: w for w in answer["workers"]}


@pytest.mark.broker
def test_all_four_workers_are_listed_with_their_jobs_then_go_offline_and_disappear(stack):
    stack.env.update(FAST_WORKER_CLOCK)
    stack.start_api()
    consumers = [stack.start_consumer(f"consumer{i}") for i in (1, 2)]
    celery_workers = [stack.start_celery_worker(f"celery{i}") for i in (1, 2)]
    nums = stack.submit("rabbitmq", 0.2, 8).json()["task_nums"] + stack.submit("celery", 0.2, 8).json()["task_nums"]
    rows = stack.wait_finished(nums, 60)

    # Each Celery worker is two rows: its main process (celery_node: pool, prefetch, what it holds) and
    # its one pool process (concurrency 1), which runs the jobs.
    listed = wait_until(lambda: (w := workers(stack)) and len(w) == 6 and w, 15, what="6 workers listed")
    assert collections.Counter(w["kind"] for w in listed.values()) == {"consumer": 2, "celery": 2, "celery_node": 2}
    assert all(w["online"] for w in listed.values())
    profiles = {w["kind"]: w["profile"] for w in listed.values()}
    node = profiles["celery"].pop("node")
    held = profiles["celery_node"]  # what it holds changes from beat to beat: only its keys are fixed here
    assert profiles["celery_node"].pop("node").endswith("@" + socket.gethostname())
    assert profiles == {"consumer": {"mode": "threaded", "prefetch": 1, "heartbeat_s": 60},  # facts, worded by the page
                        "celery": {"ack": "late", "prefetch_multiplier": 1, "results": "rpc://"},
                        "celery_node": {"ack": "late", "prefetch_multiplier": 1, "results": "rpc://", "processes": 1,
                                        "prefetch_count": 1, "running": held["running"], "reserved": held["reserved"]}}
    assert node.startswith("celery")
    done_by = collections.Counter(r["worker_id"] for r in rows.values())
    assert {wid: w["jobs_done"] for wid, w in listed.items() if w["kind"] != "celery_node"} == dict(done_by)

    # A clean stop says goodbye: offline at once, then dropped after WORKER_FORGET_S.
    consumers[0].stop()
    gone_id = next(wid for wid, w in listed.items() if w["pid"] == consumers[0].pid)
    assert wait_until(lambda: workers(stack)[gone_id]["online"] is False, 3, what="offline after goodbye")
    wait_until(lambda: gone_id not in workers(stack), 10, what="the stopped worker to be dropped")

    # A killed worker says nothing: offline after WORKER_OFFLINE_S of silence, then dropped.
    pool_pids = {int(p) for p in subprocess.run(["pgrep", "-P", str(celery_workers[0].pid)],
                                                capture_output=True, text=True).stdout.split()}
    killed = [wid for wid, w in workers(stack).items() if w["pid"] in pool_pids]
    assert len(killed) == 1  # the pool process that ran the jobs announced itself
    os.killpg(celery_workers[0].pid, signal.SIGKILL)  # the worker and its pool process, no goodbye
    wait_until(lambda: workers(stack)[killed[0]]["online"] is False, 6, what="offline after silence")
    wait_until(lambda: killed[0] not in workers(stack), 12, what="the killed worker to be dropped")
    assert len([w for w in workers(stack).values() if w["online"] and w["kind"] != "celery_node"]) == 2


@pytest.mark.broker
def test_queue_panel_counts_ready_messages_from_the_management_api(stack, management_api, queues):
    stack.start_api(RABBITMQ_MANAGEMENT_URL=management_api)
    assert stack.submit("rabbitmq", 1, 10).status_code == 202  # no consumer: they wait

    def raw_queue():
        answer = stack.session.get(stack.base_url + "/api/queues", timeout=5).json()
        assert answer["error"] is None, answer["error"]
        return next(q for q in answer["queues"] if q["path"] == "rabbitmq")

    row = wait_until(lambda: (q := raw_queue())["messages_ready"] == 10 and q, 20, 0.5,
                     what="ready to reach 10 (the broker refreshes stats every 5 s)")
    assert row["name"] == queues["RAW_QUEUE"]
    assert (row["messages_unacknowledged"], row["consumers"]) == (0, 0)
    celery = next(q for q in stack.session.get(stack.base_url + "/api/queues").json()["queues"]
                  if q["path"] == "celery")
    assert celery["error"] and "not declared" in celery["error"]


def test_queue_panel_explains_an_unreachable_management_api_in_one_line(make_app, monkeypatch):
    app = make_app(management_url=f"http://127.0.0.1:{free_port()}")
    client = app.test_client()
    response = client.get("/api/queues")
    assert response.status_code == 200
    assert "management API not reachable" in response.json["error"]
    assert "\n" not in response.json["error"]
    assert client.get("/").status_code == 200  # nothing else breaks


@pytest.mark.broker
def test_healthz_200_with_the_broker_and_503_without(stack):
    stack.start_api()
    answer = stack.session.get(stack.base_url + "/healthz").json()
    assert answer["ok"] and answer["broker"]["ok"] and answer["database"]["ok"]


def test_healthz_503_names_the_unreachable_broker(make_app):
    app = make_app(rabbitmq_url=f"amqp://guest:guest@127.0.0.1:{free_port()}/")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert "RabbitMQ is not reachable" in response.json["broker"]["detail"]
    assert response.json["database"]["ok"]
    # the container's check leaves the broker out: the broker has its own (docker-compose.yml)
    live = app.test_client().get("/livez")
    assert live.status_code == 200 and live.json == {"ok": True, "database": response.json["database"]}


@pytest.mark.broker
def test_class_reset_purges_our_queues_and_clears_the_table(stack, queues):
    stack.start_api(CLASS_CONTROLS="instructor", INSTRUCTOR_TOKEN="teach")
    stack.submit("rabbitmq", 1, 5)
    stack.submit("celery", 1, 3)
    epoch = stack.session.get(stack.base_url + "/api/tasks").json()["epoch"]
    url = stack.base_url + "/api/reset"
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        refused = stack.session.post(url, json={}, headers=headers)
        assert refused.status_code == 403 and "instructor" in refused.json()["error"]
    assert len(stack.session.get(stack.base_url + "/api/tasks").json()["tasks"]) == 8  # nothing happened
    answer = stack.session.post(url, json={}, headers={"Authorization": "Bearer teach"})
    assert answer.status_code == 200
    purged = answer.json()["purged"]
    layout = queue_layout(queues["RAW_QUEUE"], queues["CELERY_QUEUE"])
    assert set(purged) == {*layout.students_queues(), f"redis:{layout.celery}", f"redis:{layout.celery_early}",
                           f"redis:{layout.celery}.unacked"}  # every path, on both brokers
    assert (purged[layout.raw.work], purged[layout.celery], answer.json()["deleted_jobs"]) == (5, 3, 8)
    assert sum(purged.values()) == 8
    after = stack.session.get(stack.base_url + "/api/tasks").json()
    assert after["tasks"] == [] and after["epoch"] == epoch + 1


def test_instructor_mode_without_an_instructor_token_says_so(make_app):
    app = make_app(class_controls="instructor", instructor_token="")
    response = app.test_client().post("/api/reset", json={}, headers={"Authorization": "Bearer anything"})
    assert response.status_code == 403
    assert "no INSTRUCTOR_TOKEN is set" in response.json["error"]


@pytest.mark.broker
def test_reset_cli_command(stack, queues):
    stack.start_api()
    stack.submit("rabbitmq", 1, 2)
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "api", "reset"], env=stack.env,
                            capture_output=True, text=True, timeout=60, cwd=stack.env.get("PWD"))
    assert result.returncode == 0, result.stderr
    assert f"purged 2 message(s) from {queues['RAW_QUEUE']}" in result.stdout
    assert "deleted 2 job(s)" in result.stdout


def test_sse_tells_open_pages_about_a_reset(app, client):
    from api.state import lab
    with app.app_context():
        store = lab().store
        store.create("celery", 1, False, 2)
    first = client.get("/api/tasks").json
    response = client.get(f"/api/events?since={first['seq']}", buffered=False)
    later = threading.Timer(0.3, store.reset)
    later.start()
    for chunk in response.response:
        text = chunk.decode() if isinstance(chunk, bytes) else chunk
        if text.startswith("id:"):
            data = json.loads(text.split("data: ", 1)[1])
            break
    response.close()
    later.join()
    assert data["epoch"] == first["epoch"] + 1 and data["tasks"] == []


@pytest.mark.parametrize("body, field", [
    ({"kind": "consumer", "hostname": "h", "pid": 1}, "worker_id"),
    ({"worker_id": "w", "kind": "flower", "hostname": "h", "pid": 1}, "kind"),
    ({"worker_id": "w", "kind": "celery", "pid": 1}, "hostname"),
    ({"worker_id": "w", "kind": "celery", "hostname": "h", "pid": "1"}, "pid"),
    ({"worker_id": "w", "kind": "celery", "hostname": "h", "pid": 0}, "pid"),
    ({"worker_id": "w", "kind": "celery", "hostname": "h", "pid": 1, "leaving": "no"}, "leaving"),
    ({"worker_id": "w", "kind": "celery", "hostname": "h", "pid": 1, "extra": 1}, "extra"),
    # the profile is facts the page words in its language, never a sentence in the worker's
    ({"worker_id": "w", "kind": "celery", "hostname": "h", "pid": 1, "profile": "late ack · prefetch ×1"}, "profile"),
    ({"worker_id": "w", "kind": "celery", "hostname": "h", "pid": 1, "profile": {"ack": "sometimes"}}, "profile.ack"),
    ({"worker_id": "w", "kind": "celery", "hostname": "h", "pid": 1, "profile": {"prefetch": -1}}, "profile.prefetch"),
    ({"worker_id": "w", "kind": "celery", "hostname": "h", "pid": 1, "profile": {"colour": "red"}}, "profile.colour"),
])
def test_heartbeat_rejects_each_bad_field_by_name(client, auth, body, field):
    response = client.post("/api/workers/heartbeat", json=body, headers=auth)
    assert (response.status_code, response.json["field"]) == (400, field)


def test_a_heartbeats_profile_is_kept_as_facts(client, auth):
    body = {"worker_id": "w", "kind": "consumer", "hostname": "h", "pid": 1,
            "profile": {"mode": "naive", "prefetch": 4, "heartbeat_s": 5, "queue_type": "quorum", "delivery_limit": 3}}
    assert client.post("/api/workers/heartbeat", json=body, headers=auth).status_code == 200
    [worker] = client.get("/api/workers").json["workers"]
    assert worker["profile"] == body["profile"]


def test_heartbeat_needs_the_status_token(client):
    body = {"worker_id": "w", "kind": "celery", "hostname": "h", "pid": 1}
    assert client.post("/api/workers/heartbeat", json=body).status_code == 401
