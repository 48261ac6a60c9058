// The broker, seen from inside: one lane per queue path (Celery | RabbitMQ direct), with the API, the
// exchange, the queues and the workers online as boxes, and a dot for every real event in the change
// feed — a job published, delivered, acked, failed, sent to wait, delayed, dead-lettered, lost or
// redelivered. Nothing here is simulated: each dot is a row of the jobs table changing (flow_events.js
// says which change is which event), and the boxes show what the management API and the workers'
// heartbeats say. Past a few dozen dots in flight they aggregate into counts on the arrows, so 500 jobs
// stay smooth; with prefers-reduced-motion only the counts change; Pause freezes the picture.

import { eventsOf, EVENT_KINDS, laneOf } from "./flow_events.js";
import { element, oncePerFrame, setText, svgElement } from "./shared.js";
import { FLOW, methodLabel } from "./vocabulary.js";

const LANES = ["celery", "celery_redis", "rabbitmq"];
// Each lane's share of the width: the raw lane has seven queues (work, .wait, .delay, .dead, .quorum,
// .quorum.dead, .quorum.parked), so it gets the most room.
const LANE_SHARES = { celery: 330, celery_redis: 260, rabbitmq: 660 };
const TOTAL_SHARE = LANES.reduce((sum, lane) => sum + LANE_SHARES[lane], 0);
// The tiers, top to bottom, as fractions of the height: API, exchange, queues, workers (sinks at the foot).
const TIERS = { api: 0.21, exchange: 0.4, queue: 0.6, worker: 0.8 };
// What sits between the API and the queues: an exchange on RabbitMQ; on Redis, a list and LPUSH.
const ROUTERS = { celery: () => FLOW.celeryExchange, celery_redis: () => FLOW.redisList, rabbitmq: () => FLOW.defaultExchange };
const DOT_MS = 900;              // one hop of a dot
const MAX_DOTS = 60;             // in flight at once; past it, events show as "+n" on their arrow
const AGGREGATE_FADE_MS = 1500;
const COLOURS = {
  published: "var(--pending)", delayed: "var(--scheduled)", delivered: "var(--in-progress)",
  redelivered: "var(--rabbitmq)", acked: "var(--done)", failed: "var(--error)", retrying: "var(--retrying)",
  dead: "var(--lost)", lost: "var(--lost)",
};

const section = document.getElementById("flow");
const svg = section.querySelector("svg");
const pauseButton = section.querySelector('[data-role="pause"]');
const countCells = new Map();    // `${lane}:${kind}` -> <td>
const counts = new Map();        // `${lane}:${kind}` -> number
const known = new Map();         // task_num -> { task_status, attempt, error } as last seen
const queueBoxes = new Map();    // queue name -> { group, label, stats }
const workerGroups = new Map();  // lane -> <g> holding that lane's worker boxes
const anchors = new Map();       // node id -> { x, y } (centres, in SVG units)
const dots = [];                 // { circle, from, to, started }
const aggregates = new Map();    // edge id -> { text, count, until }
const reducedMotion = matchMedia("(prefers-reduced-motion: reduce)");
let paused = false;
let buffered = [];               // events that arrived while paused: counted on resume, not animated
let layout = { queues: Object.fromEntries(LANES.map((lane) => [lane, []])) };

// ---------- drawing the boxes

// The diagram is drawn at its real size in CSS pixels with the page's text size (svg.flow's font-size),
// so presenter mode's larger type makes larger boxes and text instead of a scaled-down picture.
let size = { width: 0, height: 0, font: 12 };

function measure() {
  const { width, height } = svg.getBoundingClientRect();
  const font = parseFloat(getComputedStyle(svg).fontSize) || 12;
  return { width: Math.round(Math.max(width, 40 * font)), height: Math.round(Math.max(height, 14 * font)), font };
}

const laneWidth = (lane) => (size.width * LANE_SHARES[lane]) / TOTAL_SHARE;
const laneLeft = (lane) => LANES.slice(0, LANES.indexOf(lane)).reduce((sum, l) => sum + laneWidth(l), 0);
const tier = (name) => size.height * TIERS[name];

// A label as long as its box allows (about 0.6 em a character), cut at the front: the end of a queue
// name (".wait", ".dead") is what tells them apart.
function fitLabel(text, width) {
  const room = Math.max(4, Math.floor(width / (0.6 * size.font)));
  return text.length > room ? `…${text.slice(-(room - 1))}` : text;
}

