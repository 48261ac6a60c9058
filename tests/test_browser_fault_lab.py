"""The fault lab's page half in a real headless Chromium on the real stack: the chooser, the experiment
cards and their presets, the new statuses in the live table, the fault options, and the per-row kill button.
Leaves a screenshot in test-artifacts/ (git-ignored)."""
import json
import re
import time
from pathlib import Path

import pytest

from api.experiments import RATE_JOBS
from ops.stack import wait_until
from tests.helpers import TOKEN

pytestmark = [pytest.mark.broker, pytest.mark.browser]

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
FAST_RETRIES = {"RETRY_DELAY_S": "1"}  # every process declaring the .wait queue must agree on its TTL




def record_posts(page) -> list[dict]:
    """Every JSON body the page POSTs to /api/tasks, in order."""
    bodies = []
    page.on("request", lambda request: bodies.append(json.loads(request.post_data))
            if request.method == "POST" and request.url.endswith("/api/tasks") else None)
    return bodies


def watch_statuses(page) -> None:
    """Record every status each row shows, with its countdown and reason at that moment: a
    RETRYING row lasts about a second, too short to catch by polling the page."""
    page.evaluate("""() => {
        window.__seen = [];
        new MutationObserver((changes) => {
            for (const change of changes) {
                const tr = change.target;
                window.__seen.push({num: Number(tr.dataset.taskNum), status: tr.dataset.status,
                    pill: tr.querySelector(".pill").textContent, due: tr.querySelector(".due").textContent,
                    error: tr.querySelector(".row-error").textContent});
            }
        }).observe(document.getElementById("task-rows"),
                   {subtree: true, attributes: true, attributeFilter: ["data-status"]});
    }""")


EXPERIMENTS = ["kill", "lost", "retries", "delayed", "time-limits", "prefetch", "heartbeat", "outage",
               "slow-consumer", "quorum", "redis-kill", "redis-countdown", "redis-outage", "stranger",
               "routes", "exchanges", "concurrency", "rate-limits", "results", "get-in-task", "rpc-once", "result-expiry", "results-pile-up", "canvas"]


def open_fault_lab(page):
    page.locator("#experiments-drawer > summary").click()
    page.wait_for_function(f"document.querySelectorAll('#experiments [data-experiment]').length === {len(EXPERIMENTS)}",
                           timeout=10_000)


def result_of(page, experiment: str, kind: str) -> str:
    """The card's result line, once it says `kind` (ok | error): its text."""
    selector = f'[data-experiment="{experiment}"] [data-role="result"]'
    page.wait_for_function(f"document.querySelector('{selector}').dataset.kind === '{kind}'", timeout=20_000)
    return page.locator(selector).inner_text()


def choose_experiment(page, experiment_id):
    """The chooser's tab for this experiment: only the chosen card is shown, so its buttons work."""
    page.locator(f'#experiments [role="tab"][data-choose="{experiment_id}"]').click()
    card = page.locator(f'[data-experiment="{experiment_id}"]')
    card.wait_for(state="visible")
    return card


def shown_cards(page) -> list[str]:
    return page.locator("#experiments [data-experiment]:visible").evaluate_all(
        "cards => cards.map(c => c.dataset.experiment)")


def chosen_tab(page) -> str:
    return page.locator('#experiments [role="tab"][aria-selected="true"]').get_attribute("data-choose")


