// One row of the jobs table: its cells, built once, and each newer version of the job painted into
// them, touching only what changed. Text from the server only goes in via textContent.

import { clockTime, formatDuration, formatSeconds } from "./formats.js";
import { markClassControl } from "./class_controls.js";
import { ownerName } from "./preferences.js";
import { element, foldable, setText } from "./shared.js";
import { FINISHED, TABLE, methodLabel, statusLabel } from "./vocabulary.js";

// Between attempts (RETRYING) and after going silent (LOST) the job is not running: "ran" stops at
// the row's last change instead of ticking on.
const NOT_RUNNING = new Set(["RETRYING", "LOST"]);
const OVERDUE_AFTER_S = 3;  // past due by more than this: say so (e.g. no worker is running)

// Columns: # | method | status | progress | worker | by (the sender's name) | waited | ran | created.
// The cells that change later are kept in `cells`, so an update never has to search the row.
// The status cell holds: pill, attempt, countdown, [kill worker], the error, and our own kill note.
export function buildRow(task) {
  const cells = {
    status: element("span", "pill"), attempt: element("span", "attempt"), due: element("span", "due"),
    error: element("div", "row-error"), note: element("div", "row-note"), statusCell: element("td", "status"),
    fill: element("div", "fill"), percent: element("span", "percent"), result: element("span", "result-value"),
    worker: element("td", "worker"), links: element("span", "links"),
    owner: element("td", "owner"),
    waited: element("td", "time"), ran: element("td", "time"), created: element("td", "time"),
  };
  const badge = element("span", "badge", methodLabel(task.method));
  badge.dataset.method = task.method;
  const tr = element("tr", "",
    element("td", "num", String(task.task_num), cells.links),
    element("td", "", badge),
    cells.statusCell,
    element("td", "progress", element("div", "bar", cells.fill), cells.percent, cells.result),
    cells.worker, cells.owner, cells.waited, cells.ran, cells.created);
  cells.statusCell.append(cells.status, cells.attempt, cells.due, cells.error, cells.note);
  tr.dataset.taskNum = task.task_num;
  tr.dataset.method = task.method;
  return { tr, cells, task: {} };
}

// Celery's own answer for a Celery job (GET /api/tasks/<n>/celery-result), or a raw job's reply
// (GET /api/tasks/<n>/reply): CSS shows the button once the row is DONE.
function addAskButton(row, action, label, title) {
  const button = element("button", "ask", label);
  button.type = "button";
  button.dataset.action = action;
  button.title = title;
  row.cells.due.after(button);
  row.cells.ask = button;
}

// Made the first time a row runs (most rows never need one); CSS shows it only while IN_PROGRESS.
// Sync jobs run inside the API itself: no worker to kill.
function addKillButton(row) {
  const button = element("button", "kill", TABLE.killButton);
  button.type = "button";
  button.dataset.action = "kill";
  button.title = TABLE.killTitle;
  markClassControl(button);  // CLASS_CONTROLS=instructor: a student's is disabled, with the reason
  row.cells.due.after(button);
  row.cells.kill = button;
}

// Compare with what is on screen and touch only the cells that changed.
export function paintRow(row, task, now) {
  const old = row.task, cells = row.cells;
  if (old.task_status !== task.task_status) {
    row.tr.dataset.status = task.task_status;  // CSS colours the pill and the bar from this
    cells.status.textContent = statusLabel(task.task_status);
    if (task.task_status === "IN_PROGRESS" && !cells.kill && task.method !== "sync") addKillButton(row);
    if (task.task_status === "DONE" && !cells.ask && task.method.startsWith("celery")) {
      addAskButton(row, "ask-celery", TABLE.askButton, TABLE.askTitle);
    } else if (task.task_status === "DONE" && !cells.ask && task.reply_id) {
      addAskButton(row, "ask-reply", TABLE.replyButton, TABLE.replyTitle);
    }
  }
  if (old.attempt !== task.attempt || old.delivery_count !== task.delivery_count) {
    const counted = task.delivery_count > 0 && task.counted_by ? TABLE.counted(task.counted_by, task.delivery_count) : "";
    cells.attempt.textContent = [TABLE.attempt(task.attempt), counted].filter(Boolean).join(" · ");
    cells.attempt.title = task.counted_by ?? "";
  }
  if (old.error !== task.error) {
    cells.error.textContent = task.error ?? "";
    foldable(cells.error);  // a long reason is two lines, all of it on a click
  }
  if (old.progress !== task.progress) {
    const percent = Math.min(100, Math.max(0, Number(task.progress) || 0));
    cells.fill.style.transform = `scaleX(${percent / 100})`;  // no layout, unlike width
    cells.percent.textContent = `${Math.round(percent)}%`;
  }
  // DONE with a result: the value the job computed takes the bar's place (CSS: tr[data-result]).
  if (old.result !== task.result || old.worker_id !== task.worker_id || old.attempt !== task.attempt) {
    const done = task.result != null;
    if (done) row.tr.dataset.result = String(task.result);
    else delete row.tr.dataset.result;
    setText(cells.result, done ? TABLE.result(task.result) : "");
    cells.result.title = done ? TABLE.resultTitle(task.task_num, task.result, task.worker_id ?? "—", task.attempt) : "";
  }
  if (old.worker_id !== task.worker_id) {
    cells.worker.textContent = task.worker_id ?? "—";
    cells.worker.title = task.worker_id ?? "";  // the whole id, where the column cuts it short
  }
  if (old.follows !== task.follows) paintLinks(row);
  if (old.owner !== task.owner) cells.owner.textContent = task.owner ?? "";  // text, never HTML
  if (old.created_at !== task.created_at) {
    cells.created.textContent = clockTime.format(new Date(task.created_at * 1000));
  }
  row.task = task;
  markMine(row, ownerName());
  paintTimes(row, now);
}

