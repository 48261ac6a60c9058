// The race: "which is faster?" The same N jobs go by Celery and by raw RabbitMQ at the same moment
// (POST /api/race) and, for a small N, synchronously too (this page sends that batch itself); a
// chart counts each method's DONE jobs over time, and a table beside it gives the figures.
//
// The rows come from the live table's own feed: app.js hands us every row it receives, so there is
// no second stream. All times are on the server's clock (started_at, created_at, finished_at).

import { formatMs, formatRate } from "./formats.js";
import { element, postJSON, setText, showOutcome } from "./shared.js";
import {
  CHART as CHART_TEXT, FINISHED, METHODS, QUEUED_METHODS, RACE, methodLabel, reasonOf, unreachable,
} from "./vocabulary.js";

// The synchronous batch holds one of the API's web threads until every job has run, and the chart
// would wait for it: only worth it for a small batch.
const SYNC_MAX_COUNT = 20;
// Rows created this long before Start can't be ours: skipping them keeps the race's memory small.
// (The page's idea of the server clock is only as good as the last answer's `now`.)
const CLOCK_SLACK_S = 5;
const LIVE_TICK_MS = 200;       // while jobs are outstanding the lines grow to "now" at this pace
const MIN_X_SPAN_S = 0.1;       // so a race of very fast jobs still has a readable time axis

const section = document.getElementById("race");
const form = section.querySelector("form");
const startButton = form.querySelector('button[type="submit"]');
const resultLine = section.querySelector('[data-role="result"]');
const canvas = section.querySelector("canvas");
const figureRows = new Map(METHODS.map((method) => {
  const tr = section.querySelector(`tr[data-method="${method}"]`);
  const cells = Object.fromEntries([...tr.querySelectorAll("[data-stat]")].map((td) => [td.dataset.stat, td]));
  // "10 / 10", and under it, only when some failed, "3 failed": a line of its own, so the column
  // keeps the width of its numbers.
  const doneCount = element("span", "done-count", "—"), doneFailed = element("span", "done-failed");
  cells.done.replaceChildren(doneCount, doneFailed);
  return [method, { tr, cells, doneCount, doneFailed }];
}));

let serverNow = () => Date.now() / 1000;  // replaced by app.js's clock in startRace
let showRowsInTable = () => {};
let race = null;                          // the race on screen, or null before the first
let paintRequested = false;
let liveTicker = null;

// ---------- starting a race