def test_retries_preset_shows_retrying_then_done_on_attempt_3(stack, page):
    stack.start_api(**FAST_RETRIES)
    stack.start_consumer(**FAST_RETRIES)
    stack.start_celery_worker(**FAST_RETRIES)
    posts = record_posts(page)
    page.goto(stack.base_url + "/")
    page.wait_for_function("document.body.innerText.includes('live (SSE)')", timeout=10_000)

    open_fault_lab(page)
    ids = page.locator("#experiments [data-experiment]").evaluate_all("cards => cards.map(c => c.dataset.experiment)")
    assert ids == EXPERIMENTS
    retries = choose_experiment(page, "retries")
    assert re.fullmatch(r"Celery: \d+ lines · RabbitMQ by hand: \d+ lines",
                        retries.locator('[data-role="line-counts"]').inner_text())
    for heading in ("TRY THIS", "YOU WILL SEE"):  # dt text is upper-cased by CSS
        assert heading in retries.inner_text()
    retries.locator('[data-role="because"] > summary').click()  # the explanation folds out
    assert "autoretry_for" in retries.locator('[data-role="because"]').inner_text()

    watch_statuses(page)
    retries.locator('button[data-preset="flaky-2"]').click()
    result = retries.locator('[data-role="result"]')
    page.wait_for_function("""() => /^Celery · RabbitMQ: queued #\\d+ · RabbitMQ: queued #\\d+$/.test(
        document.querySelector('[data-experiment="retries"] [data-role="result"]').textContent)""", timeout=10_000)
    assert result.get_attribute("data-kind") == "ok"
    assert [{k: v for k, v in body.items() if k != "count"} for body in posts] == [
        {"method": "celery", "seconds": 2, "flaky": 2}, {"method": "rabbitmq", "seconds": 2, "flaky": 2}]

    # The raw retry waits RETRY_DELAY_S in the .wait queue: long enough to see it live.
    page.locator('tr[data-method="rabbitmq"][data-status="RETRYING"]').wait_for(timeout=20_000)
    page.wait_for_function(
        "document.querySelectorAll('tr[data-task-num][data-status=\"DONE\"]').length === 2", timeout=60_000)
    for method in ("celery", "rabbitmq"):
        row = page.locator(f'tr[data-task-num][data-method="{method}"]')
        # text_content: the row may be scrolled out of the table's box while the fault lab is in view
        # the raw row also says who counted: the broker's x-death (two trips through .wait)
        assert row.locator(".attempt").text_content() == {"celery": "attempt 3", "rabbitmq": "attempt 3 · x-death: 2"}[method]
        assert row.locator(".row-error").text_content() == ""  # DONE clears the failed attempts' reason
        assert row.locator(".due").text_content() == ""

    seen = page.evaluate("window.__seen")
    raw_num = int(page.locator('tr[data-task-num][data-method="rabbitmq"]').get_attribute("data-task-num"))
    retrying = [s for s in seen if s["num"] == raw_num and s["status"] == "RETRYING"]
    assert retrying, seen
    assert retrying[0]["pill"] == "RETRYING"
    assert re.fullmatch(r"retry in 1 s|retrying…", retrying[0]["due"]), retrying[0]
    assert "failed on purpose" in retrying[0]["error"]
    page.wait_for_function("""() => ["celery", "rabbitmq"].every((method) => document.querySelector(
        `#summary tr[data-method="${method}"] td[data-stat="done"]`).textContent === "1")""",
                           timeout=10_000)  # the summary is refreshed at most once a second

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "fault-lab.png"), full_page=True)
    assert page.errors == []


