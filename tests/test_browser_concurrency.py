"""The concurrency lesson on the page, in a real headless Chromium on the real stack: the card's
buttons grow and shrink a real Celery worker's pool and change its prefetch, and the workers panel
shows the worker, its processes and what it holds unacked."""
import re

import pytest

from tests.test_browser_fault_lab import choose_experiment, open_fault_lab, result_of

pytestmark = [pytest.mark.broker, pytest.mark.browser]


def test_the_concurrency_card_tunes_the_worker_and_the_panel_shows_what_it_holds(stack, page):
    stack.env.update(WORKER_HEARTBEAT_S="0.5")
    stack.start_api()
    stack.start_celery_worker("celery")
    page.set_viewport_size({"width": 1366, "height": 768})  # a projector
    page.goto(stack.base_url + "/")
    node_row = page.locator('#workers tr[data-kind="celery_node"] .profile')
    node_row.filter(has_text="1 process").wait_for(timeout=20_000)
    open_fault_lab(page)
    card = choose_experiment(page, "concurrency")

    card.locator('button[data-preset="prefetch-four"]').click()
    said = result_of(page, "concurrency", "ok")
    assert "1 → 4 processes, prefetch ×4" in said, said
    node_row.filter(has_text="4 processes · prefetch_count 16 (4 × 4)").wait_for(timeout=20_000)
    processes = page.locator('#workers tr[data-kind="celery"] .profile', has_text="a process of")
    processes.nth(3).wait_for(timeout=20_000)
    assert "prefetch ×4" in processes.first.inner_text()  # the worker's multiplier, not the one it started with

    card.locator('button[data-preset="send-mix"]').click()
    page.wait_for_function("document.querySelectorAll('tr[data-task-num]').length === 12", timeout=30_000)
    # four run, and the worker holds the rest it took (prefetch 16) waiting for a free process
    node_row.filter(has_text=re.compile(r"holds 4 running \+ [1-9]\d* waiting")).wait_for(timeout=20_000)

    page.wait_for_function("document.querySelectorAll('tr[data-task-num][data-status=\"DONE\"]').length === 12",
                           timeout=90_000)
    card.locator('button[data-preset="one-process"]').click()
    said = result_of(page, "concurrency", "ok")
    assert "4 → 1 processes" in said, said
    node_row.filter(has_text="1 process · prefetch_count 1 (1 × 1)").wait_for(timeout=20_000)
    assert page.errors == []
