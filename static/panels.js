// The workers and queues panels: who is working, how the done jobs were shared out, and what is
// waiting in RabbitMQ. Both poll the API. Text from workers and the broker only goes in via textContent.

import { formatCount, formatDuration } from "./formats.js";
import { clockFrom } from "./server_clock.js";
import { element, pollForever, setText, setTextWithCode } from "./shared.js";
import { QUEUES, WORKERS } from "./vocabulary.js";

const POLL_MS = 2000;  // the broker refreshes its queue stats every 5 s; workers announce every 5 s
const KINDS = {        // label, the badge colour of the method it serves, and the order on screen
  celery: { label: WORKERS.kinds.celery, method: "celery", order: 0 },
  consumer: { label: WORKERS.kinds.consumer, method: "rabbitmq", order: 1 },
};
const kindOf = (worker) => (Object.hasOwn(KINDS, worker.kind) ? KINDS[worker.kind] : null);

// ---------- workers

const workersPanel = document.getElementById("workers");
const workerList = workersPanel.querySelector('[data-role="rows"]');
const workersEmpty = workersPanel.querySelector('[data-role="empty"]');
const workersError = workersPanel.querySelector('[data-role="error"]');
const workersExplain = workersPanel.querySelector('[data-role="explain"]');
const workerRows = new Map();  // worker_id -> { tr, cells, worker }
let workersClock = clockFrom(NaN);  // ages count on the server's clock, from the last answer

function showWorkers(answer) {
  workersClock = clockFrom(answer.now);
  workersError.hidden = true;
  const workers = [...(answer.workers ?? [])].sort(kindThenArrival);

  // How the DONE jobs were spread: each worker's share among the workers of its own kind.
  const doneByKind = new Map();
  for (const worker of workers) {
    doneByKind.set(worker.kind, (doneByKind.get(worker.kind) ?? 0) + (Number(worker.jobs_done) || 0));
  }

  const listed = new Set(workers.map((worker) => worker.worker_id));
  for (const [id, row] of workerRows) {
    if (!listed.has(id)) {  // forgotten by the API (silent for forget_after_s): gone here too
      row.tr.remove();
      workerRows.delete(id);
    }
  }
  workers.forEach((worker, index) => {
    let row = workerRows.get(worker.worker_id);
    if (!row) {
      row = buildWorkerRow(worker);
      workerRows.set(worker.worker_id, row);
    }
    paintWorker(row, worker, doneByKind.get(worker.kind));
    const there = workerList.children[index];
    if (there !== row.tr) workerList.insertBefore(row.tr, there ?? null);  // keep the sorted order
  });
  workersEmpty.hidden = workerRows.size > 0;
  explainWorkers(answer);
}

// Grouped by kind; within a kind the longest-running first, so a new worker appears at the bottom.
function kindThenArrival(a, b) {
  const order = (worker) => kindOf(worker)?.order ?? 9;
  return order(a) - order(b) || (a.first_seen ?? 0) - (b.first_seen ?? 0)
    || String(a.worker_id).localeCompare(String(b.worker_id));
}

// Columns: kind | worker (its id, and when it was last heard of) | jobs done (+ share bar) | now.
function buildWorkerRow(worker) {
  const kind = kindOf(worker);
  const badge = element("span", "badge", kind?.label ?? String(worker.kind));
  badge.dataset.method = kind?.method ?? "";
  const cells = {
    id: element("div", "worker-id", String(worker.worker_id)), seen: element("div", "seen"),
    profile: element("div", "profile"),
    fill: element("div", "fill"), done: element("span", "share-text"), current: element("td", "current"),
  };
  const tr = element("tr", "",
    element("td", "", badge),
    element("td", "", cells.id, cells.profile, cells.seen),
    element("td", "", element("div", "share", element("div", "bar", cells.fill), cells.done)),
    cells.current);
  tr.dataset.workerId = worker.worker_id;
  tr.dataset.kind = worker.kind;
  return { tr, cells, worker };
}

function paintWorker(row, worker, doneOfKind) {
  const { tr, cells } = row;
  row.worker = worker;
  tr.dataset.online = worker.online ? "true" : "false";  // CSS greys offline rows
  cells.id.title = WORKERS.details(worker);
  // The settings that make this worker behave as it does (ack mode, prefetch, naive…): the fault
  // lab's experiments differ only in these.
  setText(cells.profile, worker.profile ?? "");
  const done = Number(worker.jobs_done) || 0;
  const share = doneOfKind > 0 ? done / doneOfKind : 0;
  cells.fill.style.transform = `scaleX(${share})`;
  setText(cells.done, doneOfKind > 0 ? `${done} · ${Math.round(share * 100)}%` : String(done));

  const job = worker.current_job == null ? null : `#${worker.current_job}`;
  if (worker.online) setText(cells.current, job ?? WORKERS.idle);
  else setText(cells.current, job ? WORKERS.wasOn(job) : "—");  // a killed worker's job comes back as attempt 2
  paintLastSeen(row, workersClock());
}