function newRace(count, seconds) {
  const methods = [...QUEUED_METHODS];
  if (count <= SYNC_MAX_COUNT) methods.push("sync");
  return {
    count, seconds, methods,
    pressedAt: serverNow(),
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

async function onStart(event) {
  event.preventDefault();
  const { count, seconds } = form.elements;
  if (!form.reportValidity()) return;
  const mine = newRace(count.valueAsNumber, seconds.valueAsNumber);
  race = mine;
  section.dataset.state = "running";  // "over" once every job has finished, or the race failed to start
  startButton.disabled = true;
  showResult(RACE.racing(mine.count, mine.seconds, mine.methods), "waiting");
  clearInterval(liveTicker);
  liveTicker = setInterval(requestPaint, LIVE_TICK_MS);
  requestPaint();
  // Both requests leave together, so neither side gets a head start.
  await Promise.all([sendRace(mine), mine.methods.includes("sync") ? sendSyncBatch(mine) : null]);
  if (race === mine) startButton.disabled = false;
}

async function sendRace(mine) {
  let answer;
  try {
    answer = await postJSON("/api/race", { count: mine.count, seconds: mine.seconds });
  } catch (error) {
    return giveUp(mine, unreachable(error));
  }
  if (race !== mine) return;  // a newer race replaced this one
  const { status, body } = answer;
  if (status !== 202 && status !== 503) return giveUp(mine, reasonOf(status, body));
  mine.startedAt = body.started_at;
  for (const method of QUEUED_METHODS) {
    const sent = body[method] ?? {};
    for (const num of sent.task_nums ?? []) mine.members.set(num, method);
    mine.enqueue[method] = { seconds: sent.enqueue_s, perJobMs: sent.enqueue_ms_per_job };
    if (sent.error) noteError(mine, sent.error, method);  // its rows are ERROR already
  }
  if (mine.errors.size) showResult(describeErrors(mine), "error");
  requestPaint();
}

// The page's own synchronous batch: the request returns when every job has run, so its "enqueue"
// figure is the whole request, as the browser timed it.
async function sendSyncBatch(mine) {
  const sentAt = performance.now();
  let answer;
  try {
    answer = await postJSON("/api/tasks", { method: "sync", seconds: mine.seconds, count: mine.count });
  } catch (error) {
    answer = { status: 0, body: { error: unreachable(error) } };
  }
  if (race !== mine) return;
  const took = (performance.now() - sentAt) / 1000;
  const { status, body } = answer;
  mine.syncAnswered = true;
  if (status === 200) {
    for (const num of body.task_nums ?? []) mine.members.set(num, "sync");
    mine.enqueue.sync = { seconds: took, perJobMs: (1000 * took) / mine.count };
    if (Array.isArray(body.tasks)) showRowsInTable(body.tasks);  // in case the stream is slow
  } else {
    noteError(mine, reasonOf(status, body), "sync");
    showResult(describeErrors(mine), "error");
  }
  requestPaint();
}

function giveUp(mine, message) {
  if (race !== mine) return;
  mine.over = true;
  section.dataset.state = "over";
  noteError(mine, message, null);
  clearInterval(liveTicker);
  showResult(describeErrors(mine), "error");
  requestPaint();
}

// A broker outage fails both queued methods with the same message: say it once, for both.
function noteError(mine, message, method) {
  const methods = mine.errors.get(message) ?? [];
  if (method) methods.push(method);
  mine.errors.set(message, methods);
}

function describeErrors(mine) {
  return RACE.errors([...mine.errors].map(([message, methods]) => RACE.error(message, methods)));
}

const showResult = (text, kind) => showOutcome(resultLine, text, kind);

// ---------- rows from the live table

// Called by app.js with every row the table receives (first load, stream, polling, sync answers).
function receiveRows(tasks) {
  if (!race || race.over) return;
  let changed = false;
  for (const task of tasks) {
    if (!(task.created_at >= race.pressedAt - CLOCK_SLACK_S)) continue;
    const known = race.rows.get(task.task_num);
    if (known && known.seq >= task.seq) continue;  // an old or repeated row
    race.rows.set(task.task_num, task);
    noteSyncBatch(race, task);
    changed = true;
  }
  if (changed) requestPaint();
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
function raceOrigin(mine, tallies) {
  const syncCreated = tallies.sync.createdAt;
  return Number.isFinite(syncCreated) ? Math.min(mine.startedAt ?? syncCreated, syncCreated) : mine.startedAt;
}

function tally(mine) {
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
function percentile(sorted, percent) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.max(0, Math.ceil((percent / 100) * sorted.length) - 1)];
}

function paintFigures(mine, tallies, origin) {
  for (const [method, { tr, cells, doneCount, doneFailed }] of figureRows) {
    const racing = Boolean(mine?.methods.includes(method));
    tr.dataset.racing = String(racing || !mine);
    if (!racing) {
      for (const [stat, cell] of Object.entries(cells)) if (stat !== "done") setText(cell, "—");
      setText(doneCount, mine && method === "sync" ? RACE.syncOnlyUpTo(SYNC_MAX_COUNT) : "—");
      setText(doneFailed, "");
      continue;
    }
    const counts = tallies[method];
    const enqueue = mine.enqueue[method];
    setText(cells.enqueue, formatMs(1000 * enqueue?.seconds));
    setText(cells.per_job, formatMs(enqueue?.perJobMs));
    const lastFinish = counts.finishedAt[counts.finishedAt.length - 1];
    const elapsed = lastFinish - origin;  // from the start to the last DONE so far
    setText(cells.jobs_per_s, counts.done > 0 && elapsed > 0 ? formatRate(counts.done / elapsed) : "—");
    setText(cells.p50, formatMs(1000 * percentile(counts.latencies, 50)));
    setText(cells.p95, formatMs(1000 * percentile(counts.latencies, 95)));
    setText(doneCount, RACE.done(counts.done, mine.count));
    setText(doneFailed, RACE.failed(counts.failed));
  }
}

// Over when every racing method has an answer and every one of its jobs has finished one way or another.
function isOver(mine, tallies) {
  if (mine.startedAt === null) return false;
  return mine.methods.every((method) => {
    if (method === "sync" && !mine.syncAnswered) return false;
    const { done, failed } = tallies[method];
    return done + failed >= mine.count;
  });
}

// "finished: Sync 0.06 s · RabbitMQ 0.41 s · Celery 0.52 s": the headline answer, fastest first.
function finish(mine, tallies, origin) {
  mine.over = true;
  section.dataset.state = "over";
  clearInterval(liveTicker);
  const times = mine.methods
    .filter((method) => tallies[method].done > 0)
    .map((method) => [method, tallies[method].finishedAt.at(-1) - origin])
    .sort((a, b) => a[1] - b[1])
    .map(([method, seconds]) => RACE.finishTime(method, formatMs(1000 * seconds)));
  const failed = mine.methods.reduce((sum, method) => sum + tallies[method].failed, 0);
  const headline = RACE.headline(times, failed);
  if (mine.errors.size) showResult(RACE.errorsAndHeadline(describeErrors(mine), headline), "error");
  else showResult(headline, failed ? "error" : "ok");
  canvas.setAttribute("aria-label", RACE.chartLabel(times));
}

// ---------- painting: figures and chart together, at most once per animation frame

function requestPaint() {
  if (paintRequested) return;
  paintRequested = true;
  requestAnimationFrame(paint);
}

function paint() {
  paintRequested = false;
  const tallies = race ? tally(race) : null;
  const origin = race ? raceOrigin(race, tallies) : null;
  paintFigures(race, tallies, origin);
  drawChart(race, tallies, origin);
  if (race && !race.over && isOver(race, tallies)) finish(race, tallies, origin);
}

// ---------- the chart (a plain canvas: x = seconds since the start, y = jobs DONE)

const CHART = {
  lineWidth: 5,
  font: 20,          // px, before devicePixelRatio: it is read from the back of a classroom
  margin: { left: 72, right: 28, top: 70, bottom: 70 },  // top: the legend, then the y axis title
  grid: "#dde3e9",
  axis: "#4a5560",
  text: "#1b1f24",
};
const DRAW_ORDER = ["sync", "rabbitmq", "celery"];  // Celery last: on top where lines overlap

let cssColours = null;  // the method colours of the page's CSS, read once
function methodColour(method) {
  if (!cssColours) {
    const style = getComputedStyle(document.documentElement);
    cssColours = Object.fromEntries(METHODS.map((m) => [m, style.getPropertyValue(`--${m}`).trim() || "#333"]));
  }
  return cssColours[method];
}

// The canvas's backing store in device pixels, so lines and text stay sharp on a HiDPI screen or a
// zoomed page; drawing happens in CSS pixels. Returns null while the drawer is closed (no size).
function fitCanvas() {
  const width = canvas.clientWidth, height = canvas.clientHeight;
  if (width === 0 || height === 0) return null;
  const ratio = window.devicePixelRatio || 1;
  const deviceWidth = Math.round(width * ratio), deviceHeight = Math.round(height * ratio);
  if (canvas.width !== deviceWidth || canvas.height !== deviceHeight) {
    canvas.width = deviceWidth;
    canvas.height = deviceHeight;
  }
  const context = canvas.getContext("2d");
  context.setTransform(ratio, 0, 0, ratio, 0, 0);
  return { context, width, height };
}

// A round step (1, 2 or 5 × 10^k) giving at most about `ticks` intervals over `span`.
function tickStep(span, ticks) {
  const rough = span / ticks;
  const power = 10 ** Math.floor(Math.log10(rough));
  return [1, 2, 5, 10].map((m) => m * power).find((step) => step >= rough);
}

function drawChart(mine, tallies, origin) {
  const fitted = fitCanvas();
  if (!fitted) return;
  const { context: ctx, width, height } = fitted;
  const fontFamily = getComputedStyle(canvas).fontFamily;
  const plot = {
    left: CHART.margin.left, right: width - CHART.margin.right,
    top: CHART.margin.top, bottom: height - CHART.margin.bottom,
  };
  ctx.clearRect(0, 0, width, height);

  const started = mine && Number.isFinite(origin);
  const count = mine?.count ?? 10;
  // While jobs are outstanding the axis runs to "now"; once the race is over, to the last DONE.
  let span = MIN_X_SPAN_S;
  if (started) {
    const lastDone = Math.max(...METHODS.map((m) => tallies[m].finishedAt.at(-1) ?? -Infinity));
    span = Math.max(span, lastDone - origin, mine.over ? 0 : serverNow() - origin);
  }
  const xStep = tickStep(span, 6);
  const xMax = Math.ceil(span / xStep - 1e-9) * xStep;  // a round end, so the axis doesn't creep
  const yStep = Math.max(1, tickStep(count, 5));
  const x = (seconds) => plot.left + (Math.max(0, seconds) / xMax) * (plot.right - plot.left);
  const y = (jobs) => plot.bottom - (jobs / count) * (plot.bottom - plot.top);

  drawAxes(ctx, plot, { x, y, xMax, xStep, count, yStep, fontFamily });
  if (!started) {
    const middle = (plot.left + plot.right) / 2, height = (plot.top + plot.bottom) / 2;
    ctx.fillStyle = CHART.axis;
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    ctx.font = `bold ${CHART.font}px ${fontFamily}`;
    ctx.fillText(mine && !mine.over ? CHART_TEXT.waiting : CHART_TEXT.pressStart, middle, height - 14);
    ctx.font = `${CHART.font * 0.8}px ${fontFamily}`;
    ctx.fillText(CHART_TEXT.hint, middle, height + 14);
    return;
  }

  ctx.save();
  ctx.beginPath();
  ctx.rect(plot.left - CHART.lineWidth, plot.top - CHART.lineWidth,
    plot.right - plot.left + 2 * CHART.lineWidth, plot.bottom - plot.top + 2 * CHART.lineWidth);
  ctx.clip();
  for (const method of DRAW_ORDER.filter((m) => mine.methods.includes(m))) {
    const counts = tallies[method];
    const complete = counts.done + counts.failed >= count && (method !== "sync" || mine.syncAnswered);
    drawStaircase(ctx, counts.finishedAt.map((at) => at - origin), {
      x, y, colour: methodColour(method),
      // A method still working: its line runs on, flat, to "now". A finished one stops at its last job.
      until: complete || mine.over ? null : serverNow() - origin,
    });
  }
  ctx.restore();
  drawLegend(ctx, plot, mine.methods, fontFamily);
}

// Cumulative DONE count: a step up at each finish.
function drawStaircase(ctx, finishes, { x, y, colour, until }) {
  ctx.beginPath();
  ctx.moveTo(x(0), y(0));
  finishes.forEach((at, index) => {
    ctx.lineTo(x(at), y(index));
    ctx.lineTo(x(at), y(index + 1));
  });
  if (until !== null) ctx.lineTo(x(Math.max(until, finishes.at(-1) ?? 0)), y(finishes.length));
  ctx.strokeStyle = colour;
  ctx.lineWidth = CHART.lineWidth;
  ctx.lineJoin = "round";
  ctx.lineCap = "round";
  ctx.stroke();
  if (until === null && finishes.length > 0) {  // a dot where the method crossed its finish line
    ctx.beginPath();
    ctx.arc(x(finishes.at(-1)), y(finishes.length), CHART.lineWidth + 3, 0, 2 * Math.PI);
    ctx.fillStyle = colour;
    ctx.fill();
  }
}

function drawAxes(ctx, plot, { x, y, xMax, xStep, count, yStep, fontFamily }) {
  ctx.lineWidth = 1;
  ctx.font = `${CHART.font}px ${fontFamily}`;
  ctx.fillStyle = CHART.text;

  // y: jobs DONE, 0 … N (N itself is always labelled: it is the finish line)
  const yTicks = [];
  for (let jobs = 0; jobs <= count; jobs += yStep) yTicks.push(jobs);
  if (yTicks.at(-1) !== count) {
    if (count - yTicks.at(-1) < yStep / 2) yTicks.pop();
    yTicks.push(count);
  }
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  for (const jobs of yTicks) {
    ctx.strokeStyle = CHART.grid;
    ctx.beginPath();
    ctx.moveTo(plot.left, Math.round(y(jobs)) + 0.5);
    ctx.lineTo(plot.right, Math.round(y(jobs)) + 0.5);
    ctx.stroke();
    ctx.fillText(String(jobs), plot.left - 10, y(jobs));
  }

  // x: seconds since the start
  const decimals = xStep >= 1 ? 0 : Math.ceil(-Math.log10(xStep) - 1e-9);
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  for (let i = 0; i * xStep <= xMax + 1e-9; i += 1) {
    const seconds = i * xStep;
    ctx.strokeStyle = CHART.grid;
    ctx.beginPath();
    ctx.moveTo(Math.round(x(seconds)) + 0.5, plot.top);
    ctx.lineTo(Math.round(x(seconds)) + 0.5, plot.bottom);
    ctx.stroke();
    ctx.fillText(seconds.toFixed(decimals), x(seconds), plot.bottom + 8);
  }

  ctx.strokeStyle = CHART.axis;
  ctx.lineWidth = 2;
  ctx.beginPath();
  ctx.moveTo(plot.left, plot.top);
  ctx.lineTo(plot.left, plot.bottom);
  ctx.lineTo(plot.right, plot.bottom);
  ctx.stroke();

  ctx.fillStyle = CHART.axis;
  ctx.textAlign = "center";
  ctx.textBaseline = "bottom";
  ctx.fillText(CHART_TEXT.xAxis, (plot.left + plot.right) / 2, plot.bottom + CHART.margin.bottom - 4);
  ctx.textAlign = "left";
  ctx.textBaseline = "middle";
  ctx.fillText(CHART_TEXT.yAxis, 8, plot.top - 28);
}

// Above the plot, right-aligned: a thick swatch and the name, in the method's colour.
function drawLegend(ctx, plot, methods, fontFamily) {
  ctx.font = `bold ${CHART.font}px ${fontFamily}`;
  ctx.textBaseline = "middle";
  ctx.textAlign = "left";
  const swatch = 30, gap = 10, spacing = 28, middle = 16;
  let right = plot.right;
  for (const method of [...methods].reverse()) {
    const label = methodLabel(method);
    const left = right - swatch - gap - ctx.measureText(label).width;
    ctx.strokeStyle = ctx.fillStyle = methodColour(method);
    ctx.lineWidth = CHART.lineWidth;
    ctx.lineCap = "round";
    ctx.beginPath();
    ctx.moveTo(left, middle);
    ctx.lineTo(left + swatch, middle);
    ctx.stroke();
    ctx.fillText(label, left + swatch + gap, middle);
    right = left - spacing;
  }
}

// ---------- start

// `onRowsReceived(listener)`: app.js calls the listener with every row the table receives.
// `now`: the server's clock as app.js keeps it. `showRows`: puts rows into the table (the sync answer).
export function startRace({ onRowsReceived, now, showRows }) {
  serverNow = now;
  showRowsInTable = showRows;
  onRowsReceived(receiveRows);
  form.addEventListener("submit", onStart);
  new ResizeObserver(requestPaint).observe(canvas);  // also fires when the drawer opens
  watchPixelRatio();
  requestPaint();
}

// Dragging the window to another screen changes devicePixelRatio without resizing the canvas.
function watchPixelRatio() {
  const query = matchMedia(`(resolution: ${window.devicePixelRatio || 1}dppx)`);
  query.addEventListener("change", () => {
    requestPaint();
    watchPixelRatio();
  }, { once: true });
}
