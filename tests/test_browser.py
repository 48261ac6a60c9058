"""A real headless Chromium on the real stack: send one job by each method, see each row reach DONE
without reloading. Leaves a screenshot in test-artifacts/ (git-ignored)."""
from pathlib import Path

import pytest

from tests.helpers import send

pytestmark = [pytest.mark.broker, pytest.mark.browser]

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"




def test_one_job_by_each_method_reaches_done_live(stack, page):
    stack.start_api()
    stack.start_consumer()
    stack.start_celery_worker()
    page.goto(stack.base_url + "/")
    page.wait_for_function("document.body.innerText.includes('live (SSE)')", timeout=10_000)

    for method in ("celery", "rabbitmq"):
        send(page, method, 2)
    sync_form = send(page, "sync", 1.5)
    # The synchronous request blocks: its button stays disabled while the job runs.
    assert sync_form.locator('button[type="submit"]').is_disabled()

    rows = page.locator("tr[data-task-num]")
    rows.first.wait_for(timeout=10_000)
    for method in ("celery", "rabbitmq", "sync"):
        row = page.locator(f'tr[data-task-num][data-method="{method}"]')
        row.first.wait_for(timeout=10_000)
    page.wait_for_function(
        "document.querySelectorAll('tr[data-task-num][data-status=\"DONE\"]').length === 3", timeout=30_000)
    assert rows.count() == 3
    for method in ("celery", "rabbitmq", "sync"):
        row = page.locator(f'tr[data-task-num][data-method="{method}"]')
        num = int(row.get_attribute("data-task-num"))
        # DONE: the value the job computed takes the bar's place, and says who made it on hover.
        value = row.locator(".result-value")
        assert value.inner_text() == f"= {num * (num + 1) // 2}" and row.locator(".bar").is_hidden()
        assert f"1 + 2 + … + {num}" in value.get_attribute("title") and "attempt 1" in value.get_attribute("title")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "one-job-each-way.png"), full_page=True)
    assert page.errors == []


def test_an_error_shows_its_reason_and_worker_text_is_escaped(stack, page):
    stack.start_api()
    stack.start_consumer()
    page.goto(stack.base_url + "/")
    page.locator('form[data-method="rabbitmq"] input[name="fail"]').check()
    send(page, "rabbitmq", 0.5)
    page.wait_for_function(
        "document.querySelector('tr[data-method=\"rabbitmq\"][data-status=\"ERROR\"]') !== null",
        timeout=20_000)
    assert "failed on purpose" in page.locator('tr[data-task-num][data-method="rabbitmq"]').inner_text()

    # No Celery worker runs, so this job stays PENDING until we report for it ourselves, with markup.
    (num,) = stack.submit("celery", seconds=1).json()["task_nums"]
    hostile = '<img src=x onerror="window.__owned=1"><b>evil</b>'
    answer = stack.session.post(stack.base_url + "/update_task_status_api/",
                                headers={"Authorization": "Bearer test-token"},
                                json={"task_num": num, "task_status": "ERROR", "worker_id": hostile,
                                      "message": hostile})
    assert answer.status_code == 200
    row = page.locator(f'tr[data-task-num="{num}"][data-status="ERROR"]')
    row.wait_for(timeout=10_000)
    assert "<b>evil</b>" in row.inner_text()  # shown as text
    assert page.locator("table b, table img").count() == 0  # never parsed as HTML
    assert page.evaluate("window.__owned") is None
    assert page.errors == []
