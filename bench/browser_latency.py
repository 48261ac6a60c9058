"""From a status report's arrival to the row changing in a real headless Chromium page.

The page records, with a MutationObserver, when the row's progress text changes (epoch ms, the
same clock as this process: one machine); we record when each report was sent.
"""
from __future__ import annotations

import time

from bench.probe import PROBE_JOB
from bench.stats import summary_ms
from tests.processes import CHROMIUM_ARGS


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
    url = stack.base_url + "/update_task_status_api/"
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
