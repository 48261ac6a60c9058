// The workers panel: who is working, how the done jobs were shared out, and what each one is on.
// It polls the API. Text from workers only goes in via textContent.

import { formatDuration } from "./formats.js";
import { clockFrom } from "./server_clock.js";
import { element, pollForever, setText } from "./shared.js";
import { methodOfWorker } from "./flow_events.js";
import { WORKERS, methodLabel } from "./vocabulary.js";

const POLL_MS = 2000;  // workers announce every 5 s
const KINDS = {        // by the method a worker serves: its badge and the order on screen
  celery: { label: WORKERS.kinds.celery, method: "celery", order: 0 },
  celery_redis: { label: methodLabel("celery_redis"), method: "celery_redis", order: 1 },
  rabbitmq: { label: WORKERS.kinds.consumer, method: "rabbitmq", order: 2 },
};
const kindOf = (worker) => KINDS[methodOfWorker(worker)] ?? null;

const workersPanel = document.getElementById("workers");
const workerList = workersPanel.querySelector('[data-role="rows"]');
// Offline workers fold into one line ("3 offline ▸") that opens on click: after a few restarts
// they would otherwise push the live ones out of sight.
const offlineList = workersPanel.querySelector('[data-role="offline-rows"]');
const offlineToggle = workersPanel.querySelector('[data-role="offline-toggle"]');
const offlineButton = offlineToggle.querySelector("button");
const workersEmpty = workersPanel.querySelector('[data-role="empty"]');
const workersError = workersPanel.querySelector('[data-role="error"]');
const workersExplain = workersPanel.querySelector('[data-role="explain"]');
const workerRows = new Map();  // worker_id -> { tr, cells, worker }
const listeners = [];  // who else follows the workers (the flow diagram): one poll for all

export function onWorkers(listener) {
  listeners.push(listener);
}
let workersClock = clockFrom(NaN);  // ages count on the server's clock, from the last answer

function showWorkers(answer) {
  for (const listener of listeners) listener(answer);
  workersClock = clockFrom(answer.now);
  workersError.hidden = true;
  const workers = [...(answer.workers ?? [])].sort(kindThenArrival);

  // How the DONE jobs were spread: each worker's share among the workers serving its method.
  const doneByKind = new Map();
  for (const worker of workers) {
    const method = methodOfWorker(worker);
    doneByKind.set(method, (doneByKind.get(method) ?? 0) + (Number(worker.jobs_done) || 0));
  }

  // A Celery worker's main process (celery_node) says what its pool processes cannot know: how many
  // there are now, the prefetch, and what it holds; each process's row names its node.
  const nodes = new Map(workers.filter((w) => w.kind === "celery_node" && w.online).map((w) => [w.profile?.node, w.profile]));
  const listed = new Set(workers.map((worker) => worker.worker_id));
  for (const [id, row] of workerRows) {
    if (!listed.has(id)) {  // forgotten by the API (silent for forget_after_s): gone here too
      row.tr.remove();
      workerRows.delete(id);
    }
  }
  const placed = new Map([[workerList, 0], [offlineList, 0]]);
  for (const worker of workers) {
    let row = workerRows.get(worker.worker_id);
    if (!row) {
      row = buildWorkerRow(worker);
      workerRows.set(worker.worker_id, row);
    }
    paintWorker(row, worker, doneByKind.get(methodOfWorker(worker)), nodes);
    const list = worker.online ? workerList : offlineList;
    const index = placed.get(list);
    placed.set(list, index + 1);
    const there = list.children[index];
    if (there !== row.tr) list.insertBefore(row.tr, there ?? null);  // keep the sorted order
  }
  paintOfflineToggle(placed.get(offlineList));
  workersEmpty.hidden = workerRows.size > 0;
  explainWorkers(answer);
}

function paintOfflineToggle(count) {
  const open = offlineButton.getAttribute("aria-expanded") === "true";
  offlineToggle.hidden = count === 0;
  offlineList.hidden = count === 0 || !open;
  setText(offlineButton, WORKERS.offlineToggle(count, open));
}

function toggleOffline() {
  const open = offlineButton.getAttribute("aria-expanded") !== "true";
  offlineButton.setAttribute("aria-expanded", String(open));
  paintOfflineToggle(offlineList.children.length);
}

