// Queue Lab page: send the same job three ways and watch every job in one live table.
// Plain ES modules, no dependencies. Text from the server only ever goes in via textContent.

import { killWorkerOf, runAction } from "./actions.js";
import { startExperiments } from "./experiments.js";
import { clockTime, formatDuration, formatSeconds } from "./formats.js";
import { startQueuesPanel } from "./queues_panel.js";
import { startRace } from "./race.js";
import { noteServerClock, serverNow } from "./server_clock.js";
import { element, getJSON, postJSON, setText, showOutcome, sleep } from "./shared.js";
import {
  CONNECTION_LABELS, FINISHED, SEND, TABLE, methodLabel, queued, reasonOf, statusLabel, unreachable, withFailed,
} from "./vocabulary.js";
import { startWorkersPanel } from "./workers_panel.js";

const MAX_ROWS = 2000;         // DOM cap: the newest rows stay, the oldest drop off the bottom
const INITIAL_LIMIT = 500;     // rows fetched on page load
const POLL_MS = 1000;
const SSE_RECONNECT_MS = 2000; // after the stream drops
const SSE_MAX_FAILURES = 3;    // stream errors in a row before we fall back to polling
const SSE_RETRY_MS = 15000;    // while polling, try the live stream again this often
const SUMMARY_MIN_GAP_MS = 1000;
// Between attempts (RETRYING) and after going silent (LOST) the job is not running: "ran" stops at
// the row's last change instead of ticking on.
const NOT_RUNNING = new Set(["RETRYING", "LOST"]);
const OVERDUE_AFTER_S = 3;  // past due by more than this: say so (e.g. no worker is running)

const tasksTable = document.getElementById("tasks");
const tableBody = document.getElementById("task-rows");
const emptyNote = document.getElementById("empty-note");
const rowCount = document.getElementById("row-count");
const indicator = document.getElementById("connection");

// ---------- the live table

const rows = new Map();     // task_num -> { tr, cells, task } for every row in the DOM
const pending = new Map();  // task_num -> newest row JSON not yet painted (one write per frame)
const cleared = new Map();  // task_num -> { status, seq } the student removed with "Clear finished"
const active = new Set();   // task_nums whose waited/ran still tick every second
let latestSeq = 0;          // highest seq seen: where the stream or the poll continues from
let frameRequested = false;
let epoch = null;           // the server's reset counter as first seen (absent in an answer = no news)
let generation = 0;         // bumped when the table starts over: older first loads are dropped
const rowListeners = [];    // others who follow the rows too (the race chart): no second stream

function onRowsReceived(listener) {
  rowListeners.push(listener);
}

// Feeds that continue from latestSeq (first load, SSE, polling) come through here. The sync answer
// goes straight to mergeTasks: its seq must not move the cursor past changes we have not seen yet.
function receive(body) {
  if (isNewEpoch(body.epoch)) return startOver(body.epoch);
  if (Number.isFinite(body.seq)) latestSeq = Math.max(latestSeq, body.seq);
  noteServerClock(body.now);
  mergeTasks(body.tasks ?? []);
}

function mergeTasks(tasks) {
  for (const listener of rowListeners) listener(tasks);  // every row, even one this table has cleared
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
  if (tasks.length > 0) requestSummary();
  if (pending.size > 0 && !frameRequested) {
    frameRequested = true;
    requestAnimationFrame(flushPending);
  }
}

function flushPending() {
  frameRequested = false;
  const fresh = [];
  for (const task of pending.values()) {
    let row = rows.get(task.task_num);
    if (!row) {
      row = buildRow(task);
      rows.set(task.task_num, row);
      fresh.push(row);
    }
    paintRow(row, task);  // new rows are painted before they are attached: cheaper
  }
  pending.clear();
  if (fresh.length > 0) {
    insertRows(fresh);
    trimToCap();
  }
  showRowCount();
}

