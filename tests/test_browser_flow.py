"""Inside the broker, in headless Chromium on the real stack: the flow diagram counts the real events
of the jobs sent (read from the DOM, not timed), animates them unless the student prefers reduced
motion, freezes on Pause; the queues' depth charts gain points. Screenshots in test-artifacts/."""
from pathlib import Path

import pytest

pytestmark = [pytest.mark.broker, pytest.mark.browser]

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
DOTS_SEEN = """() => { window.__dots = 0; new MutationObserver((changes) => { for (const change of changes)
    for (const node of change.addedNodes) if (node.classList?.contains('dot')) window.__dots += 1; })
    .observe(document.querySelector('svg.flow'), { childList: true, subtree: true }); }"""


def counts(page, lane: str) -> dict[str, int]:
    return page.evaluate(f"""() => Object.fromEntries([...document.querySelectorAll(
        '#flow td[data-lane="{lane}"]')].map(td => [td.dataset.event, Number(td.textContent)]))""")


def wait_counts(page, lane: str, event: str, at_least: int, timeout: float = 30_000):
    page.wait_for_function(f"""() => Number(document.querySelector(
        '#flow td[data-lane="{lane}"][data-event="{event}"]').textContent) >= {at_least}""", timeout=timeout)


def open_flow(page, stack):
    page.goto(stack.base_url + "/")
    assert page.locator("#flow-drawer").get_attribute("open") is not None  # open from the start
    page.evaluate(DOTS_SEEN)


@pytest.mark.parametrize("motion", ["no-preference", "reduce"])
def test_n_jobs_make_n_deliveries_and_n_acks_in_the_diagram(stack, management_api, page, motion):
    stack.start_api(RABBITMQ_MANAGEMENT_URL=management_api)
    stack.start_consumer()
    stack.start_celery_worker()
    page.emulate_media(reduced_motion=motion)
    open_flow(page, stack)
    page.locator('svg.flow [data-node$=":api"]').first.wait_for()
    n = 6
    for method in ("rabbitmq", "celery"):
        assert stack.submit(method, seconds=0.2, count=n).status_code == 202
    for lane in ("rabbitmq", "celery"):
        wait_counts(page, lane, "acked", n)
        seen = counts(page, lane)
        assert (seen["published"], seen["delivered"], seen["acked"]) == (n, n, n), seen
        assert seen["failed"] == seen["lost"] == seen["redelivered"] == 0
    assert page.locator("#flow").get_attribute("data-motion") == ("reduced" if motion == "reduce" else "full")
    dots = page.evaluate("window.__dots")
    if motion == "reduce":
        assert dots == 0  # counts only, nothing moves
    else:
        assert dots >= 1  # real events, drawn as dots (many at once aggregate into counts)
        page.locator('svg.flow .node.worker').first.wait_for()  # the workers online, as boxes
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator("#flow").screenshot(path=str(ARTIFACTS / f"flow-{motion}.png"))
    assert page.errors == []


def test_pause_freezes_the_diagram_and_the_depth_charts_gain_points(stack, management_api, page):
    stack.start_api(RABBITMQ_MANAGEMENT_URL=management_api)
    stack.start_consumer()
    open_flow(page, stack)
    chart = page.locator('svg.depth[data-depth="rabbitmq"]')
    page.wait_for_function("Number(document.querySelector('svg.depth[data-depth=\"rabbitmq\"]').dataset.points) >= 2",
                           timeout=15_000)
    before = int(chart.get_attribute("data-points"))
    page.locator('#flow [data-role="pause"]').click()
    assert stack.submit("rabbitmq", seconds=0.2, count=3).status_code == 202
    page.wait_for_function("document.querySelectorAll('tr[data-task-num][data-status=\"DONE\"]').length === 3",
                           timeout=20_000)
    assert counts(page, "rabbitmq")["acked"] == 0  # frozen for explaining
    page.locator('#flow [data-role="pause"]').click()
    assert counts(page, "rabbitmq")["acked"] == 3  # counted on resume, not replayed
    page.wait_for_function(f"Number(document.querySelector('svg.depth[data-depth=\"rabbitmq\"]').dataset.points) > {before}",
                           timeout=15_000)
    assert page.locator('svg.depth[data-depth="rabbitmq"] polyline.ready').get_attribute("points").count(",") >= 2
    page.locator("#queues").screenshot(path=str(ARTIFACTS / "queue-depth.png"))
    assert page.errors == []
