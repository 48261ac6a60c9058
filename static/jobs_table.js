// The live jobs table: one row per job, newest on top, painted at most once a frame; the clocks of
// unfinished rows tick every second. Also the method filter, "Clear finished" and the rows' kill
// buttons. The rows come from live_feed.js; job_row.js builds and paints each one.

import { askCelery, askReply, killWorkerOf, runAction } from "./actions.js";
import { clockTime } from "./formats.js";
import { buildRow, markMine, paintLinks, paintRow, paintTimes, stillTicking } from "./job_row.js";
import { onOwnerChange, ownerName } from "./preferences.js";
import { serverNow } from "./server_clock.js";
import { oncePerFrame, setText, showOutcome } from "./shared.js";
import { FINISHED, TABLE } from "./vocabulary.js";

const MAX_ROWS = 2000;  // DOM cap: the newest rows stay, the oldest drop off the bottom

const tasksTable = document.getElementById("tasks");
const tableBody = document.getElementById("task-rows");
const emptyNote = document.getElementById("empty-note");
const emptyNoteLine = emptyNote.querySelector('[data-role="note"]');
const rowCount = document.getElementById("row-count");
const mineButton = document.getElementById("mine-only");

const rows = new Map();     // task_num -> { tr, cells, task } for every row in the DOM
const pending = new Map();  // task_num -> newest row JSON not yet painted (one write per frame)
const cleared = new Map();  // task_num -> { status, seq } the student removed with "Clear finished"
const active = new Set();   // task_nums whose waited/ran still tick every second

// Rows from the feed: the newest version of each waits for the next frame, one write per row.
export function showRowsInTable(tasks) {
  for (const task of tasks) {
    const known = pending.get(task.task_num) ?? rows.get(task.task_num)?.task;
    if (known && known.seq >= task.seq) continue;  // an old or repeated event
    const gone = cleared.get(task.task_num);
    if (gone) {
      // Cleared rows stay away unless the job really moved on (e.g. a retry after ERROR).
      if (task.seq <= gone.seq || task.task_status === gone.status) continue;
      cleared.delete(task.task_num);
    }
    pending.set(task.task_num, task);
  }
  if (pending.size > 0) requestFlush();
}

function flushPending() {
  const fresh = [];
  for (const task of pending.values()) {
    let row = rows.get(task.task_num);
    if (!row) {
      row = buildRow(task);
      rows.set(task.task_num, row);
      fresh.push(row);
    }
    if (fresh.at(-1) === row) linkUp(row, task);
    paintRow(row, task, serverNow());  // new rows are painted before they are attached: cheaper
    if (stillTicking(task)) active.add(task.task_num);
    else active.delete(task.task_num);  // its clocks stop
  }
  pending.clear();
  if (fresh.length > 0) {
    insertRows(fresh);
    trimToCap();
  }
  showRowCount();
}

const requestFlush = oncePerFrame(flushPending);

// Canvas links both ways: a new step tells each job it follows (→ #13), and a new job learns the
// steps already here that follow it (rows arrive in any order after a reload).
const stepsAfter = new Map();  // task_num → Set of the steps that take its result
function linkUp(row, task) {
  const num = task.task_num;
  row.leads = stepsAfter.get(num) ?? new Set();
  for (const parent of task.follows ?? []) {
    if (!stepsAfter.has(parent)) stepsAfter.set(parent, new Set());
    stepsAfter.get(parent).add(num);
    const parentRow = rows.get(parent);
    if (parentRow) {
      parentRow.leads = stepsAfter.get(parent);
      paintLinks(parentRow);
    }
  }
}  // paintRow paints its own links, leads included

function tickClocks() {
  const now = serverNow();
  for (const num of active) {
    const row = rows.get(num);
    if (row) paintTimes(row, now);
  }
}