// Columns: # | method | status | progress | worker | waited | ran | created.
// The cells that change later are kept in `cells`, so an update never has to search the row.
// The status cell holds: pill, attempt, countdown, [kill worker], the error, and our own kill note.
function buildRow(task) {
  const cells = {
    status: element("span", "pill"), attempt: element("span", "attempt"), due: element("span", "due"),
    error: element("div", "row-error"), note: element("div", "row-note"), statusCell: element("td", "status"),
    fill: element("div", "fill"), percent: element("span", "percent"), worker: element("td", "worker"),
    waited: element("td", "time"), ran: element("td", "time"), created: element("td", "time"),
  };
  const badge = element("span", "badge", methodLabel(task.method));
  badge.dataset.method = task.method;
  const tr = element("tr", "",
    element("td", "num", String(task.task_num)),
    element("td", "", badge),
    cells.statusCell,
    element("td", "progress", element("div", "bar", cells.fill), cells.percent),
    cells.worker, cells.waited, cells.ran, cells.created);
  cells.statusCell.append(cells.status, cells.attempt, cells.due, cells.error, cells.note);
  tr.dataset.taskNum = task.task_num;
  tr.dataset.method = task.method;
  return { tr, cells, task: {} };
}

// Made the first time a row runs (most rows never need one); CSS shows it only while IN_PROGRESS.
// Sync jobs run inside the API itself: no worker to kill.
function addKillButton(row) {
  const button = element("button", "kill", TABLE.killButton);
  button.type = "button";
  button.dataset.action = "kill";
  button.title = TABLE.killTitle;
  row.cells.due.after(button);
  row.cells.kill = button;
}

// Compare with what is on screen and touch only the cells that changed.
function paintRow(row, task) {
  const old = row.task, cells = row.cells;
  if (old.task_status !== task.task_status) {
    row.tr.dataset.status = task.task_status;  // CSS colours the pill and the bar from this
    cells.status.textContent = statusLabel(task.task_status);
    if (task.task_status === "IN_PROGRESS" && !cells.kill && task.method !== "sync") addKillButton(row);
  }
  if (old.attempt !== task.attempt) cells.attempt.textContent = TABLE.attempt(task.attempt);
  if (old.error !== task.error) cells.error.textContent = task.error ?? "";
  if (old.progress !== task.progress) {
    const percent = Math.min(100, Math.max(0, Number(task.progress) || 0));
    cells.fill.style.transform = `scaleX(${percent / 100})`;  // no layout, unlike width
    cells.percent.textContent = `${Math.round(percent)}%`;
  }
  if (old.worker_id !== task.worker_id) cells.worker.textContent = task.worker_id ?? "—";
  if (old.created_at !== task.created_at) {
    cells.created.textContent = clockTime.format(new Date(task.created_at * 1000));
  }
  row.task = task;
  if (FINISHED.has(task.task_status)) active.delete(task.task_num);
  else active.add(task.task_num);
  paintTimes(row, serverNow());
}

// Everything on a row that ticks. waited = time in the queue; ran = time on a worker (this attempt);
// both keep growing until the job finishes. SCHEDULED and RETRYING count down to their due time.
function paintTimes(row, now) {
  const { task, cells } = row;
  const waitEnd = task.started_at ?? task.finished_at ?? now;  // a job can fail before it starts
  setText(cells.waited, formatSeconds(waitEnd - task.created_at));
  const runEnd = task.finished_at ?? (NOT_RUNNING.has(task.task_status) ? task.updated_at ?? now : now);
  setText(cells.ran, formatSeconds(task.started_at == null ? null : runEnd - task.started_at));
  setText(cells.due, describeDue(task, now));
}

// "starts in 7 s", "retry in 2 s"; the due time is on the server's clock, like every row time.
function describeDue(task, now) {
  const words = TABLE.countdowns[task.task_status];
  if (!words || !Number.isFinite(task.due_at)) return "";
  const left = task.due_at - now;
  if (left > 0) return words.before(formatDuration(Math.ceil(left)));
  if (-left <= OVERDUE_AFTER_S) return words.due;
  return TABLE.overdue(formatDuration(-left));  // nobody has taken it: is a worker running?
}

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

// One listener for every row's "kill worker" button: rows come and go by the thousand.
function onTableClick(event) {
  const button = event.target.closest('button[data-action="kill"]');
  if (!button) return;
  const row = rows.get(Number(button.closest("tr").dataset.taskNum));
  if (!row) return;
  // Our own message on the row (what the kill did), apart from the job's `error` from the server;
  // a 409 names a command like `docker kill <host>`.
  const showNote = (text, kind) => showOutcome(row.cells.note, text, kind);
  runAction(button, showNote, TABLE.killing, () => killWorkerOf(row.task.task_num));
}

// ---------- a reset by the instructor (POST /api/reset): the jobs on screen no longer exist

