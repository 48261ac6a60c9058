"""Routing by hand (docs/exchanges.md): a direct and a topic exchange, consumers that bind their own
queues (RabbitMQ tutorials 4 and 5), a key nobody bound returned to the API, a key two bindings match
copied into both queues — on the real broker, with real consumers; and the bindings as the page
draws them, read from the management API."""
import pika
import pytest

from ops.stack import wait_until
from queue_lab.queues import queue_layout
from queue_lab.routing import BadRoute, Binding, parse_binds, routed_queue_name, routing_key

# Two consumers, as in the Procfile and compose: one for email, one for long jobs and reports.
EMAILS = {"CONSUMER_BINDS": "direct:email topic:email.*", "CONSUMER_ROUTED_QUEUE": "emails"}
LONG = {"CONSUMER_BINDS": "direct:report topic:*.long", "CONSUMER_ROUTED_QUEUE": "long"}


@pytest.mark.parametrize("text, expected", [
    ("direct:email", (Binding("direct", "email"),)),
    ("direct:email, topic:*.long  topic:report.#", (Binding("direct", "email"), Binding("topic", "*.long"),
                                                   Binding("topic", "report.#"))),
    ("topic:# topic:#", (Binding("topic", "#"),)),  # said twice, bound once
    ("", ()),
])
def test_bindings_are_read_from_consumer_binds(text, expected):
    assert parse_binds(text) == expected


@pytest.mark.parametrize("text", ["email", "fanout:x", "direct:*.long", "direct:", "topic:Report",
                                  "topic:a..b", "topic:" + ".".join(["a"] * 9), " ".join(["direct:a"] * 9)])
def test_a_binding_that_is_not_one_of_ours_is_refused_naming_consumer_binds(text):
    with pytest.raises(BadRoute) as refused:
        parse_binds(text)
    assert refused.value.field == "CONSUMER_BINDS"


def test_a_routed_queue_is_named_after_its_first_key_unless_named():
    assert routed_queue_name("", parse_binds("topic:*.long")) == "any-long"
    assert routed_queue_name("", parse_binds("topic:report.#")) == "report-all"
    assert routed_queue_name("emails", parse_binds("direct:email")) == "emails"
    with pytest.raises(BadRoute):
        routed_queue_name("two words", parse_binds("direct:email"))
    assert queue_layout("ql.jobs", "ql.celery").routed("emails").work == "ql.jobs.routed.emails"


@pytest.mark.parametrize("key", ["*.long", "report.#", "", "a b", "A", "x" * 101, 12, None, "a." * 8 + "a"])
def test_a_publish_key_is_plain_words(key):
    with pytest.raises(BadRoute):
        routing_key({"routing_key": key})


@pytest.mark.parametrize("body, field", [
    ({"method": "rabbitmq", "seconds": 1, "exchange": "direct"}, "routing_key"),
    ({"method": "rabbitmq", "seconds": 1, "routing_key": "email"}, "exchange"),
    ({"method": "rabbitmq", "seconds": 1, "exchange": "fanout", "routing_key": "email"}, "exchange"),
    ({"method": "rabbitmq", "seconds": 1, "exchange": "topic", "routing_key": "*.long"}, "routing_key"),
    ({"method": "rabbitmq", "seconds": 1, "exchange": "topic", "routing_key": "email", "delay_s": 5}, "delay_s"),
    ({"method": "rabbitmq", "seconds": 1, "exchange": "direct", "routing_key": "email", "queue_type": "quorum"},
     "queue_type"),
    ({"method": "rabbitmq", "seconds": 1, "exchange": "direct", "routing_key": "email", "consumer": "naive"},
     "consumer"),
    ({"method": "rabbitmq", "seconds": 1, "count": 2, "exchange": "direct", "routing_key": "email",
      "canvas": "chain"}, "canvas"),
    ({"method": "celery", "seconds": 1, "exchange": "direct", "routing_key": "email"}, "exchange"),
    ({"method": "sync", "seconds": 1, "routing_key": "email"}, "routing_key"),
])
def test_a_bad_route_is_refused_400_naming_its_field(client, body, field):
    answer = client.post("/api/tasks", json=body)
    assert answer.status_code == 400, answer.json
    assert answer.json["field"] == field, answer.json


def send(stack, exchange: str, key: str, seconds: float = 0.5, **options):
    return stack.post("/api/tasks", method="rabbitmq", seconds=seconds, exchange=exchange, routing_key=key, **options)


def start_routed_consumers(stack) -> dict[str, str]:
    """The API and the two routed consumers of the Procfile, each online; → {its queue: its worker id}."""
    stack.env.update(WORKER_HEARTBEAT_S="0.5")
    stack.start_api()
    stack.start_consumer("emails", **EMAILS)
    stack.start_consumer("long", **LONG)
    wait_until(lambda: len(workers_by_queue(stack)) == 2, 20, 0.2, what="both routed consumers online")
    return {queue: worker for worker, queue in workers_by_queue(stack).items()}


