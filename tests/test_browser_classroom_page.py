"""The page for a classroom, in headless Chromium on the real stack: in Russian and Ukrainian with no
English left in the send panels and the table; the table in view after Send on a 1366×768 laptop;
presenter mode for a projector; a student's name on their jobs and the "mine" filter; offline
workers folded into one line. Leaves a screenshot per language in test-artifacts/."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from tests.helpers import TOKEN, send

pytestmark = [pytest.mark.broker, pytest.mark.browser]

PROJECT = Path(__file__).resolve().parent.parent
ARTIFACTS = PROJECT / "test-artifacts"
LAPTOP = {"width": 1366, "height": 768}


def translations(language: str) -> dict[str, str]:
    with open(PROJECT / "translations" / language / "LC_MESSAGES" / "messages.po", "rb") as f:
        return {m.id: m.string for m in read_po(f) if isinstance(m.id, str) and m.id}


def wait_rows(page, count: int, status: str | None = None, timeout: float = 30_000):
    selector = "tr[data-task-num]" + (f'[data-status="{status}"]' if status else "")
    page.wait_for_function(f"document.querySelectorAll('{selector}').length >= {count}", timeout=timeout)


# Words that may stay in Latin letters on a Russian or Ukrainian page: names of products and code.
LATIN_ALLOWED = {"Celery", "RabbitMQ", "Redis", "delay", "pika", "ack", "late", "early", "prefetch", "TTL", "wait",
                 "SSE", "HTTP", "soft", "hard", "SoftTimeLimitExceeded", "apply_async", "countdown", "heartbeat"}


def english_left(text: str) -> list[str]:
    return sorted({w for w in re.findall(r"[A-Za-z][A-Za-z_]{2,}", text) if w not in LATIN_ALLOWED})


@pytest.mark.parametrize("language", ["ru", "uk"])
def test_the_page_speaks_the_language_and_stays_live_when_switched(stack, page, language):
    stack.start_api()
    stack.start_consumer()
    words = translations(language)
    page.set_viewport_size(LAPTOP)
    page.goto(f"{stack.base_url}/?lang={language}")
    assert page.locator("html").get_attribute("lang") == language
    assert page.locator("section.jobs h2").inner_text() == words["Jobs"]
    assert page.locator("#workers h2").inner_text() == words["Workers"]
    assert page.locator('form[data-method="rabbitmq"] button[type="submit"]').inner_text() == words["Send"]
    page.wait_for_function(f"document.getElementById('connection').textContent === {words['live (SSE)']!r}")

    send(page, "rabbitmq", 0.5, count=2)
    send(page, "sync", 0.2)
    wait_rows(page, 3, "DONE")
    assert page.locator('tr[data-task-num] .pill').first.inner_text() == words["DONE"]
    # No English left in what a student reads first: the send panels and the table (data cells aside).
    panels = page.locator("section.panels").inner_text()
    table = page.evaluate("""() => [...document.querySelectorAll('section.jobs')].map(s => {
        const copy = s.cloneNode(true);
        copy.querySelectorAll('td.worker, td.owner, td.num').forEach(td => td.remove());
        return copy.innerText; }).join(' ')""")
    assert english_left(panels) == [] and english_left(table) == [], (english_left(panels), english_left(table))
    # A worker's profile is worded by the page from its facts, in the page's language.
    profile = page.locator('#workers [data-kind="consumer"] .profile')
    profile.wait_for()
    assert words["threaded"] in profile.inner_text() and english_left(profile.inner_text()) == [], profile.inner_text()

    # Switch: the page comes back in the other language with the same rows, and still live.
    other = "uk" if language == "ru" else "ru"
    page.locator(f'nav.languages a[hreflang="{other}"]').click()
    page.wait_for_function(f"document.documentElement.lang === '{other}'")
    wait_rows(page, 3, "DONE")
    assert page.locator('tr[data-task-num] .pill').first.inner_text() == translations(other)["DONE"]
    send(page, "rabbitmq", 0.3)
    wait_rows(page, 4, "DONE")
    assert page.errors == []


IN_VIEW = """(selector) => {
    const r = document.querySelector(selector).getBoundingClientRect();
    return r.height > 0 && r.top >= 0 && r.bottom <= innerHeight && r.left >= 0 && r.right <= innerWidth;
}"""
# Rows wholly on the screen: inside the viewport and inside the table's scrolling box.
ROWS_IN_VIEW = """() => {
    const box = document.querySelector('.table-box').getBoundingClientRect();
    return [...document.querySelectorAll('tr[data-task-num]')].filter((tr) => {
        const r = tr.getBoundingClientRect();
        return r.height > 0 && r.top >= Math.max(0, box.top) && r.bottom <= Math.min(innerHeight, box.bottom) + 0.5;
    }).length;
}"""


QUEUE_TEXT_PX = "parseFloat(getComputedStyle(document.querySelector('svg.flow .node.queue text')).fontSize)"


@pytest.mark.parametrize("language", ["en", "ru", "uk"])
def test_after_send_the_new_row_and_the_broker_diagram_share_a_1366x768_screen(stack, page, language):
    """The page's best lesson is in view where the eye is: after Send, the new row and the whole "Inside
    the broker" diagram (open from the start) are on a projector's screen without scrolling — and in
    presenter mode with at least five rows, the header on one line and the diagram's text larger."""
    stack.start_api()
    stack.start_consumer()
    page.set_viewport_size(LAPTOP)
    text = {}
    for present, rows in (("0", 1), ("1", 8)):
        page.goto(f"{stack.base_url}/?lang={language}&present={present}")
        if present == "1":
            assert stack.submit("rabbitmq", 0, count=6).status_code == 202
            wait_rows(page, 7, "DONE")
        send(page, "rabbitmq", 0.5)
        wait_rows(page, rows)
        page.wait_for_function("document.querySelector('svg.flow .node.worker') !== null", timeout=15_000)
        page.wait_for_function("document.querySelector('svg.flow .node.queue text') !== null", timeout=15_000)
        assert page.evaluate("window.scrollY") == 0
        newest = page.locator("tr[data-task-num]").first
        assert newest.get_attribute("data-task-num") == str(rows)
        assert page.evaluate(IN_VIEW, "tr[data-task-num]"), newest.bounding_box()
        assert page.locator("#flow-drawer").get_attribute("open") is not None
        assert page.evaluate(IN_VIEW, "svg.flow"), page.locator("svg.flow").bounding_box()
        assert page.evaluate(IN_VIEW, "svg.flow .node.worker"), "a worker box is drawn inside the diagram"
        text[present] = page.evaluate(QUEUE_TEXT_PX)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"page-{language}{'-presenter' if present == '1' else ''}.png"))
    assert page.evaluate(ROWS_IN_VIEW) >= 5  # presenter mode
    header, title = (page.locator(sel).bounding_box() for sel in (".page-header", ".page-header h1"))
    assert header["height"] <= title["height"] * 1.9, "one line of header"
    assert text["0"] >= 11 and text["1"] >= 1.15 * text["0"], text  # drawn at its real size: it scales
    assert page.errors == []


