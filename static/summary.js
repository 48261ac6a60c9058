// The per-method summary table, fetched at most once a second while changes arrive.

import { formatSeconds } from "./formats.js";
import { getJSON, setText } from "./shared.js";

const SUMMARY_MIN_GAP_MS = 1000;

const summaryCells = [...document.querySelectorAll("#summary td[data-stat]")];
let summaryTimer = null;
let summaryStale = false;

export function requestSummary() {
  summaryStale = true;
  if (summaryTimer) return;  // the timer below picks this request up
  summaryStale = false;
  refreshSummary();
  summaryTimer = setTimeout(() => {
    summaryTimer = null;
    if (summaryStale) requestSummary();
  }, SUMMARY_MIN_GAP_MS);
}

async function refreshSummary() {
  // On failure keep the last numbers; the connection indicator already says the server is gone.
  const { methods } = await getJSON("/api/summary").catch(() => ({ methods: null }));
  if (!methods) return;
  for (const cell of summaryCells) {
    const stat = cell.dataset.stat;
    const value = methods[cell.closest("tr").dataset.method]?.[stat];
    setText(cell, stat.startsWith("mean_") ? formatSeconds(value) : String(value ?? "—"));
  }
}