def test_the_chooser_shows_one_card_fits_a_laptop_screen_and_remembers_the_choice(stack, page):
    """A tab per experiment beside the one chosen card: at 1366×768 the open drawer is no taller than
    the screen for any card, its "Because…" open; arrows choose from the keyboard; a reload comes
    back to the choice (localStorage); a #experiment-<id> link opens the drawer on that card."""
    stack.start_api()
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(stack.base_url + "/")
    open_fault_lab(page)
    tabs = page.locator('#experiments [role="tablist"] [role="tab"]')
    assert tabs.evaluate_all("tabs => tabs.map(t => t.dataset.choose)") == EXPERIMENTS
    assert (chosen_tab(page), shown_cards(page)) == ("kill", ["kill"])  # the first, until one is chosen

    card = choose_experiment(page, "quorum")
    assert (chosen_tab(page), shown_cards(page)) == ("quorum", ["quorum"])
    assert card.get_attribute("role") == "tabpanel"
    assert page.locator('[data-choose="quorum"]').get_attribute("aria-controls") == card.get_attribute("id")

    drawer = page.locator("#experiments-drawer")
    heights = {}
    for experiment_id in EXPERIMENTS:
        card = choose_experiment(page, experiment_id)
        card.locator('[data-role="because"] > summary').click()
        heights[experiment_id] = drawer.evaluate("d => d.getBoundingClientRect().height")
    assert max(heights.values()) <= 768, heights

    # The keyboard: Tab stops at the chosen tab only; arrows, Home and End move and choose.
    page.locator('[data-choose="heartbeat"]').click()
    page.keyboard.press("ArrowDown")
    assert chosen_tab(page) == "outage" == page.evaluate("document.activeElement.dataset.choose")
    assert shown_cards(page) == ["outage"]
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")
    assert chosen_tab(page) == "prefetch"
    page.keyboard.press("End")
    assert chosen_tab(page) == EXPERIMENTS[-1]
    page.keyboard.press("ArrowDown")  # round to the first
    assert chosen_tab(page) == EXPERIMENTS[0] == page.evaluate("document.activeElement.dataset.choose")
    page.keyboard.press("Tab")  # out of the list, into the chosen card
    assert page.evaluate("document.activeElement.closest('[data-experiment]')?.dataset.experiment") == EXPERIMENTS[0]
    page.keyboard.press("Shift+Tab")  # back to the chosen tab, not to the last of the list
    assert page.evaluate("document.activeElement.dataset.choose") == EXPERIMENTS[0]
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Home")
    assert chosen_tab(page) == EXPERIMENTS[0] == page.evaluate("document.activeElement.dataset.choose")

    choose_experiment(page, "redis-outage")
    page.reload()
    open_fault_lab(page)
    assert (chosen_tab(page), shown_cards(page)) == ("redis-outage", ["redis-outage"])

    page.goto(stack.base_url + "/#experiment-stranger")  # a link: the drawer opens on that card
    page.locator('[data-experiment="stranger"]').wait_for(state="visible", timeout=10_000)
    assert drawer.evaluate("d => d.open") and chosen_tab(page) == "stranger"

    page.set_viewport_size({"width": 700, "height": 900})  # narrow: the list goes above the card
    chooser_box = page.locator('#experiments [role="tablist"]').bounding_box()
    card_box = page.locator('[data-experiment="stranger"]').bounding_box()
    assert chooser_box["y"] + chooser_box["height"] <= card_box["y"]
    ARTIFACTS.mkdir(exist_ok=True)
    page.set_viewport_size({"width": 1366, "height": 768})
    drawer.screenshot(path=str(ARTIFACTS / "fault-lab-chooser.png"))
    assert page.errors == []


def test_fault_options_send_only_what_differs_and_scheduled_counts_down(stack, page):
    stack.start_api()
    stack.start_consumer()
    posts = record_posts(page)
    page.goto(stack.base_url + "/")
    form = page.locator('form[data-method="rabbitmq"]')
    form.locator('input[name="seconds"]').fill("0.5")
    form.locator("details.fault-options > summary").click()
    form.locator('input[name="delay_s"]').fill("3")
    assert form.locator('[data-role="fault-summary"]').inner_text() == "· start in 3 s"
    form.locator('button[type="submit"]').click()
    row = page.locator('tr[data-method="rabbitmq"][data-status="SCHEDULED"]')
    row.wait_for(timeout=10_000)
    assert re.fullmatch(r"starts in [123] s", row.locator(".due").inner_text())
    page.locator('tr[data-method="rabbitmq"][data-status="DONE"]').wait_for(timeout=20_000)

    form.locator('input[name="delay_s"]').fill("0")  # back to the default: not sent at all
    form.locator('button[type="submit"]').click()
    page.wait_for_function("document.querySelectorAll('tr[data-status=\"DONE\"]').length === 2", timeout=20_000)
    assert posts == [{"method": "rabbitmq", "seconds": 0.5, "count": 1, "fail": False, "delay_s": 3},
                     {"method": "rabbitmq", "seconds": 0.5, "count": 1, "fail": False}]
    # "Clear finished" hides DONE (and ERROR and LOST) rows
    page.locator("#clear-finished").click()
    assert page.locator("tr[data-task-num]").count() == 0
    assert page.errors == []


