"""Bad input, tried at scale (hypothesis): generated JSON thrown at the endpoints students and workers
post to never gets a 5xx, and every refusal is JSON naming the field; generated sequences of worker
reports never move progress back within an attempt, nor reopen a finished job.

Unit level: the real app and its real SQLite store, with the three senders replaced by no-ops so a
valid job generated here is stored but neither queued on the shared broker nor run.
"""
from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from ops.stack import free_port
from queue_lab.job_states import FINAL, IN_PROGRESS, PENDING, REPORTABLE, Report, decide
from tests.helpers import TOKEN

# Any JSON document, NaN and ±Infinity included (Python's json writes them and Flask's parser reads them).
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12)
# Values a field might plausibly get, right or wrong: words the API knows, numbers near the edges.
plausible = st.one_of(
    json_values, st.sampled_from(["celery", "rabbitmq", "sync", "soft", "hard", "late", "early", "threaded",
                                  "naive", "", " ", *REPORTABLE, "SCHEDULED", "LOST"]),
    st.integers(-3, 600), st.floats(-1, 400), st.just(2**63))


def objects_with(fields: list[str]):
    """JSON objects whose keys are mostly the endpoint's own fields (and sometimes one it does not know)."""
    return st.dictionaries(st.sampled_from([*fields, "unknown", "Method"]), plausible, max_size=len(fields) + 1)


SUBMISSION = ["method", "seconds", "count", "fail", "flaky", "delay_s", "time_limit_s", "time_limit_kind",
              "celery_ack", "consumer"]
REPORT = ["task_num", "task_status", "worker_id", "progress", "message", "starting", "run_id", "retry_in_s"]
HEARTBEAT = ["worker_id", "kind", "hostname", "pid", "queue", "profile", "leaving", "backlog", "delivered_late"]
reports = objects_with(REPORT).map(lambda r: {**r, "task_num": r["task_num"]} if "task_num" in r else r) | \
    st.fixed_dictionaries({"task_num": st.integers(0, 6), "task_status": st.sampled_from(REPORTABLE),
                           "worker_id": st.sampled_from(["w1", "w2"])}, optional={k: plausible for k in REPORT[3:]})

ENDPOINTS = {
    "/api/tasks": st.one_of(json_values, objects_with(SUBMISSION)),
    "/api/race": st.one_of(json_values, objects_with(["count", "seconds"])),
    "/update_task_status_api/": st.one_of(json_values, reports, st.lists(st.one_of(reports, json_values), max_size=6)),
    "/api/workers/heartbeat": st.one_of(json_values, objects_with(HEARTBEAT)),
}


@pytest.fixture
def client(make_app, monkeypatch):
    import api.routes.race as race
    import api.routes.tasks as tasks

    for module, name in ((tasks, "send_by_celery"), (tasks, "send_by_rabbitmq"), (tasks, "run_synchronously"),
                         (race, "send_by_celery"), (race, "send_by_rabbitmq")):
        monkeypatch.setattr(module, name, lambda *args, **kwargs: None)
    app = make_app(rabbitmq_url=f"amqp://guest:guest@127.0.0.1:{free_port()}/")
    app.extensions["queue_lab"].store.create("celery", 1, False, 5)  # tasks 1-5 exist for the reports
    return app.test_client()


def assert_answer_is_clear(response, path, body):
    assert response.status_code < 500, (path, body, response.json)
    answer = response.json
    assert isinstance(answer, (dict, list)), (path, body, response.data[:200])
    if response.status_code == 409:  # not bad input: the state machine's refusal, with its reason
        assert answer["outcome"] == "refused" and answer["reason"], (path, body, answer)
    elif response.status_code >= 400:
        assert isinstance(answer.get("error"), str) and answer["error"], (path, body, answer)
        assert isinstance(answer.get("field"), str), (path, body, answer)  # '' too: an unknown key ''
        named = answer["field"] in (*SUBMISSION, *REPORT, *HEARTBEAT, "body") or (
            isinstance(body, dict) and answer["field"] in body)
        assert named, (path, body, answer)
    for result in answer.get("results", []) if isinstance(answer, dict) else []:  # a batch: per report
        if result["status"] >= 400 and result["status"] != 409:
            assert result.get("error") and isinstance(result.get("field"), str), (path, body, result)


@pytest.mark.parametrize("path", ENDPOINTS)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_generated_json_never_gets_a_5xx_and_every_refusal_names_its_field(client, path, data):
    body = data.draw(ENDPOINTS[path], label="body")
    response = client.post(path, data=json.dumps(body), content_type="application/json",
                           headers={"Authorization": f"Bearer {TOKEN}"})
    assert_answer_is_clear(response, path, body)


# The state machine, fed generated report sequences ------------------------------------------------

report_steps = st.builds(
    Report,
    task_status=st.sampled_from(REPORTABLE),
    worker_id=st.sampled_from(["w1", "w2"]),
    progress=st.none() | st.floats(0, 100),
    message=st.none() | st.just("why"),
    starting=st.booleans(),
    run_id=st.none() | st.sampled_from(["r1", "r2", "r3"]),
    retry_in_s=st.none() | st.floats(0, 60),
)


@settings(max_examples=2000, deadline=None)
@given(steps=st.lists(report_steps, max_size=25), start=st.sampled_from([PENDING, "SCHEDULED", "LOST"]))
def test_no_report_sequence_moves_progress_back_or_reopens_a_finished_job(steps, start):
    row = {"task_status": PENDING, "progress": 0.0, "attempt": 0, "worker_id": None, "run_id": None,
           "started_at": None, "finished_at": None, "due_at": None, "error": None, "updated_at": 0.0}
    if start == "LOST":  # as the sweeper leaves a row: attempt 1 of run r1, silent
        row.update(task_status="LOST", attempt=1, worker_id="w1", run_id="r1", progress=30.0)
    elif start == "SCHEDULED":
        row.update(task_status="SCHEDULED", due_at=10.0)
    for now, report in enumerate(steps, start=1):
        before = dict(row)
        row.update(decide(row, report, float(now)).changes)
        if before["task_status"] in FINAL:
            assert row == before, (before, report, row)  # a finished job is never reopened
        if row["attempt"] == before["attempt"]:
            assert row["progress"] >= before["progress"], (before, report, row)
        else:
            assert row["attempt"] == before["attempt"] + 1 and row["task_status"] in (IN_PROGRESS, *FINAL)
        assert 0 <= row["progress"] <= 100
