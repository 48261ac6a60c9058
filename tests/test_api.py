"""The HTTP API with a fresh app per test: validation, auth, state answers, page, deltas, SSE."""
import json
import threading
import time

import pytest

from api.state import lab


def report(client, auth, **body):
    return client.post("/update_task_status_api/", json=body, headers=auth)


@pytest.mark.parametrize("body, field", [
    ({"seconds": 1}, "method"),
    ({"method": "kafka", "seconds": 1}, "method"),
    ({"method": "celery"}, "seconds"),
    ({"method": "celery", "seconds": "5"}, "seconds"),
    ({"method": "celery", "seconds": -1}, "seconds"),
    ({"method": "celery", "seconds": 300.5}, "seconds"),
    ({"method": "celery", "seconds": True}, "seconds"),
    ({"method": "celery", "seconds": None}, "seconds"),
    ({"method": "celery", "seconds": 1, "count": 0}, "count"),
    ({"method": "celery", "seconds": 1, "count": 501}, "count"),
    ({"method": "celery", "seconds": 1, "count": 1.5}, "count"),
    ({"method": "celery", "seconds": 1, "count": "3"}, "count"),
    ({"method": "celery", "seconds": 1, "fail": "yes"}, "fail"),
    ({"method": "celery", "seconds": 1, "colour": "red"}, "colour"),
    ({"method": "sync", "seconds": 100, "count": 4}, "count"),  # 400 s would hold a web thread
    ({"method": "rabbitmq", "seconds": 1, "poison": True}, "poison"),  # a classic queue would loop forever
    ({"method": "celery", "seconds": 1, "queue_type": "quorum"}, "queue_type"),
    ({"method": "rabbitmq", "seconds": 1, "queue_type": "quorum", "flaky": 2}, "flaky"),
    ({"method": "rabbitmq", "seconds": 1, "queue_type": "stream"}, "queue_type"),
    ({"method": "celery_redis", "seconds": 1, "celery_ack": "early"}, "celery_ack"),  # a RabbitMQ profile
    ({"method": "celery_redis", "seconds": 1, "consumer": "naive"}, "consumer"),
    ([1, 2], "body"),
    ("celery", "body"),
])
def test_submit_rejects_each_bad_field_by_name(client, body, field):
    response = client.post("/api/tasks", json=body)
    assert response.status_code == 400
    assert response.json["field"] == field
    assert field in response.json["error"] or field == "body"


@pytest.mark.parametrize("owner, kept", [
    ("Anna", "Anna"), ("  Олег   Петрович ", "Олег Петрович"), ("x" * 40, "x" * 40), ("", None), (None, None),
    ("<img src=x onerror=alert(1)>", "<img src=x onerror=alert(1)>"),  # kept as text; the page never parses it
    ("line\u2028break\ttab", "line break tab"),  # any whitespace is one space in a table cell
])
def test_a_job_carries_its_senders_name(client, owner, kept):
    rows = client.post("/api/tasks", json={"method": "sync", "seconds": 0, "owner": owner}).json["tasks"]
    assert rows[0]["owner"] == kept


@pytest.mark.parametrize("owner", ["x" * 41, 7, ["Anna"], "An\x00na", "An\u200bna", "\u202eevil"])
def test_a_bad_name_is_a_400_naming_owner(client, owner):
    for path, body in (("/api/tasks", {"method": "celery", "seconds": 1}), ("/api/race", {"count": 1})):
        response = client.post(path, json={**body, "owner": owner})
        assert (response.status_code, response.json["field"]) == (400, "owner"), response.json