def test_the_row_kill_button_kills_its_worker_and_the_job_comes_back_as_attempt_2(stack, page):
    stack.start_api()
    stack.start_consumer("consumer1")
    stack.start_consumer("consumer2")
    page.goto(stack.base_url + "/")
    (num,) = stack.submit("rabbitmq", seconds=20).json()["task_nums"]
    row = page.locator(f'tr[data-task-num="{num}"]')
    kill = row.locator('button[data-action="kill"]')
    page.locator(f'tr[data-task-num="{num}"][data-status="IN_PROGRESS"]').wait_for(timeout=15_000)
    first_worker = row.locator("td.worker").inner_text()
    # The API needs the worker's pid from its heartbeat, sent when it starts.
    wait_until(lambda: any(w["worker_id"] == first_worker for w in
                           stack.session.get(stack.base_url + "/api/workers").json()["workers"]),
               10, what=f"{first_worker} to announce itself")
    kill.click()
    note = row.locator(".row-note")
    page.wait_for_function(f"""() => document.querySelector('tr[data-task-num="{num}"] .row-note')
        ?.textContent.startsWith('killed')""", timeout=10_000)
    assert re.fullmatch(rf"killed consumer {re.escape(first_worker)} \(pid \d+\)", note.inner_text())

    page.wait_for_function(f"""() => document.querySelector('tr[data-task-num="{num}"] .attempt')
        ?.textContent === 'attempt 2'""", timeout=20_000)
    assert row.get_attribute("data-status") == "IN_PROGRESS"
    assert row.locator("td.worker").inner_text() != first_worker  # the other consumer took it
    assert kill.is_visible()  # still running: it could be killed again

    # A job that is not running has nothing to kill: the API's reason shows on the kill card.
    open_fault_lab(page)
    card = choose_experiment(page, "kill")
    card.locator('input[name="task_num"]').fill("999")
    card.locator('form[data-role="kill-form"] button').click()
    page.wait_for_function("""() => document.querySelector('[data-experiment="kill"] [data-role="result"]')
        ?.dataset.kind === 'error'""", timeout=10_000)
    assert card.locator('[data-role="result"]').inner_text() != ""
    assert page.errors == []


def test_a_strangers_message_is_parked_and_my_own_producers_job_runs(stack, page, broker):
    """The "Publish your own message" card: its first button publishes a message that is not a job
    (the consumer parks it, and the flow diagram counts it in .dead); its second registers a job and
    hands out the line that sends it — run here as the student would — and the row goes DONE."""
    import subprocess

    stack.start_api()
    stack.start_consumer()
    page.goto(stack.base_url)
    open_fault_lab(page)
    card = choose_experiment(page, "stranger")
    result = card.locator('[data-role="result"]')
    card.locator('[data-preset="publish-stranger"]').click()
    page.wait_for_function("""() => document.querySelector('[data-experiment="stranger"] [data-role="result"]')
        ?.dataset.kind === 'ok'""", timeout=10_000)
    dead = f"{stack.env['RAW_QUEUE']}.dead"
    assert result.inner_text() == f"published to {stack.env['RAW_QUEUE']}: watch it land in {dead}, with its reason"
    consumer = stack.services[-1]
    wait_until(lambda: " [!] Refused (not a job: unknown field 'hello'" in consumer.log(), 10, what="the refusal")

    card.locator('[data-preset="register-own"]').click()
    page.wait_for_function("""() => /registered/.test(document.querySelector(
        '[data-experiment="stranger"] [data-role="result"]')?.textContent ?? '')""", timeout=10_000)
    num = int(re.match(r"#(\d+) registered", result.inner_text()).group(1))
    row = page.locator(f'tr[data-task-num="{num}"]')
    row.wait_for(timeout=10_000)
    assert row.get_attribute("data-status") == "PENDING"
    code = result.locator("code").inner_text()  # the one line, as the student copies it
    subprocess.run(["bash", "-c", code.replace("***", "guest")], env=stack.env, check=True, timeout=60)
    page.wait_for_function(f"""() => document.querySelector('tr[data-task-num="{num}"]')
        ?.dataset.status === 'DONE'""", timeout=20_000)
    ARTIFACTS.mkdir(exist_ok=True)
    card.screenshot(path=str(ARTIFACTS / "fault-lab-stranger.png"))
    assert page.errors == []


def report(stack, num, status, **fields):
    answer = stack.session.post(stack.base_url + "/update_task_status_api/", headers={"Authorization": f"Bearer {TOKEN}"},
                                json={"task_num": num, "task_status": status, "worker_id": "w1", **fields})
    assert answer.status_code == 200, answer.text