// A canvas step's links, under its number: "← #12" (the jobs whose results it takes: `follows`) and
// "→ #13" (the steps that take its result: `leads`, which the table fills in as it meets them).
export function paintLinks(row) {
  const follows = row.task.follows ?? [], leads = [...(row.leads ?? [])].sort((a, b) => a - b);
  const text = [follows.length ? TABLE.follows(follows) : "", leads.length ? TABLE.leads(leads) : ""];
  setText(row.cells.links, text.filter(Boolean).join(" "));
  row.cells.links.title = [follows.length ? TABLE.followsTitle(follows) : "", leads.length ? TABLE.leadsTitle(leads) : ""]
    .filter(Boolean).join("; ");
  if (follows.length) row.tr.dataset.follows = follows.join(",");
  if (leads.length) row.tr.dataset.leads = leads.join(",");
}

// The "mine" filter shows the rows whose sender gave this browser's name (CSS hides the others).
export function markMine(row, name) {
  const mine = Boolean(name) && row.task.owner === name;
  if (row.tr.dataset.mine !== String(mine)) row.tr.dataset.mine = String(mine);
}

// Everything on a row that ticks. waited = time in the queue; ran = time on a worker (this attempt);
// both keep growing until the job finishes. SCHEDULED and RETRYING count down to their due time.
export function paintTimes(row, now) {
  const { task, cells } = row;
  const waitEnd = task.started_at ?? task.finished_at ?? now;  // a job can fail before it starts
  setText(cells.waited, formatSeconds(waitEnd - task.created_at));
  const runEnd = task.finished_at ?? (NOT_RUNNING.has(task.task_status) ? task.updated_at ?? now : now);
  setText(cells.ran, formatSeconds(task.started_at == null ? null : runEnd - task.started_at));
  setText(cells.due, describeDue(task, now));
}

// The page's copy of REDIS_VISIBILITY_TIMEOUT_S (index.html): when Redis hands out a lost message again.
const REDIS_VISIBILITY_S = Number(document.documentElement.dataset.redisVisibilityTimeout);

// A finished row's clocks stop, except a Celery · Redis job that went LOST: its message waits in Redis's
// unacked set until the visibility timeout, and the row counts down to that.
export const stillTicking = (task) => !FINISHED.has(task.task_status) || waitsForRedis(task);
const waitsForRedis = (task) => task.task_status === "LOST" && task.method === "celery_redis"
  && Number.isFinite(task.started_at) && Number.isFinite(REDIS_VISIBILITY_S);

// "starts in 7 s", "retry in 2 s"; the due time is on the server's clock, like every row time.
function describeDue(task, now) {
  if (waitsForRedis(task)) {  // delivered at started_at (or just before: reserved), back at + the timeout
    const left = task.started_at + REDIS_VISIBILITY_S - now;
    return left > 0 ? TABLE.redisRestores(formatDuration(Math.ceil(left))) : TABLE.redisRestoring;
  }
  const words = TABLE.countdowns[task.task_status];
  if (!words || !Number.isFinite(task.due_at)) return "";
  const left = task.due_at - now;
  if (left > 0) return words.before(formatDuration(Math.ceil(left)));
  if (-left <= OVERDUE_AFTER_S) return words.due;
  return TABLE.overdue(formatDuration(-left));  // nobody has taken it: is a worker running?
}