// A box with a label and, under it, a line of figures (stats).
function box(id, x, y, width, height, label, kind) {
  const f = size.font;
  const group = svgElement("g", { class: `node ${kind}`, "data-node": id });
  const rect = svgElement("rect", { x: x - width / 2, y: y - height / 2, width, height, rx: 6 });
  const text = svgElement("text", { x, y: y - 0.15 * f, "text-anchor": "middle" });
  const stats = svgElement("text", { x, y: y + 1.05 * f, "text-anchor": "middle", class: "stats" });
  text.textContent = fitLabel(label, width);
  group.append(rect, text, stats);
  anchors.set(id, { x, y });
  return { group, label: text, stats, rect };
}

function edge(x1, y1, x2, y2) {
  return svgElement("line", { x1, y1, x2, y2, class: "edge" });
}

// The queues of each lane, from the API's answer (GET /api/queues lists them in order, per path).
function drawLanes(queues) {
  size = measure();
  const { width, height, font: f } = size;
  svg.replaceChildren();
  anchors.clear();
  queueBoxes.clear();
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  LANES.forEach((lane) => {
    const laneW = laneWidth(lane), left = laneLeft(lane), middle = left + laneW / 2;
    const laneGroup = svgElement("g", { class: "lane", "data-lane": lane });
    laneGroup.append(svgElement("rect", { x: left + 4, y: 2, width: laneW - 8, height: height - 4, rx: 10,
      class: "lane-frame" }));
    const title = svgElement("text", { x: left + 0.9 * f, y: 1.6 * f, class: "lane-title" });
    title.textContent = methodLabel(lane);
    laneGroup.append(title);
    const small = 2.4 * f, tall = 2.9 * f;
    const api = tier("api"), exchange = tier("exchange"), queueY = tier("queue");
    laneGroup.append(box(`${lane}:api`, middle, api, Math.min(12 * f, laneW - 2 * f), small, FLOW.api, "api").group);
    laneGroup.append(box(`${lane}:exchange`, middle, exchange, Math.min(18 * f, laneW - 2 * f), small, ROUTERS[lane](),
      "exchange").group);
    const mine = queues.filter((queue) => queue.lane === lane);
    const slot = (laneW - 2 * f) / Math.max(1, mine.length);
    laneGroup.append(edge(middle, api + small / 2, middle, exchange - small / 2));  // API → exchange
    mine.forEach((queue, i) => {
      const x = left + f + (i + 0.5) * slot;
      laneGroup.append(edge(middle, exchange + small / 2, x, queueY - tall / 2));  // exchange → queue (by name or binding)
      const node = box(`${lane}:queue:${queue.name}`, x, queueY, Math.min(12.5 * f, slot - 0.5 * f), tall,
        String(queue.short ?? queue.name), "queue");
      node.group.append(svgElement("title", {}, String(queue.name)));
      queueBoxes.set(queue.name, node);
      laneGroup.append(node.group);
    });
    const workers = svgElement("g", { class: "worker-boxes" });  // not "workers": the Workers table's class
    workerGroups.set(lane, workers);
    laneGroup.append(workers);
    // Where finished jobs go: acked (✓) at the left, failed (✕) in the middle, lost (?) at the right.
    for (const [kind, x, anchor] of [["acked", left + f, "start"], ["failed", middle, "middle"],
      ["lost", left + laneW - f, "end"]]) {
      const sink = svgElement("text", { x, y: height - 0.45 * f, "text-anchor": anchor, class: `sink ${kind}` });
      // A narrow lane keeps only the sign (✓ ✕ ?), the word in its tooltip: three words would collide.
      sink.textContent = laneW < 24 * f ? FLOW.sinks[kind].split(" ")[0] : FLOW.sinks[kind];
      sink.append(svgElement("title", {}, FLOW.sinks[kind]));
      anchors.set(`${lane}:sink:${kind}`, { x: anchor === "start" ? x + 2 * f : anchor === "end" ? x - 2 * f : x, y: height - 1.4 * f });
      laneGroup.append(sink);
    }
    svg.append(laneGroup);
  });
}

