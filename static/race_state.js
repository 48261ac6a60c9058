// One race's state and what it adds up to: which rows are its own, and the figures counted from
// them. No DOM here: race.js shows it, race_chart.js draws it.
// All times are on the server's clock (started_at, created_at, finished_at).

import { FINISHED, METHODS, QUEUED_METHODS, RACE } from "./vocabulary.js";

// The synchronous batch holds one of the API's web threads until every job has run, and the chart
// would wait for it: only worth it for a small batch.
export const SYNC_MAX_COUNT = 20;
// Rows created this long before Start can't be ours: skipping them keeps the race's memory small.
// (The page's idea of the server clock is only as good as the last answer's `now`.)
const CLOCK_SLACK_S = 5;

export function newRace(count, seconds, pressedAt) {
  const methods = [...QUEUED_METHODS];
  if (count <= SYNC_MAX_COUNT) methods.push("sync");
  return {
    count, seconds, methods, pressedAt,
    startedAt: null,           // the server's started_at, from POST /api/race
    members: new Map(),        // task_num -> method, from the answers
    syncAnswered: false,
    syncBatchCreatedAt: null,  // until the sync answer names its jobs (below)
    rows: new Map(),           // task_num -> newest row seen since Start
    enqueue: {},               // method -> { seconds, perJobMs }
    errors: new Map(),         // message -> the methods it is about ("Celery and RabbitMQ: …")
    over: false,
  };
}

// POST /api/race answered (202, or 503 with the rows it marked ERROR): both queued methods' jobs.
export function noteRaceAnswer(mine, body) {
  mine.startedAt = body.started_at;
  for (const method of QUEUED_METHODS) {
    const sent = body[method] ?? {};
    for (const num of sent.task_nums ?? []) mine.members.set(num, method);
    mine.enqueue[method] = { seconds: sent.enqueue_s, perJobMs: sent.enqueue_ms_per_job };
    if (sent.error) noteError(mine, sent.error, method);  // its rows are ERROR already
  }
}

// The page's own synchronous batch ran: its "enqueue" figure is the whole request, as the browser timed it.
export function noteSyncAnswer(mine, body, took) {
  for (const num of body.task_nums ?? []) mine.members.set(num, "sync");
  mine.enqueue.sync = { seconds: took, perJobMs: (1000 * took) / mine.count };
}

// A broker outage fails both queued methods with the same message: say it once, for both.
export function noteError(mine, message, method) {
  const methods = mine.errors.get(message) ?? [];
  if (method) methods.push(method);
  mine.errors.set(message, methods);
}

export function describeErrors(mine) {
  return RACE.errors([...mine.errors].map(([message, methods]) => RACE.error(message, methods)));
}

// Keeps the rows that may be this race's; true when any of them is new.
export function noteRows(mine, tasks) {
  let changed = false;
  for (const task of tasks) {
    if (!(task.created_at >= mine.pressedAt - CLOCK_SLACK_S)) continue;
    const known = mine.rows.get(task.task_num);
    if (known && known.seq >= task.seq) continue;  // an old or repeated row
    mine.rows.set(task.task_num, task);
    noteSyncBatch(mine, task);
    changed = true;
  }
  return changed;
}

// The sync request only names its jobs when all of them have run, yet the line should grow while
// they run. A batch is written in one go with one created_at, so the first sync batch of this
// length created after Start is taken to be ours; the answer then names the jobs exactly.
function noteSyncBatch(mine, task) {
  if (task.method !== "sync" || mine.syncAnswered || mine.syncBatchCreatedAt !== null) return;
  if (!mine.methods.includes("sync") || task.seconds !== mine.seconds) return;
  mine.syncBatchCreatedAt = task.created_at;
}

function methodOf(mine, task) {
  const method = mine.members.get(task.task_num);
  if (method) return method;
  if (task.method === "sync" && !mine.syncAnswered && task.created_at === mine.syncBatchCreatedAt) return "sync";
  return null;
}

// ---------- the figures: counted from the rows

// When the race began on the server's clock: started_at, or the sync batch's creation if that
// request reached the server first (so no job can finish before "0 s").
export function raceOrigin(mine, tallies) {
  const syncCreated = tallies.sync.createdAt;
  return Number.isFinite(syncCreated) ? Math.min(mine.startedAt ?? syncCreated, syncCreated) : mine.startedAt;
}

export function tally(mine) {
  const tallies = Object.fromEntries(METHODS.map((method) => [method,
    { finishedAt: [], latencies: [], done: 0, failed: 0, createdAt: Infinity }]));
  for (const task of mine.rows.values()) {
    const method = methodOf(mine, task);
    if (!method) continue;
    const counts = tallies[method];
    counts.createdAt = Math.min(counts.createdAt, task.created_at);
    if (task.task_status === "DONE" && Number.isFinite(task.finished_at)) {
      counts.done += 1;
      counts.finishedAt.push(task.finished_at);
      counts.latencies.push(task.finished_at - task.created_at);
    } else if (FINISHED.has(task.task_status)) {
      counts.failed += 1;
    }
  }
  for (const counts of Object.values(tallies)) {
    counts.finishedAt.sort((a, b) => a - b);
    counts.latencies.sort((a, b) => a - b);
  }
  return tallies;
}

// Nearest rank: the smallest latency that `percent` % of the jobs did not exceed.
export function percentile(sorted, percent) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.max(0, Math.ceil((percent / 100) * sorted.length) - 1)];
}

// Over when every racing method has an answer and every one of its jobs has finished one way or another.
export function isOver(mine, tallies) {
  if (mine.startedAt === null) return false;
  return mine.methods.every((method) => {
    if (method === "sync" && !mine.syncAnswered) return false;
    const { done, failed } = tallies[method];
    return done + failed >= mine.count;
  });
}

// The headline's figures: when each method's last job was DONE, fastest first, and how many failed.
export function outcome(mine, tallies, origin) {
  const finishes = mine.methods
    .filter((method) => tallies[method].done > 0)
    .map((method) => [method, tallies[method].finishedAt.at(-1) - origin])
    .sort((a, b) => a[1] - b[1]);
  const failed = mine.methods.reduce((sum, method) => sum + tallies[method].failed, 0);
  return { finishes, failed };
}
