"""The page in a classroom, in headless Chromium on the real stack: a student sees the class-wide
controls disabled with the reason, the instructor unlocks them with the token; a full class answers
429 and the page says why; a worker's undelivered reports show in the workers panel."""
from pathlib import Path

import pytest

from tests.helpers import TOKEN, send

pytestmark = [pytest.mark.broker, pytest.mark.browser]

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def test_a_student_cannot_and_the_instructor_can(stack, page):
    stack.start_api(CLASS_CONTROLS="instructor", INSTRUCTOR_TOKEN="teach", MAX_WAITING_JOBS="3")
    stack.start_consumer()
    page.goto(stack.base_url + "/")
    controls = page.locator("#class-controls")
    reason = controls.locator('[data-role="reason"]')
    reason.wait_for(state="visible")
    assert "instructor" in reason.inner_text()
    assert controls.locator('[data-role="reset"]').is_disabled()

    send(page, "rabbitmq", 20)
    row = page.locator('tr[data-task-num][data-status="IN_PROGRESS"]')
    row.wait_for(timeout=15_000)
    kill = row.locator('button[data-action="kill"]')
    assert kill.is_disabled() and "instructor" in kill.get_attribute("title")
    page.locator("#experiments-drawer > summary").click()
    page.locator('[data-choose="outage"]').click()  # the broker outage experiment, in the chooser
    page.locator('button[data-preset="close-connections"]').wait_for()
    assert page.locator('button[data-preset="close-connections"]').is_disabled()
    assert all(button.is_disabled() for button in page.locator('[data-role="kill-form"] button').all())
    assert page.locator('button[data-preset="send-20s"]').is_enabled()  # sending jobs is for everyone

    # The class is full: the API says 429 and the panel says how many wait and what to do.
    send(page, "celery", 1, count=5)
    result = page.locator('form[data-method="celery"] [data-role="result"]')
    page.wait_for_function("document.querySelector('form[data-method=\"celery\"] [data-role=\"result\"]')"
                           ".dataset.kind === 'error'")
    assert "already waiting" in result.inner_text() and "MAX_WAITING_JOBS" in result.inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "class-controls-student.png"), full_page=False)

    unlock = controls.locator('[data-role="unlock"]')
    unlock.locator("input").fill("wrong")
    unlock.locator("button").click()
    page.wait_for_function("document.querySelector('#class-controls [data-role=\"result\"]').textContent"
                           ".includes('not the instructor token')")
    assert kill.is_disabled()
    unlock.locator("input").fill("teach")
    unlock.locator("button").click()
    page.wait_for_function("document.querySelector('#class-controls').dataset.allowed === 'true'")
    assert reason.is_hidden() and unlock.is_hidden() and kill.is_enabled()
    assert page.locator('button[data-preset="close-connections"]').is_enabled()

    kill.click()  # the instructor's kill is real: the consumer dies mid-job
    page.wait_for_function("document.querySelector('tr[data-task-num] .row-note')?.textContent.startsWith('killed consumer')",
                           timeout=10_000)
    page.reload()  # the token is kept for this tab's session
    page.wait_for_function("document.querySelector('#class-controls').dataset.allowed === 'true'")
    assert page.errors == []


def test_the_workers_panel_shows_reports_waiting_then_delivered_late(stack, page):
    stack.start_api()
    page.goto(stack.base_url + "/")
    worker = {"worker_id": "laptop-7", "kind": "consumer", "hostname": "laptop", "pid": 7, "queue": "q"}

    def heartbeat(**backlog):
        answer = stack.session.post(stack.base_url + "/api/workers/heartbeat", json={**worker, **backlog},
                                    headers={"Authorization": f"Bearer {TOKEN}"})
        assert answer.status_code == 200, answer.text

    reports = page.locator('#workers [data-worker-id="laptop-7"] .reports')
    heartbeat(backlog=12, delivered_late=0)
    page.wait_for_function("document.querySelector('#workers [data-worker-id=\"laptop-7\"] .reports')"
                           "?.dataset.state === 'waiting'", timeout=10_000)
    assert reports.inner_text() == "⧗ 12 reports waiting for the API"
    heartbeat(backlog=0, delivered_late=12)
    page.wait_for_function("document.querySelector('#workers [data-worker-id=\"laptop-7\"] .reports')"
                           "?.dataset.state === 'delivered'", timeout=10_000)
    assert reports.inner_text() == "✓ 12 reports delivered late (up to 12 waited at once)"
    assert "LOST only when neither the job nor its worker" in page.locator("#workers").inner_text()
    assert page.errors == []
