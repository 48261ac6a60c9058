// The queues panel: what is waiting in RabbitMQ, from the management API by way of ours, and how
// that changed over the last 5 minutes (a small chart per queue: ready solid, unacked dashed) — what
// a student watches when a slow consumer falls behind and a second one is started.
// It polls the API, and hands each answer to whoever follows it (the flow diagram). Text from the
// broker only goes in via textContent.

import { formatCount, formatDuration } from "./formats.js";
import { clockFrom } from "./server_clock.js";
import { foldable, pollForever, setText, setTextWithCode } from "./shared.js";
import { QUEUES } from "./vocabulary.js";

const POLL_MS = 2000;  // the broker refreshes its queue stats every 5 s
const HISTORY_S = 300;  // the depth charts keep the last 5 minutes
const listeners = [];  // who else follows the queue stats (the flow diagram): one poll for all

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
const charts = new Map([...queuesPanel.querySelectorAll("svg[data-depth]")].map((svg) => [svg.dataset.depth, {
  svg, ready: svg.querySelector(".ready"), unacked: svg.querySelector(".unacked"), samples: [],
}]));

export function onQueueStats(listener) {
  listeners.push(listener);
}

// One point per answer (on the server's clock), older than HISTORY_S dropped; drawn as two polylines
// in the chart's own 300 × 40 box, scaled to the largest depth seen in the window.
function recordDepth(queue, at) {
  const chart = charts.get(queue.path);
  if (!chart || !Number.isFinite(at)) return;
  chart.samples.push({ at, ready: queue.messages_ready ?? 0, unacked: queue.messages_unacknowledged ?? 0 });
  while (chart.samples.length && chart.samples[0].at < at - HISTORY_S) chart.samples.shift();
  const top = Math.max(1, ...chart.samples.map((p) => Math.max(p.ready, p.unacked)));
  const points = (key) => chart.samples.map((p) => `${(300 * (1 - (at - p.at) / HISTORY_S)).toFixed(1)},`
    + `${(38 - 36 * (p[key] / top)).toFixed(1)}`).join(" ");
  // One sample is a point, not a line: drawn, its stroke was a stray dash at the chart's right edge.
  const drawn = chart.samples.length >= 2;
  chart.ready.setAttribute("points", drawn ? points("ready") : "");
  chart.unacked.setAttribute("points", drawn ? points("unacked") : "");
  chart.svg.dataset.points = String(chart.samples.length);
  chart.svg.dataset.max = String(top);
}

// When the broker last sampled its stats, on the server's clock, so the age ticks between polls.
let sample = { clock: clockFrom(NaN), sampledAt: null, interval: null };
let errorShown = null;  // the panel-level message on screen, so a repeated answer rewrites nothing

function showQueues(answer) {
  for (const listener of listeners) listener(answer);
  if (answer.error) return showQueuesError(answer.error);  // e.g. the management plugin is off
  queuesError.hidden = true;
  queueStats.hidden = false;
  errorShown = null;
  for (const queue of answer.queues ?? []) {
    const cells = queue.path && queueRows.get(queue.path);
    if (!cells) continue;
    showQueueName(cells.name, String(queue.name ?? ""));
    // e.g. "not declared yet"; or, the routes lesson's, "no consumer on queue …": jobs wait, nobody takes them
    setText(cells.error, String(queue.error ?? queue.no_consumer ?? ""));
    setText(cells.ready, formatCount(queue.messages_ready));
    setText(cells.unacked, formatCount(queue.messages_unacknowledged));
    setText(cells.consumers, formatCount(queue.consumers));
    if (!queue.error) recordDepth(queue, answer.sampled_at);
  }
  showManagementLink(answer.management_ui);
  sample = { clock: clockFrom(answer.now), sampledAt: answer.sampled_at, interval: answer.stats_interval_s };
  paintSampleAge();
}

// A queue name breaks only after a dot ("queue_lab." / "celery"), never inside a word.
function showQueueName(node, name) {
  if (node.textContent === name) return;
  node.replaceChildren(...name.split(/(?<=\.)/).flatMap((part, i) => (i ? [document.createElement("wbr"), part] : [part])));
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
  if (errorShown !== message) {
    setTextWithCode(queuesError, message);
    foldable(queuesError);  // its first lines, all of it on a click: the panel stays short
  }
  errorShown = message;
}

export function startQueuesPanel() {
  pollForever("/api/queues", POLL_MS, showQueues, (error) => showQueuesError(QUEUES.loadFailed(error)));
  setInterval(() => {
    if (!queueStats.hidden) paintSampleAge();
  }, 1000);
}