def test_submit_rejects_malformed_json(client):
    response = client.post("/api/tasks", data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json["field"] == "body"


def test_sync_runs_the_job_inside_the_request(client):
    response = client.post("/api/tasks", json={"method": "sync", "seconds": 0.2, "count": 2})
    assert response.status_code == 200
    rows = response.json["tasks"]
    assert [r["task_status"] for r in rows] == ["DONE", "DONE"]
    assert all(r["worker_id"].startswith("api-") and r["progress"] == 100 for r in rows)
    assert all(r["created_at"] <= r["started_at"] <= r["finished_at"] for r in rows)


def test_sync_fail_ends_error_with_the_reason(client):
    rows = client.post("/api/tasks", json={"method": "sync", "seconds": 0, "fail": True}).json["tasks"]
    assert rows[0]["task_status"] == "ERROR"
    assert "failed on purpose" in rows[0]["error"]


@pytest.mark.parametrize("body, field", [
    ({"task_status": "DONE", "worker_id": "w"}, "task_num"),
    ({"task_num": "1", "task_status": "DONE", "worker_id": "w"}, "task_num"),
    ({"task_num": 0, "task_status": "DONE", "worker_id": "w"}, "task_num"),
    ({"task_num": True, "task_status": "DONE", "worker_id": "w"}, "task_num"),
    ({"task_num": 1, "worker_id": "w"}, "task_status"),
    ({"task_num": 1, "task_status": "done", "worker_id": "w"}, "task_status"),
    ({"task_num": 1, "task_status": "FINISHED", "worker_id": "w"}, "task_status"),
    ({"task_num": 1, "task_status": "DONE"}, "worker_id"),
    ({"task_num": 1, "task_status": "DONE", "worker_id": ""}, "worker_id"),
    ({"task_num": 1, "task_status": "DONE", "worker_id": 7}, "worker_id"),
    ({"task_num": 1, "task_status": "IN_PROGRESS", "worker_id": "w", "progress": 101}, "progress"),
    ({"task_num": 1, "task_status": "IN_PROGRESS", "worker_id": "w", "progress": -0.1}, "progress"),
    ({"task_num": 1, "task_status": "IN_PROGRESS", "worker_id": "w", "progress": "50"}, "progress"),
    ({"task_num": 1, "task_status": "ERROR", "worker_id": "w", "message": 5}, "message"),
    ({"task_num": 1, "task_status": "ERROR", "worker_id": "w", "message": "x" * 2001}, "message"),
    ({"task_num": 1, "task_status": "IN_PROGRESS", "worker_id": "w", "starting": 1}, "starting"),
    ({"task_num": 1, "task_status": "DONE", "worker_id": "w", "extra": 1}, "extra"),
])
def test_status_api_rejects_each_bad_field_by_name(client, auth, body, field):
    client.post("/api/tasks", json={"method": "sync", "seconds": 0})
    response = report(client, auth, **body)
    assert response.status_code == 400
    assert response.json["field"] == field


def test_status_api_rejects_malformed_json(client, auth):
    response = client.post("/update_task_status_api/", data="nope", headers=auth, content_type="application/json")
    assert (response.status_code, response.json["field"]) == (400, "body")


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "test-token"}])
def test_status_api_needs_the_token(client, headers):
    response = client.post("/update_task_status_api/", json={"task_num": 1}, headers=headers)
    assert response.status_code == 401
    assert "STATUS_API_TOKEN" in response.json["error"]


def test_status_api_unknown_task_is_404(client, auth):
    response = report(client, auth, task_num=12345, task_status="DONE", worker_id="w")
    assert (response.status_code, response.json["field"]) == (404, "task_num")


def _pending(app, count=1):
    with app.app_context():
        return lab().store.create("celery", 1, False, count)