function drawWorkers(workers) {
  const f = size.font, y = tier("worker");
  for (const lane of LANES) {
    const group = workerGroups.get(lane);
    if (!group) continue;
    const mine = workers.filter((worker) => worker.online && laneOf(worker) === lane);
    const laneW = laneWidth(lane), left = laneLeft(lane);
    const shown = mine.slice(0, 5);
    const slot = (laneW - 2 * f) / Math.max(1, shown.length);
    group.replaceChildren();
    shown.forEach((worker, i) => {
      const x = left + f + (i + 0.5) * slot;
      const node = box(`${lane}:worker:${worker.worker_id}`, x, y, Math.min(11.5 * f, slot - 0.5 * f), 2.9 * f,
        String(worker.worker_id), "worker");
      const prefetch = worker.prefetch ?? undefined;  // a field of its heartbeat
      setText(node.stats, worker.current_job == null ? FLOW.idle(prefetch) : FLOW.running(worker.current_job, prefetch));
      node.group.dataset.workerId = worker.worker_id;
      group.append(node.group);
    });
    if (mine.length > shown.length) {
      const more = svgElement("text", { x: left + laneW - f, y: y + 2.6 * f, "text-anchor": "end", class: "more" });
      more.textContent = FLOW.moreWorkers(mine.length - shown.length);
      group.append(more);
    }
    anchors.set(`${lane}:worker:any`, { x: left + laneW / 2, y });
  }
}

function paintQueueStats(queues) {
  for (const queue of queues) {
    const node = queueBoxes.get(queue.name);
    if (!node) continue;
    setText(node.stats, queue.error ? "—" : FLOW.depthShort(queue.messages_ready ?? 0, queue.messages_unacknowledged ?? 0));
    node.group.querySelector("title").textContent = queue.no_consumer ? String(queue.no_consumer)
      : `${queue.name}: ${FLOW.depth(queue.messages_ready ?? 0, queue.messages_unacknowledged ?? 0)}`;
    node.group.classList.toggle("unconsumed", Boolean(queue.no_consumer));  // ready jobs, nobody to take them
  }
}

// ---------- counting and animating events

function count(lane, kind) {
  const key = `${lane}:${kind}`;
  counts.set(key, (counts.get(key) ?? 0) + 1);
  const cell = countCells.get(key);
  if (cell) setText(cell, String(counts.get(key)));
}

// Where a dot of this kind goes from and to, in this lane.
function path(event) {
  const { lane, kind, queue, workerId } = event;
  const worker = anchors.has(`${lane}:worker:${workerId}`) ? `${lane}:worker:${workerId}` : `${lane}:worker:any`;
  const queueNode = anchors.has(`${lane}:queue:${queue}`) ? `${lane}:queue:${queue}` : `${lane}:exchange`;
  switch (kind) {
    case "published": case "delayed": return [`${lane}:api`, queueNode];
    case "delivered": case "redelivered": return [queueNode, worker];
    case "acked": return [worker, `${lane}:sink:acked`];
    case "failed": return [worker, `${lane}:sink:failed`];
    case "retrying": case "dead": return [worker, queueNode];
    case "lost": return [worker, `${lane}:sink:lost`];
    default: return null;
  }
}

function animate(event) {
  const ends = path(event);
  if (!ends) return;
  const [from, to] = ends.map((id) => anchors.get(id));
  if (!from || !to) return;
  if (dots.length >= MAX_DOTS) return aggregate(event, from, to);
  const circle = svgElement("circle", { r: 0.45 * size.font, cx: from.x, cy: from.y, class: `dot ${event.kind}` });
  circle.style.fill = COLOURS[event.kind];
  svg.append(circle);
  dots.push({ circle, from, to, started: performance.now() });
  requestTick();
}

// Too many at once: a count on the arrow instead of a dot each ("+120 delivered").
function aggregate(event, from, to) {
  const id = `${event.lane}:${event.kind}`;
  let entry = aggregates.get(id);
  if (!entry) {
    const text = svgElement("text", { x: (from.x + to.x) / 2 + 0.6 * size.font, y: (from.y + to.y) / 2, class: `aggregate ${event.kind}` });
    svg.append(text);
    entry = { text, count: 0, until: 0 };
    aggregates.set(id, entry);
  }
  entry.count += 1;
  entry.until = performance.now() + AGGREGATE_FADE_MS;
  setText(entry.text, FLOW.aggregate(entry.count, FLOW.events[event.kind]));
  requestTick();
}

const requestTick = oncePerFrame(tick);

function tick() {
  if (paused) return;
  const now = performance.now();
  for (let i = dots.length - 1; i >= 0; i -= 1) {
    const dot = dots[i];
    const t = Math.min(1, (now - dot.started) / DOT_MS);
    dot.circle.setAttribute("cx", dot.from.x + (dot.to.x - dot.from.x) * t);
    dot.circle.setAttribute("cy", dot.from.y + (dot.to.y - dot.from.y) * t);
    if (t >= 1) {
      dot.circle.remove();
      dots.splice(i, 1);
    }
  }
  for (const [id, entry] of aggregates) {
    if (now > entry.until) {
      entry.text.remove();
      aggregates.delete(id);
    }
  }
  if (dots.length || aggregates.size) requestTick();
}