function isNewEpoch(value) {
  if (!Number.isInteger(value)) return false;
  if (epoch === null) epoch = value;  // the first one seen is the baseline
  return value !== epoch;
}

async function startOver(newEpoch) {
  epoch = newEpoch;
  const mine = ++generation;
  stopFollowing();  // the stream and the poll were following the old table
  tableBody.replaceChildren();
  for (const memory of [rows, pending, cleared, active]) memory.clear();
  latestSeq = 0;
  emptyNote.textContent = TABLE.resetNote(clockTime.format(new Date()));
  showRowCount();
  requestSummary();
  await loadFirstRows(mine);
  if (mine === generation) openStream();
}

function showOnly(method) {
  tasksTable.dataset.filter = method;  // CSS hides the other methods' rows: no per-row work
  for (const button of document.querySelectorAll("button[data-filter]")) {
    button.setAttribute("aria-pressed", button.dataset.filter === method);
  }
}

// ---------- staying live: SSE first, polling when the stream is refused or keeps failing

const connection = { source: null, failures: 0, polling: false, pollRound: 0, retryTimer: null };

function showConnection(state) {
  if (indicator.dataset.state === state) return;
  indicator.dataset.state = state;
  indicator.textContent = CONNECTION_LABELS[state];
}

function openStream() {
  clearTimeout(connection.retryTimer);
  connection.retryTimer = null;
  if (!("EventSource" in window)) return fallBackToPolling();
  const source = new EventSource(`/api/events?since=${latestSeq}`);
  connection.source = source;
  source.onopen = () => {
    connection.failures = 0;
    connection.polling = false;  // the stream carries on from latestSeq
    showConnection("live");
  };
  source.addEventListener("tasks", (event) => receive(JSON.parse(event.data)));
  source.onerror = () => {
    // CLOSED: the server refused the stream (e.g. 503 "too many streams"): poll straight away.
    // CONNECTING: the connection dropped. The browser would retry with the *old* ?since= in the URL
    // and get everything again, so we close it and reconnect ourselves from the newest seq.
    const refused = source.readyState === EventSource.CLOSED;
    source.close();
    connection.failures += 1;
    if (refused || connection.failures >= SSE_MAX_FAILURES) return fallBackToPolling();
    if (!connection.polling) showConnection("offline");
    connection.retryTimer = setTimeout(openStream, SSE_RECONNECT_MS);
  };
}

function fallBackToPolling() {
  if (!connection.polling) {
    connection.polling = true;
    pollLoop(++connection.pollRound);
  }
  if (!connection.retryTimer) connection.retryTimer = setTimeout(openStream, SSE_RETRY_MS);
}

function stopFollowing() {
  connection.source?.close();  // a closed EventSource delivers nothing more
  connection.source = null;
  clearTimeout(connection.retryTimer);
  connection.retryTimer = null;
  connection.polling = false;
  connection.pollRound += 1;   // ends a running poll loop, and drops the answer it waits for
}

// `round` lets a loop notice it was replaced, so two loops never run side by side.
async function pollLoop(round) {
  while (connection.polling && round === connection.pollRound) {
    try {
      const body = await getJSON(`/api/tasks?since=${latestSeq}`);  // only what changed
      if (round !== connection.pollRound) return;  // replaced meanwhile, e.g. by a reset
      if (connection.polling) showConnection("polling");
      receive(body);
    } catch {
      if (connection.polling) showConnection("offline");
    }
    await sleep(POLL_MS);
  }
}

// ---------- per-method summary, fetched at most once a second while changes arrive

const summaryCells = [...document.querySelectorAll("#summary td[data-stat]")];
let summaryTimer = null;
let summaryStale = false;