def test_status_api_answers_applied_duplicate_and_refused(app, client, auth):
    (num,) = _pending(app)
    started = report(client, auth, task_num=num, task_status="IN_PROGRESS", worker_id="w", progress=0,
                     starting=True)
    assert (started.status_code, started.json["outcome"]) == (200, "applied")
    assert started.json["task"]["attempt"] == 1
    done = report(client, auth, task_num=num, task_status="DONE", worker_id="w")
    assert (done.status_code, done.json["task"]["progress"]) == (200, 100)
    again = report(client, auth, task_num=num, task_status="DONE", worker_id="w")
    assert (again.status_code, again.json["outcome"]) == (200, "duplicate")
    late = report(client, auth, task_num=num, task_status="IN_PROGRESS", worker_id="w", progress=50)
    assert (late.status_code, late.json["outcome"]) == (409, "refused")
    assert late.json["task"]["task_status"] == "DONE"
    assert "DONE" in late.json["reason"]


def test_page_renders_with_local_assets_only(client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Queue Lab" in html and "/static/app.js" in html
    assert "http://" not in html and "https://" not in html  # no CDN: classrooms may be offline
    assert client.get("/static/app.js").status_code == 200
    assert client.get("/static/style.css").status_code == 200


def test_delta_endpoint_returns_only_what_changed(app, client, auth):
    first = _pending(app, 2)
    seq = client.get("/api/tasks").json["seq"]
    report(client, auth, task_num=first[0], task_status="DONE", worker_id="w")
    delta = client.get(f"/api/tasks?since={seq}").json
    assert [r["task_num"] for r in delta["tasks"]] == [first[0]]
    assert delta["seq"] > seq
    assert abs(delta["now"] - time.time()) < 5  # the server's clock, for the page's timers
    assert client.get(f"/api/tasks?since={delta['seq']}").json["tasks"] == []


def test_newest_rows_without_since_respect_the_limit(app, client):
    nums = _pending(app, 5)
    rows = client.get("/api/tasks?limit=3").json["tasks"]
    assert [r["task_num"] for r in rows] == sorted(nums, reverse=True)[:3]
    assert set(rows[0]) >= {"task_num", "method", "seconds", "task_status", "progress", "worker_id",
                            "attempt", "celery_id", "error", "created_at", "started_at", "finished_at", "seq"}


@pytest.mark.parametrize("query, field", [("since=x", "since"), ("since=-1", "since"), ("limit=0", "limit"),
                                          ("limit=99999", "limit")])
def test_delta_endpoint_rejects_bad_query(client, query, field):
    response = client.get(f"/api/tasks?{query}")
    assert (response.status_code, response.json["field"]) == (400, field)


def _read_events(response, count):
    """Parse `count` SSE events (skipping keepalive comments) from a streamed response."""
    events, buffer = [], ""
    for chunk in response.response:
        buffer += chunk.decode() if isinstance(chunk, bytes) else chunk
        while "\n\n" in buffer:
            block, buffer = buffer.split("\n\n", 1)
            fields = dict(line.split(": ", 1) for line in block.splitlines() if not line.startswith(":")
                          and ": " in line)
            if fields.get("event") == "tasks":
                events.append(fields)
                if len(events) == count:
                    return events
    return events


def test_sse_pushes_changes_with_the_seq_as_event_id(app, client, auth):
    seq = client.get("/api/tasks").json["seq"]
    response = client.get(f"/api/events?since={seq}", buffered=False)
    assert response.mimetype == "text/event-stream"
    (num,) = _pending(app)
    later = threading.Timer(0.2, lambda: report(client, auth, task_num=num, task_status="DONE", worker_id="w"))
    later.start()
    events = _read_events(response, 2)
    response.close()
    later.join()
    final = json.loads(events[-1]["data"])
    assert final["tasks"][-1]["task_num"] == num and final["tasks"][-1]["task_status"] == "DONE"
    assert int(events[-1]["id"]) == final["seq"] > seq


def test_sse_resumes_from_last_event_id_even_with_the_original_since(app, client):
    _pending(app)  # a change the reconnecting page has already seen
    seq = client.get("/api/tasks").json["seq"]
    (num,) = _pending(app)
    # A reconnecting EventSource repeats its first URL (since=0) and adds Last-Event-ID: the header wins.
    response = client.get("/api/events?since=0", headers={"Last-Event-ID": str(seq)}, buffered=False)
    (event,) = _read_events(response, 1)
    response.close()
    assert [r["task_num"] for r in json.loads(event["data"])["tasks"]] == [num]


def test_sse_streams_are_capped_and_the_page_is_told_to_poll(make_app):
    client = make_app(sse_max_streams=1).test_client()
    first = client.get("/api/events?since=0", buffered=False)
    next(iter(first.response))  # the stream is open and holds its slot
    second = client.get("/api/events?since=0")
    assert second.status_code == 503
    assert "poll" in second.json["error"]
    first.close()


def test_unknown_api_path_is_json_404(client):
    response = client.get("/api/nope")
    assert response.status_code == 404 and "error" in response.json


def test_summary_lists_every_method_even_before_any_job(client):
    methods = client.get("/api/summary").json["methods"]
    assert set(methods) == {"celery", "celery_redis", "rabbitmq", "sync"}
    assert methods["celery"] == {"sent": 0, "done": 0, "failed": 0, "active": 0, "mean_wait": None,
                                 "mean_run": None}


def test_a_batch_of_reports_is_applied_in_order_with_one_result_each(app, client, auth):
    a, b = _pending(app, 2)
    batch = [
        {"task_num": a, "task_status": "IN_PROGRESS", "worker_id": "w", "progress": 0, "starting": True},
        {"task_num": a, "task_status": "IN_PROGRESS", "worker_id": "w", "progress": 50},
        {"task_num": a, "task_status": "DONE", "worker_id": "w"},
        {"task_num": a, "task_status": "IN_PROGRESS", "worker_id": "w", "progress": 10},  # late
        {"task_num": b, "task_status": "done", "worker_id": "w"},  # bad field
        {"task_num": 99999, "task_status": "DONE", "worker_id": "w"},  # unknown
    ]
    response = client.post("/update_task_status_api/", json=batch, headers=auth)
    assert response.status_code == 200
    results = response.json["results"]
    assert [r["status"] for r in results] == [200, 200, 200, 409, 400, 404]
    assert results[4]["field"] == "task_status" and results[5]["field"] == "task_num"
    assert client.get("/api/tasks").json["tasks"][-1]["task_status"] in ("DONE", "PENDING")
    rows = {r["task_num"]: r for r in client.get("/api/tasks").json["tasks"]}
    assert rows[a]["task_status"] == "DONE" and rows[b]["task_status"] == "PENDING"


def test_a_lean_batch_answers_the_outcomes_without_the_rows(app, client, auth):
    """Our workers ask ?lean=1: they read only each outcome, so the API need not serialise the rows."""
    a, = _pending(app, 1)
    batch = [{"task_num": a, "task_status": "IN_PROGRESS", "worker_id": "w", "progress": 0, "starting": True},
             {"task_num": a, "task_status": "DONE", "worker_id": "w"}]
    full = client.post("/update_task_status_api/", json=batch[:1], headers=auth).json["results"]
    lean = client.post("/update_task_status_api/?lean=1", json=batch[1:], headers=auth).json["results"]
    assert "task" in full[0] and full[0]["status"] == 200
    assert len(lean) == 1 and lean[0]["status"] == 200
    assert "task" not in lean[0] and lean[0]["outcome"] == "applied"
    assert client.get(f"/api/tasks?nums={a}").json["tasks"][0]["task_status"] == "DONE"


def test_a_batch_needs_the_token_and_has_a_size_limit(client, auth):
    assert client.post("/update_task_status_api/", json=[]).status_code == 401
    assert client.post("/update_task_status_api/", json=[], headers=auth).json == {"results": []}
    too_many = [{"task_num": 1, "task_status": "DONE", "worker_id": "w"}] * 501
    response = client.post("/update_task_status_api/", json=too_many, headers=auth)
    assert (response.status_code, response.json["field"]) == (400, "body")


def test_tasks_by_number_as_a_submission_location_names_them(app, client):
    nums = _pending(app, 3)
    rows = client.get(f"/api/tasks?nums={nums[2]},{nums[0]},999999").json["tasks"]
    assert [row["task_num"] for row in rows] == [nums[2], nums[0]]  # as asked; unknown left out


@pytest.mark.parametrize("query", ["nums=", "nums=1,x", "nums=-1", "nums=1;2"])
def test_tasks_by_number_rejects_what_is_not_a_list_of_numbers(client, query):
    response = client.get(f"/api/tasks?{query}")
    assert (response.status_code, response.json["field"]) == (400, "nums")


# -- the fault lab's experiments: data the page reads -------------------------------------------------

def test_a_lessons_line_count_skips_blank_lines_comments_and_docstrings_and_quotes_every_block(tmp_path):
    from api.line_count import excerpt

    source = tmp_path / "lesson.py"
    source.write_text('x = 0\n'
                      '    # [demo: begin] (counted)\n'
                      '    def f():\n'
                      '        """Why.\n\n        Still why."""\n'
                      '\n'
                      '        # a comment\n'
                      '        return 1\n'
                      '    # [demo: end]\n'
                      'y = 1  # not marked\n'
                      '# [demo: begin]\n'
                      'z = """one line"""\n'
                      '# [demo: end]\n')
    found = excerpt("demo", str(source))
    assert found.lines == 3  # def, return, z
    assert found.text == ('def f():\n    """Why.\n\n    Still why."""\n\n    # a comment\n    return 1'
                          '\n⋮\nz = """one line"""')


def test_the_experiments_are_served_as_data_with_this_labs_facts(app, client):
    from api.experiments import EXPERIMENTS

    answer = client.get("/api/experiments").json["experiments"]
    assert [experiment["id"] for experiment in answer] == [experiment.id for experiment in EXPERIMENTS]
    by_id = {experiment["id"]: experiment for experiment in answer}
    for experiment in answer:
        texts = [experiment[key] for key in ("title", "try", "watch", "because")]
        assert all(isinstance(text, str) and text for text in texts), experiment["id"]
        assert not any("%(" in text for text in texts), experiment["id"]  # every fact filled in
        assert all(preset["label"] and (preset["jobs"] or preset["action"]) for preset in experiment["presets"])
    preset_ids = [preset["id"] for experiment in answer for preset in experiment["presets"]]
    assert len(preset_ids) == len(set(preset_ids))  # a button[data-preset=…] names one button on the page
    assert {e["id"]: e["kill_form"] for e in answer if e["kill_form"]} == {"kill": {"whole": False},
                                                                         "redis-kill": {"whole": True}}
    assert [(e["id"], e["lesson"]) for e in answer if e["lines"]] == [
        ("retries", "retries"), ("exchanges", "exchanges"), ("rate-limits", "rate-limits"), ("results", "results"),
        ("canvas", "canvas")]
    assert not any("%(" in preset["label"] for e in answer for preset in e["presets"])  # labels filled too
    rates = by_id["rate-limits"]
    assert "12/min" in rates["presets"][0]["label"] and f"{rates['lines']['celery']} lines" in rates["because"]
    lines = by_id["retries"]["lines"]
    assert f"({lines['celery']} lines)" in by_id["retries"]["because"] and lines["rabbitmq"] > 0
    results = by_id["results"]
    assert f"{results['lines']['celery']} lines" in results["because"]
    assert f"{results['lines']['rabbitmq']} lines" in results["because"]
    for method, parts in results["code"].items():  # the quote is the code the count counts
        assert sum(part["lines"] for part in parts) == results["lines"][method]
        assert all(part["text"] and part["lines"] > 0 for part in parts), (method, parts)
    quoted = {method: "\n".join(part["text"] for part in parts) for method, parts in results["code"].items()}
    assert "AsyncResult(celery_id" in quoted["celery"] and '"rpc://"' in quoted["celery"]
    assert all(word in quoted["rabbitmq"] for word in ("reply_to", "correlation_id", "basic_get"))
    with app.app_context():
        settings = lab().settings
    assert f"QUORUM_DELIVERY_LIMIT = {settings.quorum_delivery_limit})" in by_id["quorum"]["watch"]
    assert f"({format(settings.redis_visibility_timeout_s, 'g')} s here)" in by_id["redis-kill"]["watch"]
    assert by_id["kill"]["presets"] == [{"id": "send-20s", "label": "Send 20 s jobs", "action": None, "jobs": [
        {"body": {"method": "rabbitmq", "seconds": 20, "count": 1}, "as": None},
        {"body": {"method": "celery", "seconds": 20, "count": 1}, "as": "Celery late ack"},
        {"body": {"method": "celery", "seconds": 20, "count": 1, "celery_ack": "early"}, "as": "Celery early ack"}],
        "options": {}}]


def test_the_experiments_labels_and_job_names_are_in_the_readers_language(client):
    english, russian = (client.get(f"/api/experiments?lang={language}").json["experiments"][0]
                        for language in ("en", "ru"))
    assert russian["title"] != english["title"]
    assert russian["presets"][0]["label"] != english["presets"][0]["label"]
    assert russian["presets"][0]["jobs"][1]["as"] != english["presets"][0]["jobs"][1]["as"]
    assert russian["presets"][0]["jobs"][1]["body"] == english["presets"][0]["jobs"][1]["body"]  # data stays


def _preset_jobs():
    from api.experiments import EXPERIMENTS

    return [pytest.param(job.body, id=f"{experiment.id}/{preset.id}/{n}")
            for experiment in EXPERIMENTS for preset in experiment.presets for n, job in enumerate(preset.jobs, 1)]


@pytest.mark.parametrize("body", _preset_jobs())
def test_every_job_a_preset_sends_passes_the_apis_own_validation(app, body):
    from api.validation import parse_submission

    with app.test_request_context():
        parse_submission(dict(body))  # what POST /api/tasks runs first; a bad body raises BadField


def test_every_page_action_a_preset_names_is_one_the_page_implements():
    """The page's registry of actions is read out of static/experiments.js: both lists agree."""
    import re
    from pathlib import Path

    from api.experiments import EXPERIMENTS, PAGE_ACTIONS

    script = (Path(__file__).resolve().parent.parent / "static" / "experiments.js").read_text()
    registry = re.search(r"^const PAGE_ACTIONS = \{\n(.*?)^\};", script, re.S | re.M).group(1)
    implemented = re.findall(r'^  "([\w-]+)": \{', registry, re.M)
    assert sorted(implemented) == sorted(PAGE_ACTIONS)
    assert {p.action for e in EXPERIMENTS for p in e.presets if p.action} == set(PAGE_ACTIONS)  # none unused


def test_bad_canvas_requests_are_a_400_naming_the_field(client):
    for body, field in (({"method": "sync", "canvas": "chain"}, "canvas"),
                        ({"method": "rabbitmq", "canvas": "tree"}, "canvas"),
                        ({"method": "rabbitmq", "canvas": "chain", "count": 1}, "count"),
                        ({"method": "celery", "canvas": "chord", "count": 11}, "count"),
                        ({"method": "rabbitmq", "canvas": "chain", "count": 2, "flaky": 1}, "flaky"),
                        ({"method": "celery", "canvas": "chain", "count": 2, "keep_result": True}, "keep_result"),
                        ({"method": "rabbitmq", "canvas": "chain", "count": 2, "publish": False}, "canvas")):
        answer = client.post("/api/tasks", json={"seconds": 0, **body})
        assert (answer.status_code, answer.json["field"]) == (400, field), (body, answer.json)