def test_presenter_mode_enlarges_the_table_and_is_remembered(stack, page):
    stack.start_api()
    page.set_viewport_size(LAPTOP)
    page.goto(stack.base_url + "/")
    assert stack.submit("sync", 0).status_code == 200
    wait_rows(page, 1, "DONE")
    size = lambda: page.evaluate(  # noqa: E731
        "parseFloat(getComputedStyle(document.querySelector('tr[data-task-num] td.num')).fontSize)")
    normal = size()
    page.locator("#presenter").click()
    assert size() >= normal * 1.25
    assert page.locator("#presenter").get_attribute("aria-pressed") == "true"
    page.reload()  # remembered
    wait_rows(page, 1, "DONE")
    assert page.evaluate("document.documentElement.classList.contains('present')") and size() >= normal * 1.25
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "page-presenter.png"))
    page.goto(stack.base_url + "/?present=0")
    wait_rows(page, 1, "DONE")
    assert size() == normal
    page.goto(stack.base_url + "/?present=1")  # a link an instructor can open on the projector
    assert page.evaluate("document.documentElement.classList.contains('present')")
    assert page.errors == []


def test_a_name_goes_with_its_jobs_and_mine_hides_the_others(stack, page):
    stack.start_api()
    page.goto(stack.base_url + "/")
    name = page.locator("#owner-name")
    name.fill("<b>Ada</b> Lovelace")
    name.dispatch_event("change")
    send(page, "sync", 0)
    assert stack.session.post(stack.base_url + "/api/tasks", json={"method": "sync", "seconds": 0,
                                                                   "owner": "Bob"}).status_code == 200
    assert stack.submit("sync", 0).status_code == 200  # no name
    wait_rows(page, 3, "DONE")
    mine = page.locator('tr[data-task-num][data-mine="true"]')
    assert mine.count() == 1 and mine.locator("td.owner").inner_text() == "<b>Ada</b> Lovelace"  # as text
    page.locator("#mine-only").click()
    assert page.locator("tr[data-task-num]:visible").count() == 1
    page.reload()  # the name is kept in this browser
    assert page.locator("#owner-name").input_value() == "<b>Ada</b> Lovelace"
    # The race carries it too
    page.locator("#race-drawer > summary").click()
    page.locator('.race-form input[name="count"]').fill("1")
    page.locator('.race-form button[type="submit"]').click()
    page.wait_for_function("document.querySelectorAll('tr[data-task-num][data-mine=\"true\"]').length >= 4",
                           timeout=30_000)
    assert page.errors == []