function requestSummary() {
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

// ---------- the three submit panels

// What the API assumes for a field that is left out (api/validation.py, Submission). Only fields
// that differ are sent: a plain job stays the plain JSON of the lesson, and the API answers 400 for
// an option that does not apply to the method (the sync panel has none of these inputs).
const FAULT_DEFAULTS = {
  flaky: 0, delay_s: 0, time_limit_s: null, time_limit_kind: "soft", celery_ack: "late", consumer: "threaded",
};

function readFaultOptions(form) {
  const options = {};
  for (const [name, fallback] of Object.entries(FAULT_DEFAULTS)) {
    const control = form.elements[name];
    if (!control) continue;
    const value = control.type === "number" ? (control.value === "" ? null : control.valueAsNumber) : control.value;
    if (value !== fallback) options[name] = value;
  }
  return options;
}

// Shown on the <details> summary, so a forgotten "fail first 2" can't surprise anyone when it is closed.
function describeFaultOptions(form) {
  const options = readFaultOptions(form);
  const kind = form.elements.time_limit_kind?.value;  // soft or hard: Celery's panel only
  const parts = [];
  if (options.flaky) parts.push(SEND.flaky(options.flaky));
  if (options.delay_s) parts.push(SEND.delay(formatDuration(options.delay_s)));
  if (options.time_limit_s != null) parts.push(SEND.timeLimit(options.time_limit_s, kind));
  else if (options.time_limit_kind) parts.push(SEND.limitKindOnly(options.time_limit_kind));
  if (options.celery_ack) parts.push(SEND.ack(options.celery_ack));
  if (options.consumer) parts.push(SEND.consumer(options.consumer));
  return SEND.faults(parts);
}

function describeAnswer(status, body, elapsedSeconds) {
  if (status === 202) return [queued(body.task_nums), "ok"];
  if (status === 200) {
    const failed = (body.tasks ?? []).filter((task) => task.task_status === "ERROR").length;
    return [withFailed(SEND.done(body.task_nums, elapsedSeconds), failed), failed ? "error" : "ok"];
  }
  return [reasonOf(status, body), "error"];
}

function wirePanel(form) {
  const method = form.dataset.method;
  const button = form.querySelector('button[type="submit"]');
  const resultLine = form.querySelector('[data-role="result"]');
  const showResult = (text, kind) => showOutcome(resultLine, text, kind, { plain: true });
  const faultSummary = form.querySelector('[data-role="fault-summary"]');
  if (faultSummary) {
    const showFaultSummary = () => setText(faultSummary, describeFaultOptions(form));
    form.addEventListener("input", showFaultSummary);
    form.addEventListener("change", showFaultSummary);
    showFaultSummary();  // a reload may keep the inputs' values
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const { seconds, count, fail } = form.elements;
    const job = {
      method, seconds: seconds.valueAsNumber, count: count.valueAsNumber, fail: fail.checked, ...readFaultOptions(form),
    };
    const startedAt = performance.now();
    const elapsed = () => (performance.now() - startedAt) / 1000;
    let ticker = null;
    if (method === "sync") {
      // The lesson: the browser's request is stuck until the job itself is finished.
      button.disabled = true;
      const showBlocking = () => showResult(SEND.blocking(elapsed()), "waiting");
      showBlocking();
      ticker = setInterval(showBlocking, 100);
    } else {
      showResult(SEND.sending, "waiting");
    }
    try {
      const { status, body } = await postJSON("/api/tasks", job);
      clearInterval(ticker);
      showResult(...describeAnswer(status, body, elapsed()));
      if (isNewEpoch(body.epoch)) startOver(body.epoch);  // reset meanwhile: the fresh load has these rows
      else if (Array.isArray(body.tasks)) mergeTasks(body.tasks);  // sync rows, in case the stream is slow
    } catch (error) {
      showResult(unreachable(error), "error");
    } finally {
      clearInterval(ticker);  // (already stopped above when an answer came, so it can't overwrite it)
      button.disabled = false;
    }
  });
}

// ---------- start

// `mine`: the generation this load is for; a newer reset makes its answer worthless.
async function loadFirstRows(mine) {
  for (;;) {
    try {
      const body = await getJSON(`/api/tasks?limit=${INITIAL_LIMIT}`);
      return mine === generation ? receive(body) : undefined;
    } catch {
      if (mine !== generation) return;
      showConnection("offline");  // e.g. the server is still starting: keep trying
      await sleep(2000);
    }
  }
}

async function start() {
  for (const form of document.querySelectorAll("form[data-method]")) wirePanel(form);
  for (const button of document.querySelectorAll("button[data-filter]")) {
    button.addEventListener("click", () => showOnly(button.dataset.filter));
  }
  document.getElementById("clear-finished").addEventListener("click", clearFinished);
  tableBody.addEventListener("click", onTableClick);
  setInterval(tickClocks, 1000);
  showRowCount();
  requestSummary();
  startWorkersPanel();
  startQueuesPanel();
  startExperiments();
  startRace({ onRowsReceived, now: serverNow, showRows: mergeTasks });
  await loadFirstRows(generation);
  openStream();
}

start();