def test_every_status_has_its_pill_countdown_and_reason(stack, page):
    """No worker: the rows are driven by reports to the status API, one row per status."""
    stack.start_api(LOST_AFTER_S="1", WORKER_HEARTBEAT_S="0.5")  # lost_grace_s: 1 s
    page.goto(stack.base_url + "/")
    pending, running, retrying, done, failed, lost = stack.submit("celery", seconds=10, count=6).json()["task_nums"]
    (scheduled,) = stack.session.post(stack.base_url + "/api/tasks", json={
        "method": "celery", "seconds": 1, "delay_s": 30}).json()["task_nums"]
    for num in (running, retrying, done, failed, lost):
        report(stack, num, "IN_PROGRESS", starting=True, run_id=f"run-{num}", progress=40)
    report(stack, retrying, "RETRYING", run_id=f"run-{retrying}", retry_in_s=30,
           message="attempt 1 failed: <b>flaky</b>")
    report(stack, done, "DONE", run_id=f"run-{done}")
    report(stack, failed, "ERROR", run_id=f"run-{failed}", message="failed on purpose")
    time.sleep(1.5)  # longer than LOST_AFTER_S without a report; then what celery_beat would ask for
    report(stack, running, "IN_PROGRESS", run_id=f"run-{running}", progress=60)  # this one is alive
    sweep = stack.session.post(stack.base_url + "/api/maintenance/sweep", json={},
                               headers={"Authorization": f"Bearer {TOKEN}"})
    assert sweep.json()["lost"] == [lost]

    expected = {pending: "PENDING", scheduled: "SCHEDULED", running: "IN PROGRESS", retrying: "RETRYING",
                done: "DONE", failed: "ERROR", lost: "LOST"}
    page.wait_for_function(f"document.querySelector('tr[data-task-num=\"{lost}\"][data-status=\"LOST\"]')",
                           timeout=10_000)
    row = lambda num: page.locator(f'tr[data-task-num="{num}"]')
    assert {num: row(num).locator(".pill").text_content() for num in expected} == expected
    colours = {num: row(num).locator(".pill").evaluate("pill => getComputedStyle(pill).backgroundColor")
               for num in expected}
    assert len(set(colours.values())) == 7, colours

    # due in 30 s when sent; a loaded machine (two suites on 2 cores) may take a few seconds to get here
    assert re.fullmatch(r"starts in (2[0-9]|30) s", row(scheduled).locator(".due").text_content())
    assert re.fullmatch(r"retry in (2[0-9]|30) s", row(retrying).locator(".due").text_content())
    assert row(retrying).locator(".row-error").text_content() == "attempt 1 failed: <b>flaky</b>"  # as text
    assert page.locator("#tasks .row-error b").count() == 0
    assert "no report from w1" in row(lost).locator(".row-error").text_content()
    for num in (pending, done, failed, lost):
        assert row(num).locator(".due").text_content() == ""
    # The kill button: only on the running row.
    assert [num for num in expected if row(num).locator('button[data-action="kill"]').is_visible()] == [running]
    page.wait_for_function("""() => {
        const stat = (name) => document.querySelector(`#summary tr[data-method="celery"] td[data-stat="${name}"]`).textContent;
        return stat("failed") === "2" && stat("active") === "4";
    }""", timeout=10_000)  # failed = ERROR + LOST; active = PENDING, SCHEDULED, IN_PROGRESS, RETRYING

    ARTIFACTS.mkdir(exist_ok=True)
    page.locator("section.jobs").screenshot(path=str(ARTIFACTS / "fault-lab-statuses.png"))

    # w1 never announced itself: the API says why it cannot kill it, on the row.
    row(running).locator('button[data-action="kill"]').click()
    page.wait_for_function(f"""() => document.querySelector('tr[data-task-num="{running}"] .row-note')
        ?.dataset.kind === 'error'""", timeout=10_000)
    assert "has not announced itself" in row(running).locator(".row-note").text_content()

    page.locator("#clear-finished").click()  # DONE, ERROR and LOST go; the rest are still going
    shown = page.locator("tr[data-task-num]").evaluate_all("rows => rows.map(r => Number(r.dataset.taskNum))")
    assert sorted(shown) == sorted([pending, scheduled, running, retrying])
    assert page.errors == []