def test_offline_workers_fold_into_one_line_that_opens(stack, page):
    stack.start_api()
    page.goto(stack.base_url + "/")

    def heartbeat(worker_id: str, leaving: bool):
        answer = stack.session.post(stack.base_url + "/api/workers/heartbeat", headers={"Authorization": f"Bearer {TOKEN}"},
                                    json={"worker_id": worker_id, "kind": "consumer", "hostname": "h", "pid": 1,
                                          "leaving": leaving})
        assert answer.status_code == 200

    for n in range(3):
        heartbeat(f"gone-{n}", leaving=True)
    heartbeat("alive-1", leaving=False)
    toggle = page.locator('#workers [data-role="offline-toggle"] button')
    toggle.wait_for(timeout=10_000)
    assert toggle.inner_text() == "3 offline ▸"
    assert page.locator('#workers tr[data-worker-id]:visible').count() == 1  # only the live one
    toggle.click()
    assert toggle.inner_text() == "3 offline ▾"
    assert page.locator('#workers tr[data-worker-id]:visible').count() == 4
    assert page.errors == []


@pytest.mark.parametrize("language", ["en", "ru", "uk"])
def test_the_summary_reads_at_1366_in_every_language(stack, page, language):
    """At a projector's 1366×768 no Summary heading runs out of its column into the next (Russian's
    'ср. ожидание' did), and the table stays inside its panel."""
    stack.start_api()
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(f"{stack.base_url}/?lang={language}")
    page.wait_for_selector("#summary tbody tr")
    spilled = page.evaluate("""() => [...document.querySelectorAll('#summary thead th')].filter((th) => {
        const cell = th.getBoundingClientRect(), range = document.createRange();
        range.selectNodeContents(th);
        const text = range.getBoundingClientRect();
        return text.right > cell.right + 0.5 || text.left < cell.left - 0.5;
    }).map((th) => th.textContent.trim())""")
    assert spilled == []
    table, panel = (page.locator(sel).bounding_box() for sel in ("#summary", "#summary >> xpath=ancestor::*[contains(@class, 'box')][1]"))
    assert table["x"] + table["width"] <= panel["x"] + panel["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366  # no sideways scrolling


@pytest.mark.parametrize("language", ["en", "ru", "uk"])
def test_job_rows_read_at_1366_in_every_language(stack, page, language):
    """Each method badge and status pill stays inside its cell on one line (the Celery · RabbitMQ badge
    ran under the pill, IN PROGRESS wrapped), the table never scrolls sideways, and a worker id cut
    short by its column shows whole on hover."""
    stack.start_api()
    stack.start_consumer()
    stack.start_celery_worker()
    for method in ("celery", "rabbitmq"):
        stack.submit(method, 8)
    stack.post("/api/tasks", method="celery_redis", seconds=1)
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(f"{stack.base_url}/?lang={language}")
    page.wait_for_function("document.querySelectorAll('tr[data-status=\"IN_PROGRESS\"]').length === 2", timeout=20_000)
    layout = page.evaluate("""() => {
        const box = document.querySelector('.table-box'), spill = [];
        for (const inner of document.querySelectorAll('#tasks tbody .pill, #tasks tbody .badge')) {
            const a = inner.getBoundingClientRect(), cell = inner.closest('td').getBoundingClientRect();
            if (a.right > cell.right + 0.5 || a.height > 1.9 * parseFloat(getComputedStyle(inner).fontSize)) {
                spill.push(inner.textContent);
            }
        }
        const workers = [...document.querySelectorAll('#tasks tbody td.worker')].filter((td) => td.textContent !== '—');
        return {scroll: box.scrollWidth, client: box.clientWidth, spill,
                titles: workers.every((td) => td.title === td.textContent)};
    }""")
    assert layout["spill"] == [] and layout["scroll"] <= layout["client"], layout
    assert layout["titles"], layout
    assert page.errors == []


def test_a_broker_error_is_a_few_lines_with_all_of_it_on_a_click(stack, page):
    """With RabbitMQ away, Send answers 503 and the row ends ERROR: the panel's message and the row's
    reason fold to their first lines (they wrapped to ~16 lines and pushed the new row off a
    1366×768 screen), the new row stays in view, and a click unfolds the whole text."""
    from ops.stack import free_port

    stack.start_api(RABBITMQ_URL=f"amqp://guest:guest@127.0.0.1:{free_port()}/",
                    RABBITMQ_MANAGEMENT_URL=f"http://127.0.0.1:{free_port()}")
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(stack.base_url)
    form = send(page, "celery", 1)
    result = form.locator('[data-role="result"]')
    page.wait_for_function("""() => document.querySelector('form[data-method="celery"] [data-role="result"]')
        ?.dataset.kind === 'error'""", timeout=20_000)
    row = page.locator("tr[data-task-num]").first
    row.wait_for(timeout=10_000)
    page.wait_for_function("document.querySelector('tr[data-task-num]').dataset.status === 'ERROR'", timeout=10_000)
    line = float(result.evaluate("(node) => parseFloat(getComputedStyle(node).lineHeight)"))
    folded = result.bounding_box()["height"]
    assert folded <= 3.5 * line
    assert "RabbitMQ is not reachable" in result.get_attribute("title")
    assert row.bounding_box()["height"] < 90
    assert row.bounding_box()["y"] + row.bounding_box()["height"] <= 768  # the new row is on the screen
    result.click()
    assert result.bounding_box()["height"] > folded  # all of it, on demand
    result.press("Enter")
    assert result.bounding_box()["height"] == folded
    # The Queues panel's "management API not reachable …" folds the same way.
    panel_error = page.locator('#queues [data-role="error"]')
    panel_error.wait_for(timeout=10_000)
    line = float(panel_error.evaluate("(node) => parseFloat(getComputedStyle(node).lineHeight)"))
    assert panel_error.bounding_box()["height"] <= 3.5 * line and "not reachable" in panel_error.get_attribute("title")
    assert page.errors == []


# Within each row, the box of what each cell holds (its text, badge, pill, bar — not the cell) may not
# intersect or touch another cell's (less than 3 px apart side by side reads as one word: "прогрессворкер"),
# nor run past the right edge of the table's panel.
CLASHES = """(selector) => {
    const clashes = [];
    for (const tr of document.querySelectorAll(selector)) {
        const panel = tr.closest('.box, .jobs').getBoundingClientRect();
        const held = [...tr.children].map((cell) => {
            const range = document.createRange();
            range.selectNodeContents(cell);
            return { text: cell.textContent.trim().replace(/\\s+/g, ' ').slice(0, 40), box: range.getBoundingClientRect() };
        }).filter(({ box }) => box.width > 0 && box.height > 0);
        held.forEach(({ text, box }, i) => {
            if (box.right > panel.right + 0.5) clashes.push([text, 'past the panel']);
            for (const other of held.slice(i + 1)) {
                const b = other.box;
                if (box.left < b.right + 3 && b.left < box.right + 3 && box.top < b.bottom - 1 && b.top < box.bottom - 1) {
                    clashes.push([text, other.text]);
                }
            }
        });
    }
    return clashes;
}"""


@pytest.mark.parametrize("language", ["en", "ru", "uk"])
def test_no_two_cells_overlap_in_the_jobs_summary_or_queues_at_1366(stack, page, management_api, language):
    """Bounding boxes at 1366×768, in every language and both modes: no cell's content runs into its
    neighbour's in the jobs table (running, retrying, scheduled, failed and done rows, with their Kill
    buttons and reasons), the Summary, or the Queues panel."""
    stack.env["RETRY_DELAY_S"] = "20"  # the flaky job stays RETRYING while the others run
    stack.start_api(RABBITMQ_MANAGEMENT_URL=management_api)
    stack.start_consumer()
    stack.start_celery_worker()
    # The consumer fails the flaky job at once and runs the 20 s one while the flaky one waits in .wait.
    for body in ({"method": "rabbitmq", "seconds": 0.4, "flaky": 3}, {"method": "rabbitmq", "seconds": 20},
                 {"method": "celery", "seconds": 20}, {"method": "rabbitmq", "seconds": 1, "delay_s": 60},
                 {"method": "sync", "seconds": 0, "fail": True}, {"method": "sync", "seconds": 0}):
        assert stack.post("/api/tasks", **body).status_code in (200, 202), body
    page.set_viewport_size(LAPTOP)
    for present in ("0", "1"):
        page.goto(f"{stack.base_url}/?lang={language}&present={present}")
        page.wait_for_function("""() => document.querySelectorAll('tr[data-status="IN_PROGRESS"]').length === 2
            && document.querySelector('tr[data-status="RETRYING"]') !== null""", timeout=20_000)
        page.wait_for_function("document.querySelector('#queues [data-queue=\"rabbitmq\"] [data-stat=\"ready\"]').textContent !== '—'",
                               timeout=20_000)
        page.wait_for_selector("#summary td[data-stat='sent']:not(:empty)")
        clashes = {table: page.evaluate(CLASHES, f"{table} tr") for table in ("#tasks", "#summary", "#queues table.queues")}
        assert clashes == {"#tasks": [], "#summary": [], "#queues table.queues": []}, (present, clashes)
        assert page.evaluate("document.documentElement.scrollWidth") <= LAPTOP["width"]
    assert page.errors == []


def test_the_queue_counts_settle_to_zero_when_the_jobs_are_done(stack, page, management_api):
    """The broker's figures lag (it samples every 5 s): once every job is DONE, the Queues panel shows
    0 ready and 0 unacked within a sample or two, never a stale "unacked 1"."""
    stack.start_api(RABBITMQ_MANAGEMENT_URL=management_api)
    stack.start_consumer()
    stack.start_celery_worker()
    page.goto(stack.base_url + "/")
    send(page, "rabbitmq", 1, count=3)
    send(page, "celery", 1, count=3)
    wait_rows(page, 6, "DONE", timeout=40_000)
    page.wait_for_function("""() => ['celery', 'rabbitmq'].every((path) => ['ready', 'unacked'].every((stat) =>
        document.querySelector(`#queues [data-queue="${path}"] [data-stat="${stat}"]`).textContent === '0'))""",
                           timeout=15_000)
    assert page.errors == []
