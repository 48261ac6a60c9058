"""From a status report's arrival to the row changing in a real headless Chromium page.

The page records, with a MutationObserver, when the row's progress text changes (epoch ms, the
same clock as this process: one machine); we record when each report was sent.
"""
from __future__ import annotations

import time

from bench.probe import PROBE_JOB
from bench.stats import summary_ms
from ops.stack import CHROMIUM_ARGS
from queue_lab import api_paths

WATCH_ROW = """num => {
  window.__seen = {};
  const watch = () => {
    const cell = document.querySelector(`tr[data-task-num="${num}"] .percent`);
    if (!cell) return setTimeout(watch, 20);
    new MutationObserver(() => {
      const text = cell.textContent;
      if (!(text in window.__seen)) window.__seen[text] = performance.timeOrigin + performance.now();
    }).observe(cell, {childList: true, characterData: true, subtree: true});
  };
  watch();
}"""


def measure_browser_latency(stack, token: str, updates: int, chromium: str = "/usr/bin/chromium") -> dict:
    from playwright.sync_api import sync_playwright

    (num,) = stack.session.post(stack.base_url + "/api/tasks", timeout=30,
                                json=PROBE_JOB).json()["task_nums"]
    auth = {"Authorization": f"Bearer {token}"}
    url = stack.base_url + api_paths.STATUS_REPORTS
    stack.session.post(url, headers=auth, timeout=30, json={
        "task_num": num, "task_status": "IN_PROGRESS", "worker_id": "bench", "progress": 0, "starting": True})
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto(stack.base_url + "/")
        page.wait_for_function("document.body.innerText.includes('live (SSE)')", timeout=15_000)
        page.wait_for_selector(f'tr[data-task-num="{num}"] .percent', timeout=15_000)
        page.evaluate(WATCH_ROW, num)
        sent = {}
        for i in range(1, updates + 1):
            sent[f"{i}%"] = time.time() * 1000
            stack.session.post(url, headers=auth, timeout=30, json={
                "task_num": num, "task_status": "IN_PROGRESS", "worker_id": "bench", "progress": i})
            time.sleep(0.1)  # one update at a time: each one's own latency, not a queue's
        time.sleep(1)
        seen = page.evaluate("window.__seen")
        browser.close()
    delays = [(seen[text] - at) / 1000 for text, at in sent.items() if text in seen]
    return {**summary_ms(delays), "missed": updates - len(delays)}


FRAME_TIMES = """seconds => new Promise(resolve => {
  const gaps = []; let last = performance.now(); const end = last + seconds * 1000;
  const tick = now => { gaps.push(now - last); last = now; now < end ? requestAnimationFrame(tick) : resolve(gaps); };
  requestAnimationFrame(tick);
})"""


def measure_page_with_many_rows(stack, token: str, rows: int, updates_per_s: int = 100,
                                seconds: float = 3, chromium: str = "/usr/bin/chromium") -> dict:
    """Is the page still smooth with `rows` jobs in the table and updates arriving? Frame gaps
    (requestAnimationFrame) while `updates_per_s` progress reports flow."""
    import threading

    import requests
    from playwright.sync_api import sync_playwright

    nums = []
    for start in range(0, rows, 500):
        nums += stack.session.post(stack.base_url + "/api/tasks", timeout=120,
                                   json={**PROBE_JOB, "count": min(500, rows - start)}).json()["task_nums"]
    auth = {"Authorization": f"Bearer {token}"}
    url = stack.base_url + api_paths.STATUS_REPORTS
    live = nums[-20:]  # the newest rows, the ones on screen
    stack.session.post(url, headers=auth, timeout=30, json=[
        {"task_num": n, "task_status": "IN_PROGRESS", "worker_id": "bench", "progress": 0, "starting": True}
        for n in live])
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        started = time.perf_counter()
        page.goto(stack.base_url + "/")
        page.wait_for_function("document.querySelectorAll('tr[data-task-num]').length >= 500", timeout=60_000)
        loaded_s = time.perf_counter() - started
        stop = threading.Event()

        def updates():
            session, i = requests.Session(), 0
            while not stop.is_set():
                i += 1
                session.post(url, headers=auth, timeout=30, json={
                    "task_num": live[i % len(live)], "task_status": "IN_PROGRESS", "worker_id": "bench",
                    "progress": min(99.0, i * 0.05)})
                time.sleep(1 / updates_per_s)

        sender = threading.Thread(target=updates, daemon=True)
        sender.start()
        gaps = page.evaluate(FRAME_TIMES, seconds)
        stop.set()
        in_dom = page.evaluate("document.querySelectorAll('tr[data-task-num]').length")
        browser.close()
    return {"jobs_in_table": rows, "rows_in_page": in_dom, "load_s": loaded_s,
            "frame_gap": summary_ms([g / 1000 for g in gaps]), "long_frames_over_50ms": sum(g > 50 for g in gaps)}