def test_the_results_card_quotes_the_code_it_counts_and_the_traps_show_on_the_rows_and_the_broker(
        stack, page, broker, redis_keys):
    """The results lesson on the page: the card shows Celery's code beside the hand-written one with
    the counts the API made of them; '.get() inside a task' ends its row ERROR in Celery's words; the
    rpc:// results nobody read are counted where they wait, in the sender's reply queue; a chain's
    rows show their links both ways, and a chord on rpc:// is refused on the card."""
    import pika

    stack.start_api(API_WORKERS="1")  # one API process: the reply queue counted is the sender's
    stack.start_celery_worker()
    stack.start_consumer()
    page.goto(stack.base_url + "/")
    open_fault_lab(page)
    card = choose_experiment(page, "results")
    counts = re.fullmatch(r"Celery: (\d+) lines · RabbitMQ by hand: (\d+) lines",
                          card.locator('[data-role="line-counts"]').inner_text())
    assert counts, card.locator('[data-role="line-counts"]').inner_text()
    card.locator('[data-role="code"] > summary').click()
    for method, total in zip(("celery", "rabbitmq"), counts.groups()):
        column = card.locator(f".code-column.{method}")
        assert column.locator("pre").first.is_visible()
        per_file = [int(re.search(r"· (\d+) lines?$", path).group(1)) for path in column.locator(".code-path").all_inner_texts()]
        assert sum(per_file) == int(total), (method, per_file)
    assert "reply_to" in card.locator(".code-column.rabbitmq").inner_text()

    trap = choose_experiment(page, "get-in-task")
    trap.locator('button[data-preset="get-in-task"]').click()
    refused = page.locator('tr[data-task-num][data-status="ERROR"]')
    refused.wait_for(timeout=20_000)
    assert "Never call result.get() within a task!" in refused.text_content()

    once = choose_experiment(page, "rpc-once")
    once.locator('button[data-preset="keep-result-rpc"]').click()
    queue = None
    try:
        page.wait_for_function("document.querySelectorAll('tr[data-task-num][data-status=\"DONE\"]').length === 3",
                               timeout=20_000)
        queue = stack.session.get(f"{stack.base_url}/api/results/unread", timeout=10).json()["rpc"]["queue"]
        line = once.locator('[data-role="result"]')

        def counted():
            once.locator('button[data-preset="count-unread-rpc"]').click()
            page.wait_for_function("document.querySelector('[data-experiment=\"rpc-once\"] [data-role=\"result\"]')"
                                   ".textContent.startsWith('rpc://')", timeout=10_000)
            return line.inner_text().startswith(f"rpc://: 3 unread results wait in queue {queue}")
        wait_until(counted, 15, 0.5, "the three results counted in the reply queue")
        assert "Redis: no job in the table keeps its result there" in line.inner_text()
    finally:
        if queue:
            connection = pika.BlockingConnection(broker)
            connection.channel().queue_delete(queue)
            connection.close()

    canvas = choose_experiment(page, "canvas")
    canvas.locator('button[data-preset="chain-both-ways"]').click()
    page.wait_for_function("document.querySelectorAll('tr[data-follows][data-status=\"DONE\"]').length === 4",
                           timeout=30_000)
    for step in page.locator("tr[data-follows]").all():
        num, parent = int(step.get_attribute("data-task-num")), int(step.get_attribute("data-follows"))
        assert step.locator(".links").text_content().startswith(f"← #{parent}")
        assert page.locator(f'tr[data-task-num="{parent}"]').get_attribute("data-leads") == str(num)
        assert f"→ #{num}" in page.locator(f'tr[data-task-num="{parent}"] .links').text_content()
    canvas.locator('button[data-preset="chord-each-celery"]').click()
    line = canvas.locator('[data-role="result"]')
    page.wait_for_function("document.querySelector('[data-experiment=\"canvas\"] [data-role=\"result\"]')"
                           ".dataset.kind === 'error'", timeout=15_000)
    assert 'The "rpc" result backend does not support chords!' in line.inner_text()
    assert page.errors == []