// Grouped by kind; within a kind the longest-running first, so a new worker appears at the bottom.
// By kind; a Celery worker (its main process) first, then its processes; then by arrival.
function kindThenArrival(a, b) {
  const order = (worker) => kindOf(worker)?.order ?? 9;
  const node = (worker) => String(worker.profile?.node ?? "");
  const main = (worker) => (worker.kind === "celery_node" ? 0 : 1);
  return order(a) - order(b) || node(a).localeCompare(node(b)) || main(a) - main(b)
    || (a.first_seen ?? 0) - (b.first_seen ?? 0) || String(a.worker_id).localeCompare(String(b.worker_id));
}

// Columns: worker (its kind's badge, id, profile, when last heard of, reports) | jobs done (+ share bar) | now.
function buildWorkerRow(worker) {
  const kind = kindOf(worker);
  const badge = element("span", "badge", kind?.label ?? String(worker.kind));
  badge.dataset.method = kind?.method ?? "";
  const cells = {
    id: element("div", "worker-id", String(worker.worker_id)), seen: element("div", "seen"),
    profile: element("div", "profile"), reports: element("div", "reports"),
    fill: element("div", "fill"), done: element("span", "share-text"), current: element("td", "current"),
  };
  const tr = element("tr", "",
    element("td", "", element("div", "worker-head", badge, cells.id), cells.profile, cells.seen, cells.reports),
    element("td", "", element("div", "share", element("div", "bar", cells.fill), cells.done)),
    cells.current);
  tr.dataset.workerId = worker.worker_id;
  tr.dataset.kind = worker.kind;
  tr.dataset.method = methodOfWorker(worker);  // its badge's colour
  return { tr, cells, worker };
}

function profileText(worker, nodes) {
  const facts = worker.profile ?? {};
  if (worker.kind === "celery_node") return WORKERS.node(facts);
  const node = facts.node == null ? null : nodes.get(facts.node);
  if (!node) return WORKERS.profile(facts);
  return `${WORKERS.profile({ ...facts, prefetch_multiplier: node.prefetch_multiplier })} · ${WORKERS.processOf(facts.node)}`;
}

function paintWorker(row, worker, doneOfKind, nodes) {
  const { tr, cells } = row;
  row.worker = worker;
  tr.dataset.online = worker.online ? "true" : "false";  // CSS greys offline rows
  cells.id.title = WORKERS.details(worker);
  // The settings that make this worker behave as it does (ack mode, prefetch, naive…): the fault
  // lab's experiments differ only in these.
  setText(cells.profile, profileText(worker, nodes));
  const done = Number(worker.jobs_done) || 0;
  const share = doneOfKind > 0 ? done / doneOfKind : 0;
  cells.fill.style.transform = `scaleX(${share})`;
  setText(cells.done, doneOfKind > 0 ? `${done} · ${Math.round(share * 100)}%` : String(done));

  paintReports(cells.reports, worker);

  const job = worker.current_job == null ? null : `#${worker.current_job}`;
  if (worker.kind === "celery_node") setText(cells.current, "—");  // it runs nothing: its processes do
  else if (worker.online) setText(cells.current, job ?? WORKERS.idle);
  else setText(cells.current, job ? WORKERS.wasOn(job) : "—");  // a killed worker's job comes back as attempt 2
  paintLastSeen(row, workersClock());
}

// The worker's status reports the API has not had yet (an API outage): they wait in the worker,
// in order, and arrive when the API is back — the rows then catch up. Nothing was lost.
function paintReports(node, worker) {
  const waiting = Number(worker.backlog) || 0, late = Number(worker.delivered_late) || 0;
  node.dataset.state = waiting > 0 ? "waiting" : late > 0 ? "delivered" : "none";
  setText(node, waiting > 0 ? WORKERS.reportsWaiting(waiting)
    : late > 0 ? WORKERS.reportsDeliveredLate(late, Number(worker.backlog_peak) || 0) : "");
  node.title = WORKERS.reportsTitle;
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
    lost: known(answer.lost_after_s, WORKERS.offlineUnknown),
  }));
}

function showWorkersFailure(error) {
  workersError.hidden = false;
  setText(workersError, WORKERS.loadFailed(error));
}

export function startWorkersPanel() {
  offlineButton.addEventListener("click", toggleOffline);
  pollForever("/api/workers", POLL_MS, showWorkers, showWorkersFailure);
  setInterval(() => {
    const now = workersClock();
    for (const row of workerRows.values()) paintLastSeen(row, now);
  }, 1000);
}
