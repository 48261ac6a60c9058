"""The Race drawer in a real headless Chromium on the real stack: race 10 zero-second jobs by Celery,
by RabbitMQ and (10 ≤ 20) synchronously, and see the figures and the chart fill in live.
Leaves a screenshot in test-artifacts/ (git-ignored)."""
import re
from pathlib import Path

import pytest

pytestmark = [pytest.mark.broker, pytest.mark.browser]

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
METHODS = ("celery", "celery_redis", "rabbitmq", "sync")
NUMBER = re.compile(r"^\d+(\.\d+)?\s*(ms|s)$")  # "3.4 ms", "0.42 ms", "1.25 s"

# Pixels of the canvas that are not transparent: the axes and grid alone, or with the three lines.
COUNT_PAINTED = """() => {
  const canvas = document.querySelector("#race canvas");
  const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) painted += 1;
  return painted;
}"""
# Pixels in a method's colour (the CSS custom property of the page), within a small tolerance.
COUNT_IN_COLOUR = """(method) => {
  const probe = document.createElement("span");
  probe.style.color = `var(--${method})`;
  document.body.append(probe);
  const [r, g, b] = getComputedStyle(probe).color.match(/\\d+/g).map(Number);
  probe.remove();
  const canvas = document.querySelector("#race canvas");
  const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let count = 0;
  for (let i = 0; i < pixels.length; i += 4) {
    if (pixels[i + 3] > 200 && Math.abs(pixels[i] - r) + Math.abs(pixels[i + 1] - g) + Math.abs(pixels[i + 2] - b) < 30) count += 1;
  }
  return count;
}"""




def figure(page, method, stat):
    return page.locator(f'#race tr[data-method="{method}"] [data-stat="{stat}"]').inner_text().strip()


def test_race_ten_jobs_four_ways_fills_figures_and_chart(stack, page):
    stack.start_api()
    stack.start_consumer()
    stack.start_celery_worker()
    stack.start_celery_worker("celery-redis", CELERY_BROKER_KIND="redis")  # this machine's Redis
    streams = []
    page.on("request", lambda request: "/api/events" in request.url and streams.append(request.url))
    page.goto(stack.base_url + "/")
    page.wait_for_function("document.body.innerText.includes('live (SSE)')", timeout=15_000)

    page.locator("#race-drawer > summary").click()
    race = page.locator("#race")
    form = race.locator("form")
    assert form.locator('input[name="count"]').input_value() == "100"  # the defaults the issue asks for
    assert form.locator('input[name="seconds"]').input_value() == "0"
    painted_before = page.evaluate(COUNT_PAINTED)  # the empty chart: axes, grid and a hint
    streams_before = len(streams)

    form.locator('input[name="count"]').fill("10")
    form.locator('button[type="submit"]').click()

    # Every method's figures reach 10 / 10, fed by the table's live stream.
    page.wait_for_function("""() => ["celery", "celery_redis", "rabbitmq", "sync"].every((method) => document.querySelector(
        `#race tr[data-method="${method}"] [data-stat="done"]`).textContent === "10 / 10")""", timeout=60_000)
    page.wait_for_function("document.querySelector('#race').dataset.state === 'over'", timeout=15_000)
    result_line = race.locator('[data-role="result"]')
    assert result_line.get_attribute("data-kind") == "ok"
    result = result_line.inner_text()
    assert "last job DONE after" in result and all(
        label in result for label in ("Celery · RabbitMQ", "Celery · Redis", "RabbitMQ", "Sync"))

    for method in METHODS:
        for stat in ("enqueue", "per_job", "p50", "p95"):
            assert NUMBER.match(figure(page, method, stat)), (method, stat, figure(page, method, stat))
        # in the page's language: "1,762" in English (a thousands separator), "7.5" under 10
        assert re.match(r"^\d{1,3}(,\d{3})*(\.\d)?$", figure(page, method, "jobs_per_s")), figure(page, method, "jobs_per_s")
        p50, p95 = (page.evaluate("""([method, stat]) => {
            const text = document.querySelector(`#race tr[data-method="${method}"] [data-stat="${stat}"]`).textContent;
            const [value, unit] = text.split(" ");
            return Number(value) * (unit === "s" ? 1000 : 1);
        }""", [method, stat]) for stat in ("p50", "p95"))
        assert 0 <= p50 <= p95, (method, p50, p95)

    # The chart: more painted than the empty axes, and each method's line in its own colour.
    assert page.evaluate(COUNT_PAINTED) > painted_before + 1000
    for method in METHODS:
        assert page.evaluate(COUNT_IN_COLOUR, method) > 200, method
    # Drawn for this screen's pixels: the backing store matches the CSS size × devicePixelRatio.
    sizes = page.evaluate("""() => { const c = document.querySelector("#race canvas");
        return [c.width, Math.round(c.clientWidth * devicePixelRatio)]; }""")
    assert sizes[0] == sizes[1] > 0

    # The same rows are in the live table: the race used the table's feed, not a stream of its own.
    assert page.locator('tr[data-task-num][data-status="DONE"]').count() == 40
    assert len(streams) == streams_before == 1

    ARTIFACTS.mkdir(exist_ok=True)
    race.scroll_into_view_if_needed()
    page.locator("#race-drawer").screenshot(path=str(ARTIFACTS / "race.png"))
    assert page.errors == []