function show(events) {
  for (const event of events) {
    count(event.lane, event.kind);
    if (!reducedMotion.matches && !section.closest("details:not([open])")) animate(event);
  }
}

// ---------- the feed

// Rows from the page's one feed. `history`: the first load (or after a reset) — the baseline, not news.
export function receiveFlowRows(tasks, { history = false } = {}) {
  const events = [];
  for (const task of tasks) {
    const lane = LANES.includes(task.method) ? task.method : null;
    const before = known.get(task.task_num);
    known.set(task.task_num, { task_status: task.task_status, attempt: task.attempt, error: task.error });
    if (!lane || history) continue;
    for (const kind of eventsOf(before, task)) {
      events.push({ lane, kind, workerId: task.worker_id, queue: queueFor(lane, task, kind) });
    }
  }
  if (!events.length) return;
  if (paused) buffered.push(...events);
  else show(events);
}

// Which queue box an event of this job touches: the layout names them (GET /api/queues).
function queueFor(lane, task, kind) {
  const queues = layout.queues[lane] ?? [];
  const role = kind === "delayed" ? "delay" : kind === "retrying" ? "wait" : kind === "dead" ? "dead" : "work";
  // The row names the queue it was published to; its family (classic or quorum) is the layout's.
  const family = queues.find((q) => q.name === task.queue)?.family ?? "classic";
  return (queues.find((q) => q.role === role && (q.family ?? "classic") === family)
    ?? queues.find((q) => q.role === "work"))?.name;
}

export function startOverFlow() {
  known.clear();
}

// ---------- start

let lastQueues = [], lastWorkers = [];

export function showFlowQueues(answer) {
  const queues = answer.queues ?? [];
  lastQueues = queues;
  const byLane = Object.fromEntries(LANES.map((lane) => [lane, queues.filter((q) => q.lane === lane)]));
  const names = JSON.stringify(queues.map((q) => q.name));
  if (names !== layout.names) {
    layout = { names, queues: byLane };
    redraw();
  }
  paintQueueStats(queues);
}

export function showFlowWorkers(answer) {
  lastWorkers = answer.workers ?? [];
  drawWorkers(lastWorkers);
}

// Everything again at the new size (a resize, presenter mode, the drawer opened): boxes and anchors
// move; dots in flight finish on their old path.
function redraw() {
  drawLanes(lastQueues);
  drawWorkers(lastWorkers);
  paintQueueStats(lastQueues);
}

function redrawWhenResized() {
  const changed = () => {
    const next = measure();
    if (next.width !== size.width || next.height !== size.height || next.font !== size.font) redraw();
  };
  new ResizeObserver(oncePerFrame(changed)).observe(svg);
}

function togglePause() {
  paused = !paused;
  pauseButton.setAttribute("aria-pressed", String(paused));
  setText(pauseButton, paused ? FLOW.resume : FLOW.pause);
  section.dataset.paused = String(paused);
  if (!paused) {
    for (const event of buffered) count(event.lane, event.kind);  // counted, not replayed
    buffered = [];
    requestTick();
  }
}

export function startFlowDiagram() {
  const table = section.querySelector('[data-role="counts"]');
  const head = element("tr", "", element("th", "", FLOW.eventHeader), ...LANES.map((lane) => element("th", "", methodLabel(lane))));
  const rows = EVENT_KINDS.map((kind) => {
    const cells = LANES.map((lane) => {
      const td = element("td", "", "0");
      td.dataset.lane = lane;
      td.dataset.event = kind;
      countCells.set(`${lane}:${kind}`, td);
      return td;
    });
    const label = element("th", `event ${kind}`, FLOW.events[kind]);
    return element("tr", "", label, ...cells);
  });
  table.replaceChildren(element("thead", "", head), element("tbody", "", ...rows));
  section.dataset.motion = reducedMotion.matches ? "reduced" : "full";
  reducedMotion.addEventListener("change", () => { section.dataset.motion = reducedMotion.matches ? "reduced" : "full"; });
  pauseButton.addEventListener("click", togglePause);
  setText(pauseButton, FLOW.pause);
  drawLanes([]);
  redrawWhenResized();
}