// Newest (highest task_num) on top. Fresh rows are nearly always newer than everything shown,
// so they go in as one fragment; older stragglers find their place by binary search.
function insertRows(fresh) {
  fresh.sort((a, b) => b.task.task_num - a.task.task_num);
  const top = tableBody.firstElementChild;
  const topNum = top ? Number(top.dataset.taskNum) : -Infinity;
  if (fresh[fresh.length - 1].task.task_num > topNum) {
    const fragment = document.createDocumentFragment();
    for (const row of fresh) fragment.append(row.tr);
    tableBody.prepend(fragment);
    return;
  }
  for (const row of fresh) insertInOrder(row.tr, row.task.task_num);
}

function insertInOrder(tr, num) {
  const shown = tableBody.children;
  let low = 0, high = shown.length;  // find the first row with a smaller task_num
  while (low < high) {
    const mid = (low + high) >> 1;
    if (Number(shown[mid].dataset.taskNum) > num) low = mid + 1;
    else high = mid;
  }
  tableBody.insertBefore(tr, shown[low] ?? null);
}

function trimToCap() {
  while (rows.size > MAX_ROWS) {
    const oldest = tableBody.lastElementChild;
    const num = Number(oldest.dataset.taskNum);
    oldest.remove();
    rows.delete(num);
    active.delete(num);
    stepsAfter.delete(num);
  }
}

function showRowCount() {
  emptyNote.hidden = rows.size > 0;
  setText(rowCount, TABLE.rowCount(rows.size));
}

// Only this browser's view: the server keeps every job.
function clearFinished() {
  flushPending();  // so rows about to finish this frame are judged on their newest status
  for (const [num, row] of rows) {
    if (!FINISHED.has(row.task.task_status)) continue;
    row.tr.remove();
    rows.delete(num);
    cleared.set(num, { status: row.task.task_status, seq: row.task.seq });
  }
  showRowCount();
}

// One listener for every row's buttons (Kill, AsyncResult, reply): rows come and go by the thousand.
function onTableClick(event) {
  const button = event.target.closest("button[data-action]");
  if (!button) return;
  const row = rows.get(Number(button.closest("tr").dataset.taskNum));
  if (!row) return;
  // Our own message on the row (what the button did), apart from the job's `error` from the server;
  // a kill's 409 names a command like `docker kill <host>`.
  const showNote = (text, kind) => showOutcome(row.cells.note, text, kind);
  const num = row.task.task_num;
  const actions = { "ask-celery": [TABLE.asking, () => askCelery(num)], "ask-reply": [TABLE.asking, () => askReply(num)],
    kill: [TABLE.killing, () => killWorkerOf(num)] };
  const [waiting, action] = actions[button.dataset.action] ?? [];
  if (action) runAction(button, showNote, waiting, action);
}

// "mine": only the rows sent with this browser's name; combines with the method filter.
function toggleMine() {
  const on = mineButton.getAttribute("aria-pressed") !== "true";
  mineButton.setAttribute("aria-pressed", String(on));
  tasksTable.dataset.mineOnly = String(on);
  mineButton.title = on && !ownerName() ? TABLE.mineNeedsName : mineButton.dataset.ownTitle;
}

function remarkMine(name) {
  for (const row of rows.values()) markMine(row, name);
}

function showOnly(method) {
  tasksTable.dataset.filter = method;  // CSS hides the other methods' rows: no per-row work
  for (const button of document.querySelectorAll("button[data-filter]")) {
    button.setAttribute("aria-pressed", button.dataset.filter === method);
  }
}

// A reset by the instructor (POST /api/reset): the jobs on screen no longer exist.
export function startTableOver() {
  tableBody.replaceChildren();
  for (const memory of [rows, pending, cleared, active, stepsAfter]) memory.clear();
  emptyNoteLine.textContent = TABLE.resetNote(clockTime.format(new Date()));
  showRowCount();
}

export function startJobsTable() {
  for (const button of document.querySelectorAll("button[data-filter]")) {
    button.addEventListener("click", () => showOnly(button.dataset.filter));
  }
  document.getElementById("clear-finished").addEventListener("click", clearFinished);
  mineButton.dataset.ownTitle = mineButton.title;
  mineButton.addEventListener("click", toggleMine);
  onOwnerChange(remarkMine);
  tableBody.addEventListener("click", onTableClick);
  setInterval(tickClocks, 1000);
  showRowCount();
}
