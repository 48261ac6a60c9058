"""Who may do what: writes take JSON only (no cross-site form can trigger one), and CLASS_CONTROLS
decides who may kill a worker, close the broker's connections or reset the class."""
import signal

import pika
import pytest

from ops.stack import free_port, wait_until
from tests.helpers import TOKEN

CLASS_WIDE = [("/api/experiments/kill-worker", {"task_num": 1}), ("/api/experiments/close-connections", {}),
              ("/api/reset", {})]


@pytest.fixture
def lab_app(make_app):
    """An app whose broker and management API are closed ports: closing connections on the real
    management API would hit the shared broker."""
    return lambda **settings: make_app(management_url=f"http://127.0.0.1:{free_port()}",
                                       rabbitmq_url=f"amqp://guest:guest@127.0.0.1:{free_port()}/", **settings)


def writes(app) -> list[str]:
    return sorted(rule.rule for rule in app.url_map.iter_rules() if rule.methods & {"POST", "PUT", "PATCH", "DELETE"})


NOT_JSON = {
    "form": {"data": {"task_num": "1", "method": "celery", "seconds": "1"}},
    "multipart": {"data": {"task_num": "1"}, "content_type": "multipart/form-data"},
    "text/plain": {"data": '{"task_num": 1, "method": "celery", "seconds": 1}', "content_type": "text/plain"},
    "no type": {"data": '{"task_num": 1}'},
}


@pytest.mark.parametrize("kind", NOT_JSON)
def test_every_write_refuses_anything_but_json_and_changes_nothing(lab_app, kind):
    app = lab_app()
    client, store = app.test_client(), app.extensions["queue_lab"].store
    paths = writes(app)
    assert {"/api/tasks", "/update_task_status_api/", "/api/workers/heartbeat", "/api/maintenance/sweep",
            "/api/reset", "/api/race", "/api/experiments/kill-worker",
            "/api/experiments/close-connections"} <= set(paths)  # every one of them, not a sample
    store.create("celery", 1, False, 1)
    before = (store.current_seq(), store.get(1))
    for path in paths:
        response = client.post(path, headers={"Authorization": f"Bearer {TOKEN}"}, **NOT_JSON[kind])
        assert response.status_code == 415, (path, response.json)
        assert response.json["field"] == "Content-Type" and "application/json" in response.json["error"]
    assert (store.current_seq(), store.get(1)) == before
    assert app.extensions["queue_lab"].workers.listing() == []


def test_a_json_write_that_needs_no_body_may_send_none(lab_app):
    client = lab_app().test_client()
    answer = client.post("/api/maintenance/sweep", content_type="application/json",
                         headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200 and answer.json == {"lost": [], "pruned": 0}


@pytest.mark.parametrize("path, body", CLASS_WIDE)
def test_in_instructor_mode_class_wide_controls_need_the_token(lab_app, path, body):
    client = lab_app(class_controls="instructor", instructor_token="teach").test_client()
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Bearer {TOKEN}"}):
        refused = client.post(path, json=body, headers=headers)
        assert refused.status_code == 403, refused.json
        assert "only the instructor may do this" in refused.json["error"]
    # With it, the control runs: here it then fails for reasons of its own (no job 1, no broker)
    allowed = client.post(path, json=body, headers={"Authorization": "Bearer teach"})
    assert allowed.status_code in (404, 503), allowed.json


@pytest.mark.parametrize("path, body", CLASS_WIDE)
def test_by_default_everyone_may_use_them(lab_app, path, body):
    answer = lab_app().test_client().post(path, json=body)
    assert answer.status_code in (404, 503), answer.json  # past the check, failing on its own


def test_the_page_asks_whether_its_token_is_the_instructors(lab_app, tmp_path):
    client = lab_app(class_controls="instructor", instructor_token="teach").test_client()
    assert client.get("/api/class-controls").json == {
        "mode": "instructor", "allowed": False, "token_set": True,
        "reason": client.get("/api/class-controls").json["reason"]}
    assert client.get("/api/class-controls", headers={"Authorization": "Bearer teach"}).json["allowed"]
    assert 'data-mode="instructor"' in client.get("/").text
    everyone = lab_app(database_path=str(tmp_path / "b.sqlite3")).test_client()
    assert everyone.get("/api/class-controls").json["allowed"] and 'data-mode="everyone"' in everyone.get("/").text


# Real processes ------------------------------------------------------------------------------------

@pytest.mark.broker
def test_instructor_mode_with_real_workers(private_vhost, management_api, stack):
    """A student's kill and close-connections do nothing; the instructor's do what they say."""
    _vhost, url = private_vhost
    stack.env.update(RABBITMQ_URL=url, RABBITMQ_MANAGEMENT_URL=management_api)
    stack.start_api(CLASS_CONTROLS="instructor", INSTRUCTOR_TOKEN="teach")
    consumer = stack.start_consumer()
    (num,) = stack.submit("rabbitmq", seconds=20).json()["task_nums"]
    wait_until(lambda: stack.tasks([num])[num]["task_status"] == "IN_PROGRESS", 15, what="the job running")
    teacher = {"Authorization": "Bearer teach"}

    for path, body in (("/api/experiments/kill-worker", {"task_num": num}),
                       ("/api/experiments/close-connections", {})):
        refused = stack.session.post(stack.base_url + path, json=body, timeout=10)
        assert refused.status_code == 403 and "instructor" in refused.json()["error"]
    assert consumer.proc.poll() is None and "lost or could not open" not in consumer.log()

    closed = stack.session.post(stack.base_url + "/api/experiments/close-connections", json={},
                                headers=teacher, timeout=10)
    assert closed.status_code == 200, closed.text
    killed = stack.session.post(stack.base_url + "/api/experiments/kill-worker", json={"task_num": num},
                                headers=teacher, timeout=10)
    assert killed.status_code == 200, killed.text
    assert consumer.proc.wait(10) == -signal.SIGKILL


@pytest.mark.broker
def test_past_the_waiting_cap_nothing_is_queued_and_no_row_is_made(stack, broker, queues):
    stack.start_api(MAX_WAITING_JOBS="5")  # no workers: every job waits
    assert stack.submit("rabbitmq", 1, 3).status_code == 202
    assert stack.submit("celery", 1, 2).status_code == 202
    for attempt in (lambda: stack.submit("rabbitmq", 1, 1), lambda: stack.post("/api/race", count=1)):
        answer = attempt()
        assert answer.status_code == 429 and answer.headers["Retry-After"] == "10"
        assert (answer.json()["waiting"], answer.json()["limit"], answer.json()["field"]) == (5, 5, "count")
        assert "5 jobs are already waiting" in answer.json()["error"]
    assert len(stack.session.get(stack.base_url + "/api/tasks").json()["tasks"]) == 5
    connection = pika.BlockingConnection(broker)
    depth = connection.channel().queue_declare(queues["RAW_QUEUE"], passive=True).method.message_count
    connection.close()
    assert depth == 3