def workers_by_queue(stack) -> dict[str, str]:
    workers = stack.session.get(stack.base_url + "/api/workers", timeout=5).json()["workers"]
    return {w["worker_id"]: w["queue"] for w in workers if w["online"] and w["kind"] == "consumer"}


@pytest.mark.broker
def test_each_exchange_routes_a_job_to_the_queue_whose_binding_matches_its_key(stack, routed):
    queue_of = start_routed_consumers(stack)
    layout = queue_layout(stack.env["RAW_QUEUE"], stack.env["CELERY_QUEUE"])
    emails, long_jobs = layout.routed("emails").work, layout.routed("long").work

    routes = {("direct", "email"): emails, ("direct", "report"): long_jobs,
              ("topic", "email.short"): emails, ("topic", "report.long"): long_jobs}
    sent = {}
    for (exchange, key), queue in routes.items():
        answer = send(stack, exchange, key)
        assert answer.status_code == 202, answer.text
        sent[answer.json()["task_nums"][0]] = (exchange, key, queue)
    rows = stack.wait_finished(list(sent), 60)
    for num, (exchange, key, queue) in sent.items():
        row = rows[num]
        assert row["task_status"] == "DONE", row
        assert row["worker_id"] == queue_of[queue], (key, row)  # the consumer whose binding matched
        assert row["queue"] == layout.exchanges[exchange] and row["routing_key"] == key, row
        assert stack.history(num)[0]["detail"] == f"sent to exchange {layout.exchanges[exchange]} with routing key {key!r}"


@pytest.mark.broker
def test_a_key_nobody_bound_comes_back_and_its_row_says_so(stack, routed):
    stack.start_api()
    stack.start_consumer("emails", **EMAILS)
    layout = queue_layout(stack.env["RAW_QUEUE"], stack.env["CELERY_QUEUE"])
    for exchange, key in (("direct", "invoice"), ("topic", "email"), ("topic", "email.short.today")):
        answer = send(stack, exchange, key)  # email.* is one word after "email.": neither matches
        assert answer.status_code == 422, answer.text
        assert answer.json()["field"] == "routing_key"
        assert "312 NO_ROUTE" in answer.json()["error"] and layout.exchanges[exchange] in answer.json()["error"]
        (row,) = stack.tasks(answer.json()["task_nums"]).values()
        assert row["task_status"] == "ERROR", row  # never PENDING with nothing queued
        assert "312 NO_ROUTE" in row["error"] and repr(key) in row["error"], row


@pytest.mark.broker
def test_a_key_two_bindings_match_is_copied_into_both_queues_and_runs_twice(stack, routed):
    """The topic exchange's surprise: email.long matches email.* (emails) and *.long (long). Each
    queue gets its copy and each consumer runs it; the table keeps the story: two starts."""
    queue_of = start_routed_consumers(stack)
    answer = send(stack, "topic", "email.long", seconds=2)
    assert answer.status_code == 202, answer.text
    (num,) = answer.json()["task_nums"]
    (row,) = stack.wait_finished([num], 60).values()
    assert row["task_status"] == "DONE", row
    starts = wait_until(lambda: {e["worker_id"] for e in stack.history(num) if e["task_status"] == "IN_PROGRESS"}
                        if len([e for e in stack.history(num) if e["task_status"] == "IN_PROGRESS"]) >= 2 else None,
                        20, 0.2, what="both copies to have started")
    assert starts == set(queue_of.values()), starts  # one start from each queue's consumer


@pytest.mark.broker
def test_a_failing_routed_job_retries_on_its_own_queue(stack, routed):
    """Its retries go through its queue's own .wait and back to it, never through the exchange again."""
    stack.env.update(RETRY_DELAY_S="0.5")
    stack.start_api()
    stack.start_consumer("long", **LONG)
    answer = send(stack, "direct", "report", flaky=1)
    assert answer.status_code == 202, answer.text
    (row,) = stack.wait_finished(answer.json()["task_nums"], 60).values()
    assert row["task_status"] == "DONE" and row["attempt"] == 2, row


@pytest.mark.broker
def test_a_student_can_publish_a_registered_job_to_the_exchange_by_hand(stack, routed):
    stack.start_api()
    stack.start_consumer("emails", **EMAILS)
    answer = stack.post("/api/tasks", method="rabbitmq", seconds=0, exchange="direct", routing_key="email",
                        publish=False)
    assert answer.status_code == 201, answer.text
    (message,) = answer.json()["messages"]
    layout = queue_layout(stack.env["RAW_QUEUE"], stack.env["CELERY_QUEUE"])
    assert (message["exchange"], message["routing_key"]) == (layout.exchanges["direct"], "email")
    assert f'basic_publish(\\"{layout.exchanges["direct"]}\\", \\"email\\"' in message["code"] or \
        f'basic_publish("{layout.exchanges["direct"]}", "email"' in message["code"], message["code"]
    connection = pika.BlockingConnection(pika.URLParameters(stack.env["RABBITMQ_URL"]))
    import json
    connection.channel().basic_publish(message["exchange"], message["routing_key"], json.dumps(message["body"]))
    connection.close()
    (row,) = stack.wait_finished([message["task_num"]], 30).values()
    assert row["task_status"] == "DONE", row