def test_the_routes_card_keeps_the_short_job_off_the_long_lane_and_pauses_and_resumes_it(stack, page, queues):
    """The routes lesson on the page: with the long jobs on their own lane the short job is DONE while
    they still run; pausing the lane leaves its jobs waiting and the queues panel names the queue
    with no consumer; resuming runs them."""
    long_queue = f"{queues['CELERY_QUEUE']}.long"
    stack.start_api()
    stack.start_celery_worker("celery")
    stack.start_celery_worker("celery-long", queue=long_queue)
    posts = record_posts(page)
    page.goto(stack.base_url + "/")
    open_fault_lab(page)
    card = choose_experiment(page, "routes")
    card.locator('button[data-preset="two-lanes"]').click()
    page.wait_for_function("document.querySelectorAll('tr[data-task-num]').length === 4", timeout=15_000)
    assert [post.get("lane") for post in posts] == ["long", None]
    rows = page.locator("tr[data-task-num]")
    short = max(int(num) for num in rows.evaluate_all("trs => trs.map(tr => tr.dataset.taskNum)"))
    page.locator(f'tr[data-task-num="{short}"][data-status="DONE"]').wait_for(timeout=15_000)
    still_long = page.locator('tr[data-task-num]:not([data-status="DONE"])').count()
    assert still_long >= 2, "the short job waited behind the long lane"

    card.locator('button[data-preset="pause-lane"]').click()
    line = card.locator('[data-role="result"]')
    page.wait_for_function("document.querySelector('[data-experiment=\"routes\"] [data-role=\"result\"]')"
                           ".dataset.kind === 'ok'", timeout=15_000)
    assert f"stopped consuming {long_queue}" in line.inner_text()
    panel_row = page.locator('#queues tr[data-queue="celery_long"] [data-role="queue-error"]')
    page.wait_for_function("document.querySelector('#queues tr[data-queue=\"celery_long\"] "
                           "[data-role=\"queue-error\"]').textContent.startsWith('no consumer on queue')",
                           timeout=30_000)
    assert long_queue in panel_row.inner_text()

    card.locator('button[data-preset="resume-lane"]').click()
    page.wait_for_function("document.querySelectorAll('tr[data-task-num][data-status=\"DONE\"]').length === 4",
                           timeout=40_000)
    assert f"consume {long_queue} again" in line.inner_text()
    assert page.errors == []


def test_the_rate_limits_card_limits_both_paths_and_measures_what_got_through(stack, page):
    """The rate-limits lesson on the page: the limit set on each path says on whom it holds, the
    workers panel shows the consumer's, the short jobs start one by one, and the measure counts the
    starts of the last minute per path and worker; lifting the limits lets the rest run."""
    stack.env.update(WORKER_HEARTBEAT_S="0.5")
    stack.start_api()
    stack.start_celery_worker("celery")
    stack.start_consumer()
    page.goto(stack.base_url + "/")
    open_fault_lab(page)
    card = choose_experiment(page, "rate-limits")
    line = card.locator('[data-role="result"]')
    result_is = ("kind => document.querySelector('[data-experiment=\"rate-limits\"] [data-role=\"result\"]')"
                 ".dataset.kind === kind")

    card.locator('button[data-preset="limit-celery"]').click()
    page.wait_for_function(result_is, arg="ok", timeout=15_000)
    assert "Celery: 12/min on 1 worker" in line.inner_text()
    card.locator('button[data-preset="limit-rabbitmq"]').click()
    page.wait_for_function(result_is, arg="ok", timeout=15_000)
    assert "RabbitMQ: 12/min on each consumer" in line.inner_text()
    page.locator("#workers", has_text="≤ 12/min on this worker").wait_for(timeout=15_000)

    card.locator('button[data-preset="send-short"]').click()
    page.wait_for_function(f"document.querySelectorAll('tr[data-task-num]').length === {2 * RATE_JOBS}",
                           timeout=30_000)
    for method in ("celery", "rabbitmq"):  # the first of each starts at once, the rest one by one
        page.locator(f'tr[data-task-num][data-method="{method}"][data-status="DONE"]').first.wait_for(timeout=20_000)
    card.locator('button[data-preset="measure"]').click()
    page.wait_for_function(result_is, arg="ok", timeout=15_000)
    measured = line.inner_text()
    assert "In the last 60 s" in measured and "by 1 worker" in measured, measured
    waiting = page.locator('tr[data-task-num]:not([data-status="DONE"])').count()
    assert waiting > RATE_JOBS, "the limit let through more than a few jobs"  # 12/min on each path

    card.locator('button[data-preset="lift"]').click()
    page.wait_for_function(result_is, arg="ok", timeout=15_000)
    assert "Celery: no rate limit" in line.inner_text() and "RabbitMQ: no rate limit" in line.inner_text()
    page.wait_for_function("document.querySelectorAll('tr[data-task-num][data-status=\"DONE\"]').length === "
                           f"{2 * RATE_JOBS}", timeout=90_000)
    assert page.errors == []
