"""The exchanges lesson on the page, in a real headless Chromium on the real stack: the bindings drawn
from the broker, each routed job on the consumer whose binding matched, a key nobody bound returned
and said so, "Try a key" — and the page's topic matching checked against RabbitMQ's own."""
import json
from pathlib import Path

import pika
import pytest

from ops.stack import delete_queues
from queue_lab.queues import queue_layout
from tests.test_browser_fault_lab import choose_experiment, open_fault_lab, result_of
from tests.test_exchanges import start_routed_consumers

pytestmark = [pytest.mark.broker, pytest.mark.browser]

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
PATTERNS = ["*.long", "report.#", "#", "a.*.c", "#.c", "a.#.c", "*", "a", "#.a.#"]
KEYS = ["a", "a.b", "a.b.c", "a.c", "a.b.b.c", "report", "report.long", "x.long", "c", "b.a.b", "long"]


def test_the_exchanges_card_draws_the_bindings_and_each_job_takes_its_way(stack, routed, management_api, page):
    queue_of = start_routed_consumers(stack)
    layout = queue_layout(stack.env["RAW_QUEUE"], stack.env["CELERY_QUEUE"])
    page.set_viewport_size({"width": 1366, "height": 768})  # a projector
    page.goto(stack.base_url + "/")
    open_fault_lab(page)
    card = choose_experiment(page, "exchanges")

    assert card.locator("#bindings").count() == 1  # the card holds the broker's picture while chosen
    for key in ("email", "email.*", "report", "*.long"):  # every binding, from the broker, with its key
        page.locator("svg.bindings .binding-key", has_text=key).first.wait_for(timeout=20_000)
    nodes = page.locator("svg.bindings .node").evaluate_all("ns => ns.map((n) => n.dataset.node)")
    assert [n for n in nodes if n.startswith("exchange:")] == [
        f"exchange:{name}" for name in (*layout.exchanges.values(), layout.control)], nodes
    assert {f"queue:{q}" for q in (layout.routed("emails").work, layout.routed("long").work, layout.control_last)} \
        <= set(nodes), nodes
    assert "topic" in page.locator(f'svg.bindings [data-node="exchange:{layout.exchanges["topic"]}"] title').text_content()
    ARTIFACTS.mkdir(exist_ok=True)

    page.locator('[data-role="try-key"]').fill("email.long")  # asked before sending: both queues
    answer = page.locator('[data-role="try-answer"]').inner_text()
    assert "topic → …routed.emails, …routed.long" in answer and "direct → " in answer, answer
    assert page.locator("svg.bindings .node.queue.would-reach").count() == 2

    card.locator('button[data-preset="direct-email"]').click()
    result_of(page, "exchanges", "ok")
    row = page.locator('tr[data-task-num][data-status="DONE"]').first
    row.wait_for(timeout=20_000)
    assert queue_of[layout.routed("emails").work] in row.locator("td.worker").get_attribute("title") or \
        queue_of[layout.routed("emails").work] in row.inner_text()

    card.locator('button[data-preset="direct-invoice"]').click()
    said = result_of(page, "exchanges", "error")
    assert "312 NO_ROUTE" in said and "invoice" in said, said
    page.locator('tr[data-task-num][data-status="ERROR"]', has_text="312 NO_ROUTE").wait_for(timeout=10_000)
    page.locator("svg.bindings .node.exchange.returned").wait_for(timeout=10_000)
    card.screenshot(path=str(ARTIFACTS / "exchanges-card.png"))
    choose_experiment(page, "routes")  # another card: the picture goes back to its drawer
    assert page.locator("#bindings-drawer #bindings").count() == 1
    assert page.locator('#bindings-drawer [data-role="lent"]').is_hidden()
    assert page.errors == []


def test_the_pages_topic_matching_is_rabbitmqs(stack, routed, page, broker):
    """What "Try a key" and the dots say a topic binding takes, against what the broker delivered:
    one queue per pattern on the real topic exchange, every key published to it."""
    stack.start_api()
    layout = queue_layout(stack.env["RAW_QUEUE"], stack.env["CELERY_QUEUE"])
    topic = layout.exchanges["topic"]
    connection = pika.BlockingConnection(broker)
    channel = connection.channel()
    channel.exchange_declare(topic, exchange_type="topic", durable=True)
    names = [f"{layout.raw.work}.match.{i}" for i in range(len(PATTERNS))]
    try:
        for name, pattern in zip(names, PATTERNS):
            channel.queue_declare(name)
            channel.queue_bind(name, topic, routing_key=pattern)
        channel.confirm_delivery()
        for key in KEYS:
            channel.basic_publish(topic, key, key.encode())
        delivered = {pattern: set() for pattern in PATTERNS}
        for name, pattern in zip(names, PATTERNS):
            while (got := channel.basic_get(name, auto_ack=True))[0] is not None:
                delivered[pattern].add(got[2].decode())
    finally:
        delete_queues(connection, names)
        connection.close()
    assert delivered["#"] == set(KEYS) and delivered["*.long"] == {"report.long", "x.long"}  # the broker's rules

    page.goto(stack.base_url + "/")
    predicted = page.evaluate("""async ([patterns, keys]) => {
        const { topicMatches } = await import("/static/bindings_diagram.js");
        return Object.fromEntries(patterns.map((p) => [p, keys.filter((k) => topicMatches(p, k))]));
    }""", [PATTERNS, KEYS])
    assert {pattern: set(keys) for pattern, keys in predicted.items()} == delivered, json.dumps(predicted)
    assert page.errors == []