@pytest.mark.broker
def test_the_page_draws_each_exchange_with_its_bindings_from_the_broker(stack, routed, management_api):
    stack.start_api()
    stack.start_consumer("emails", **EMAILS)
    stack.start_consumer("long", **LONG)
    layout = queue_layout(stack.env["RAW_QUEUE"], stack.env["CELERY_QUEUE"])

    emails, long_jobs = layout.routed("emails").work, layout.routed("long").work

    def drawn():  # the broker's statistics are up to 5 s old (collect_statistics_interval)
        picture = stack.session.get(stack.base_url + "/api/routing", timeout=5).json()
        pairs = {(b["exchange"], b["queue"], b["key"]) for b in picture["bindings"]}
        consumed = all(picture["queues"].get(q, {}).get("consumers") == 1 for q in (emails, long_jobs))
        return picture if consumed and len([p for p in pairs if p[0] in layout.exchanges.values()]) == 4 else None

    picture = wait_until(drawn, 30, 0.5, what="the four bindings, each queue consumed, in /api/routing")
    assert picture["error"] is None
    assert [(e["name"], e["type"]) for e in picture["exchanges"]] == [
        (layout.exchanges["direct"], "direct"), (layout.exchanges["topic"], "topic"), (layout.control, "fanout")]
    emails, long_jobs = layout.routed("emails").work, layout.routed("long").work
    assert {(b["exchange"], b["queue"], b["key"]) for b in picture["bindings"]
            if b["exchange"] in layout.exchanges.values()} == {
        (layout.exchanges["direct"], emails, "email"), (layout.exchanges["topic"], emails, "email.*"),
        (layout.exchanges["direct"], long_jobs, "report"), (layout.exchanges["topic"], long_jobs, "*.long")}
    control = [b for b in picture["bindings"] if b["exchange"] == layout.control]
    assert {b["queue"] for b in control if not b.get("exclusive")} == {layout.control_last}
    assert [b["exclusive"] for b in control if b.get("exclusive")] == [2]  # each consumer's own, drawn once


@pytest.mark.broker
def test_a_class_reset_empties_the_routed_queues_too(stack, routed, management_api):
    """A routed queue with nobody consuming it keeps its jobs ("no consumer"); the reset finds it on the
    broker (consumers name their queues) and empties it with the rest."""
    stack.start_api(CLASS_CONTROLS="instructor", INSTRUCTOR_TOKEN="teach")
    stack.start_consumer("emails", **EMAILS).stop()  # its queue stays, bound: durable
    for _ in range(3):
        assert send(stack, "direct", "email").status_code == 202
    answer = stack.session.post(stack.base_url + "/api/reset", json={}, headers={"Authorization": "Bearer teach"})
    assert answer.status_code == 200, answer.text
    layout = queue_layout(stack.env["RAW_QUEUE"], stack.env["CELERY_QUEUE"])
    assert answer.json()["purged"][layout.routed("emails").work] == 3


@pytest.mark.broker
def test_a_strangers_message_through_an_exchange_is_parked_by_the_routed_consumer(stack, routed, broker):
    """An exchange is a public door too: what arrives through a binding is read against the message
    contract like any other, parked in the routed queue's own .dead with the reason, and the consumer
    goes on with the next job."""
    start_routed_consumers(stack)
    layout = queue_layout(stack.env["RAW_QUEUE"], stack.env["CELERY_QUEUE"])
    connection = pika.BlockingConnection(broker)
    channel = connection.channel()
    channel.confirm_delivery()
    for body in (b"not json", b'{"task_num": 999999, "seconds": "forever"}', b"[]"):
        channel.basic_publish(layout.exchanges["topic"], "email.short", body, mandatory=True)
    answer = send(stack, "topic", "email.short")
    assert answer.status_code == 202, answer.text
    (row,) = stack.wait_finished(answer.json()["task_nums"], 30).values()
    assert row["task_status"] == "DONE", row
    parked = [channel.basic_get(layout.routed("emails").dead, auto_ack=True) for _ in range(3)]
    connection.close()
    reasons = [properties.headers["queue-lab-reason"] for method, properties, _ in parked if method]
    assert len(reasons) == 3 and any("seconds" in reason for reason in reasons), reasons
