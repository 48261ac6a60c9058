"""The workers and queues panels, and a class reset, in a real headless Chromium on the real stack.
Leaves a screenshot in test-artifacts/ (git-ignored)."""
import re
from pathlib import Path

import pytest

from ops.stack import free_port
from tests.helpers import send

pytestmark = [pytest.mark.broker, pytest.mark.browser]

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
INSTRUCTOR_TOKEN = "test-instructor-token"




def wait_for_rows(page, count, status=None, timeout=30_000):
    selector = "tr[data-task-num]" + (f'[data-status="{status}"]' if status else "")
    page.wait_for_function(f"document.querySelectorAll('{selector}').length === {count}", timeout=timeout)


def test_workers_and_queues_panels_show_both_kinds_of_worker_and_both_queues(stack, management_api, page):
    stack.start_api(RABBITMQ_MANAGEMENT_URL=management_api)
    stack.start_consumer()
    stack.start_celery_worker()
    page.goto(stack.base_url + "/")

    workers = page.locator("#workers [data-worker-id]")
    page.locator('#workers [data-kind="consumer"][data-online="true"]').wait_for(timeout=15_000)
    page.locator('#workers [data-kind="celery"][data-online="true"]').wait_for(timeout=15_000)
    page.locator('#workers [data-kind="celery_node"][data-online="true"]').wait_for(timeout=15_000)
    assert workers.count() == 3  # one consumer; a Celery worker and its one pool process (concurrency 1)
    assert "ago" in workers.first.inner_text()
    assert "after 30 s of silence it is shown offline, after 5 min it is dropped" in page.locator("#workers").inner_text()
    # Each worker says which profile it runs (the fault lab's experiments differ only in these).
    assert page.locator('#workers [data-kind="celery"] .profile').inner_text().startswith(
        "late ack · prefetch ×1 · results: rpc:// · a process of celery")
    assert "1 process · prefetch_count 1 (1 × 1)" in page.locator('#workers [data-kind="celery_node"] .profile').inner_text()
    assert "prefetch 1" in page.locator('#workers [data-kind="consumer"] .profile').inner_text()

    # Both queues from the management API, each with its one consumer (stats refresh every 5 s).
    page.wait_for_function("""() => ["rabbitmq", "celery"].every((queue) => document.querySelector(
        `#queues [data-queue="${queue}"] [data-stat="consumers"]`)?.textContent === "1")""", timeout=30_000)
    for queue in ("rabbitmq", "celery"):
        for stat in ("ready", "unacked", "consumers"):
            text = page.locator(f'#queues [data-queue="{queue}"] [data-stat="{stat}"]').inner_text()
            assert re.fullmatch(r"\d+", text), (queue, stat, text)
    assert page.locator('#queues [data-role="error"]').is_hidden()
    assert re.search(r"sampled \d+ s ago", page.locator("#queues").inner_text())
    link = page.locator('#queues a[data-role="management-ui"]')
    assert link.get_attribute("href").endswith("/#/queues")
    assert (link.get_attribute("target"), link.get_attribute("rel")) == ("_blank", "noopener")

    send(page, "celery", 1, count=2)
    send(page, "rabbitmq", 1, count=2)
    wait_for_rows(page, 4, "DONE")
    # Each worker did both jobs of its kind: 2 done, the whole share.
    page.wait_for_function("""() => [...document.querySelectorAll('#workers [data-worker-id]:not([data-kind="celery_node"])')]
        .every((row) => row.querySelector(".share-text")?.textContent === "2 · 100%")""", timeout=10_000)
    assert page.locator("#workers").get_by_text("idle").count() == 2

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "workers-and-queues.png"), full_page=True)
    assert page.errors == []


def test_an_unreachable_management_api_is_one_line_and_the_jobs_table_still_works(stack, page):
    stack.start_api(RABBITMQ_MANAGEMENT_URL=f"http://127.0.0.1:{free_port()}")
    page.goto(stack.base_url + "/")

    error = page.locator('#queues [data-role="error"]')
    error.wait_for(state="visible", timeout=10_000)
    assert "management API not reachable" in error.inner_text()
    assert page.locator("#queues table").is_hidden()
    assert page.locator('#queues a[data-role="management-ui"]').is_hidden()

    send(page, "sync", 0.5)
    wait_for_rows(page, 1, "DONE")
    assert page.errors == []


def test_a_class_reset_clears_the_table_of_an_open_page(stack, page):
    stack.start_api(INSTRUCTOR_TOKEN=INSTRUCTOR_TOKEN)
    page.goto(stack.base_url + "/")
    page.wait_for_function("document.body.innerText.includes('live (SSE)')", timeout=10_000)
    for _ in range(2):
        assert stack.submit("sync", 0).status_code == 200
    wait_for_rows(page, 2, "DONE")
    page.locator("#clear-finished").click()  # the page now remembers those rows as cleared
    wait_for_rows(page, 0)
    assert stack.submit("sync", 0).status_code == 200
    wait_for_rows(page, 1, "DONE")

    answer = stack.session.post(stack.base_url + "/api/reset", timeout=10, json={},
                                headers={"Authorization": f"Bearer {INSTRUCTOR_TOKEN}"})
    assert answer.status_code == 200, answer.text
    wait_for_rows(page, 0, timeout=10_000)
    assert "reset" in page.locator("#empty-note").inner_text()

    # A job after the reset shows up live, even if it reuses a number the page had cleared before.
    assert stack.submit("sync", 0).status_code == 200
    wait_for_rows(page, 1, "DONE", timeout=10_000)
    assert page.locator("#connection").inner_text() == "live (SSE)"
    assert page.errors == []