function paintLastSeen(row, now) {
  const { worker, cells } = row;
  const ago = Number.isFinite(worker.last_seen) ? WORKERS.ago(formatDuration(now - worker.last_seen)) : WORKERS.never;
  setText(cells.seen, worker.online ? ago : WORKERS.offline(ago));
}

function explainWorkers(answer) {
  const known = (seconds, unknown) => (Number.isFinite(seconds) ? formatDuration(seconds) : unknown);
  setText(workersExplain, WORKERS.explain({
    every: Number.isFinite(answer.heartbeat_s) ? WORKERS.every(formatDuration(answer.heartbeat_s)) : WORKERS.everyUnknown,
    offline: known(answer.offline_after_s, WORKERS.offlineUnknown),
    forget: known(answer.forget_after_s, WORKERS.forgetUnknown),
  }));
}

function showWorkersFailure(error) {
  workersError.hidden = false;
  setText(workersError, WORKERS.loadFailed(error));
}

// ---------- queues

const queuesPanel = document.getElementById("queues");
const queuesError = queuesPanel.querySelector('[data-role="error"]');
const queueStats = queuesPanel.querySelector('[data-role="stats"]');
const managementLink = queuesPanel.querySelector('[data-role="management-ui"]');
const sampledLine = queuesPanel.querySelector('[data-role="sampled"]');
const queueRows = new Map([...queuesPanel.querySelectorAll("tr[data-queue]")].map((tr) => [tr.dataset.queue, {
  name: tr.querySelector('[data-role="name"]'),
  error: tr.querySelector('[data-role="queue-error"]'),
  ready: tr.querySelector('[data-stat="ready"]'),
  unacked: tr.querySelector('[data-stat="unacked"]'),
  consumers: tr.querySelector('[data-stat="consumers"]'),
}]));
// When the broker last sampled its stats, on the server's clock, so the age ticks between polls.
let sample = { clock: clockFrom(NaN), sampledAt: null, interval: null };
let errorShown = null;  // the panel-level message on screen, so a repeated answer rewrites nothing

function showQueues(answer) {
  if (answer.error) return showQueuesError(answer.error);  // e.g. the management plugin is off
  queuesError.hidden = true;
  queueStats.hidden = false;
  errorShown = null;
  for (const queue of answer.queues ?? []) {
    const cells = queueRows.get(queue.path);
    if (!cells) continue;
    setText(cells.name, String(queue.name ?? ""));
    setText(cells.error, queue.error ? String(queue.error) : "");  // e.g. "not declared yet"
    setText(cells.ready, formatCount(queue.messages_ready));
    setText(cells.unacked, formatCount(queue.messages_unacknowledged));
    setText(cells.consumers, formatCount(queue.consumers));
  }
  showManagementLink(answer.management_ui);
  sample = { clock: clockFrom(answer.now), sampledAt: answer.sampled_at, interval: answer.stats_interval_s };
  paintSampleAge();
}

// Only http(s) links: the address comes from configuration, and a javascript: URL must never be clickable.
function showManagementLink(address) {
  let url = null;
  try {
    url = new URL(address);
  } catch {
    url = null;
  }
  const usable = url && (url.protocol === "http:" || url.protocol === "https:");
  managementLink.hidden = !usable;
  if (usable && managementLink.href !== url.href) managementLink.href = url.href;
}

function paintSampleAge() {
  const refresh = Number.isFinite(sample.interval) ? QUEUES.refreshes(formatDuration(sample.interval)) : "";
  const age = Number.isFinite(sample.sampledAt) ? QUEUES.sampled(formatDuration(sample.clock() - sample.sampledAt)) : QUEUES.notSampled;
  setText(sampledLine, age + refresh);
}

// The one line, and nothing else: the rest of the page carries on without queue stats.
function showQueuesError(message) {
  queueStats.hidden = true;
  managementLink.hidden = true;
  queuesError.hidden = false;
  if (errorShown !== message) setTextWithCode(queuesError, message);
  errorShown = message;
}

// ---------- start

export function startPanels() {
  pollForever("/api/workers", POLL_MS, showWorkers, showWorkersFailure);
  pollForever("/api/queues", POLL_MS, showQueues, (error) => showQueuesError(QUEUES.loadFailed(error)));
  setInterval(() => {
    const now = workersClock();
    for (const row of workerRows.values()) paintLastSeen(row, now);
    if (!queueStats.hidden) paintSampleAge();
  }, 1000);
}
