// The race: "which is faster?" The same N jobs go by Celery and by raw RabbitMQ at the same moment
// (POST /api/race) and, for a small N, synchronously too (this page sends that batch itself); a
// chart counts each method's DONE jobs over time, and a table beside it gives the figures.
// This module runs the race section: the form, the requests, the result line and the figures;
// race_state.js keeps the count and race_chart.js draws it.
//
// The rows come from the page's one feed (live_feed.js), as they do to the jobs table: no second
// stream. All times are on the server's clock (started_at, created_at, finished_at).

import { formatMs, formatRate } from "./formats.js";
import { showRows } from "./live_feed.js";
import { drawChart, labelChart, watchChart } from "./race_chart.js";
import {
  SYNC_MAX_COUNT, describeErrors, isOver, newRace, noteError, noteRaceAnswer, noteRows, noteSyncAnswer,
  outcome, percentile, raceOrigin, tally,
} from "./race_state.js";
import { withOwner } from "./preferences.js";
import { serverNow } from "./server_clock.js";
import { element, oncePerFrame, postJSON, setText, showOutcome } from "./shared.js";
import { METHODS, RACE, reasonOf, unreachable } from "./vocabulary.js";

const LIVE_TICK_MS = 200;  // while jobs are outstanding the lines grow to "now" at this pace

const section = document.getElementById("race");
const form = section.querySelector("form");
const startButton = form.querySelector('button[type="submit"]');
const resultLine = section.querySelector('[data-role="result"]');
const figureRows = new Map(METHODS.map((method) => {
  const tr = section.querySelector(`tr[data-method="${method}"]`);
  const cells = Object.fromEntries([...tr.querySelectorAll("[data-stat]")].map((td) => [td.dataset.stat, td]));
  // "10 / 10", and under it, only when some failed, "3 failed": a line of its own, so the column
  // keeps the width of its numbers.
  const doneCount = element("span", "done-count", "—"), doneFailed = element("span", "done-failed");
  cells.done.replaceChildren(doneCount, doneFailed);
  return [method, { tr, cells, doneCount, doneFailed }];
}));

let race = null;  // the race on screen, or null before the first
let liveTicker = null;

const showResult = (text, kind) => showOutcome(resultLine, text, kind);

// ---------- starting a race

async function onStart(event) {
  event.preventDefault();
  const { count, seconds } = form.elements;
  if (!form.reportValidity()) return;
  const mine = newRace(count.valueAsNumber, seconds.valueAsNumber, serverNow());
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
    answer = await postJSON("/api/race", withOwner({ count: mine.count, seconds: mine.seconds }));
  } catch (error) {
    return giveUp(mine, unreachable(error));
  }
  if (race !== mine) return;  // a newer race replaced this one
  const { status, body } = answer;
  if (status !== 202 && status !== 503) return giveUp(mine, reasonOf(status, body));
  noteRaceAnswer(mine, body);
  if (mine.errors.size) showResult(describeErrors(mine), "error");
  requestPaint();
}

// The page's own synchronous batch: the request returns when every job has run.
async function sendSyncBatch(mine) {
  const sentAt = performance.now();
  let answer;
  try {
    answer = await postJSON("/api/tasks", withOwner({ method: "sync", seconds: mine.seconds, count: mine.count }));
  } catch (error) {
    answer = { status: 0, body: { error: unreachable(error) } };
  }
  if (race !== mine) return;
  const took = (performance.now() - sentAt) / 1000;
  const { status, body } = answer;
  mine.syncAnswered = true;
  if (status === 200) {
    noteSyncAnswer(mine, body, took);
    if (Array.isArray(body.tasks)) showRows(body.tasks);  // in case the stream is slow
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

// Every row the page receives (first load, stream, polling, sync answers).
export function receiveRaceRows(tasks) {
  if (!race || race.over) return;
  if (noteRows(race, tasks)) requestPaint();
}

// ---------- the figures and the headline

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

// "finished: Sync 0.06 s · RabbitMQ 0.41 s · Celery 0.52 s": the headline answer, fastest first.
function finish(mine, tallies, origin) {
  mine.over = true;
  section.dataset.state = "over";
  clearInterval(liveTicker);
  const { finishes, failed } = outcome(mine, tallies, origin);
  const times = finishes.map(([method, seconds]) => RACE.finishTime(method, formatMs(1000 * seconds)));
  const headline = RACE.headline(times, failed);
  if (mine.errors.size) showResult(RACE.errorsAndHeadline(describeErrors(mine), headline), "error");
  else showResult(headline, failed ? "error" : "ok");
  labelChart(RACE.chartLabel(times));
}

// ---------- painting: figures and chart together, at most once per animation frame

function paint() {
  const tallies = race ? tally(race) : null;
  const origin = race ? raceOrigin(race, tallies) : null;
  paintFigures(race, tallies, origin);
  drawChart(race, tallies, origin, serverNow());
  if (race && !race.over && isOver(race, tallies)) finish(race, tallies, origin);
}

const requestPaint = oncePerFrame(paint);

// ---------- start

export function startRace() {
  form.addEventListener("submit", onStart);
  watchChart(requestPaint);
  requestPaint();
}
