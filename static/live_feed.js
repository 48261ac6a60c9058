// Staying live: the one feed of job rows. SSE first, polling when the stream is refused or keeps
// failing; a seq cursor, so every answer carries on where the last one stopped; the server's clock
// from each answer; and the epoch, so a reset by the instructor starts the page over.
// Whoever follows the rows registers with onRows; nobody opens a second stream.

import { noteServerClock } from "./server_clock.js";
import { getJSON, sleep } from "./shared.js";
import { CONNECTION_LABELS } from "./vocabulary.js";

const INITIAL_LIMIT = 500;     // rows fetched on page load
const FIRST_LOAD_RETRY_MS = 2000;
const POLL_MS = 1000;
const SSE_RECONNECT_MS = 2000; // after the stream drops
const SSE_MAX_FAILURES = 3;    // stream errors in a row before we fall back to polling
const SSE_RETRY_MS = 15000;    // while polling, try the live stream again this often

const indicator = document.getElementById("connection");

const feed = {
  latestSeq: 0,      // highest seq seen: where the stream or the poll continues from
  epoch: null,       // the server's reset counter as first seen (absent in an answer = no news)
  generation: 0,     // bumped when the page starts over: older first loads are dropped
};
const connection = { source: null, failures: 0, polling: false, pollRound: 0, retryTimer: null };
const rowListeners = [];        // all who follow the rows (table, summary, race): no second stream
const startOverListeners = [];  // all who start over after a reset

export function onRows(listener) {
  rowListeners.push(listener);
}

export function onStartOver(listener) {
  startOverListeners.push(listener);
}

// Every row, to all who follow them (even a row the table has cleared: the race may want it).
// `history`: the page's first load (or the load after a reset): where things stand, not news.
export function showRows(tasks, { history = false } = {}) {
  for (const listener of rowListeners) listener(tasks, { history });
}

// Feeds that continue from latestSeq (first load, SSE, polling) come through here. A send's answer
// goes through takeAnswer instead: its seq must not move the cursor past changes we have not seen yet.
function receive(body, { history = false } = {}) {
  if (isNewEpoch(body.epoch)) return startOver(body.epoch);
  if (Number.isFinite(body.seq)) feed.latestSeq = Math.max(feed.latestSeq, body.seq);
  noteServerClock(body.now);
  showRows(body.tasks ?? [], { history });
}

// The answer to a job this page sent: after a reset meanwhile, start over (the fresh load has its
// rows); otherwise its rows go in at once (the sync ones, in case the stream is slow).
export function takeAnswer(body) {
  if (isNewEpoch(body.epoch)) startOver(body.epoch);
  else if (Array.isArray(body.tasks)) showRows(body.tasks);
}

// ---------- a reset by the instructor (POST /api/reset): the jobs on screen no longer exist

function isNewEpoch(value) {
  if (!Number.isInteger(value)) return false;
  if (feed.epoch === null) feed.epoch = value;  // the first one seen is the baseline
  return value !== feed.epoch;
}

async function startOver(newEpoch) {
  feed.epoch = newEpoch;
  const mine = ++feed.generation;
  stopFollowing();  // the stream and the poll were following the old table
  feed.latestSeq = 0;
  for (const listener of startOverListeners) listener();  // e.g. the table empties itself
  await loadFirstRows(mine);
  if (mine === feed.generation) openStream();
}

// ---------- SSE first, polling when the stream is refused or keeps failing

function showConnection(state) {
  if (indicator.dataset.state === state) return;
  indicator.dataset.state = state;
  indicator.textContent = CONNECTION_LABELS[state];
}

function openStream() {
  clearTimeout(connection.retryTimer);
  connection.retryTimer = null;
  if (!("EventSource" in window)) return fallBackToPolling();
  const source = new EventSource(`/api/events?since=${feed.latestSeq}`);
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
      const body = await getJSON(`/api/tasks?since=${feed.latestSeq}`);  // only what changed
      if (round !== connection.pollRound) return;  // replaced meanwhile, e.g. by a reset
      if (connection.polling) showConnection("polling");
      receive(body);
    } catch {
      if (connection.polling) showConnection("offline");
    }
    await sleep(POLL_MS);
  }
}

// ---------- start

// `mine`: the generation this load is for; a newer reset makes its answer worthless.
async function loadFirstRows(mine) {
  for (;;) {
    try {
      const body = await getJSON(`/api/tasks?limit=${INITIAL_LIMIT}`);
      return mine === feed.generation ? receive(body, { history: true }) : undefined;
    } catch {
      if (mine !== feed.generation) return;
      showConnection("offline");  // e.g. the server is still starting: keep trying
      await sleep(FIRST_LOAD_RETRY_MS);
    }
  }
}

export async function startLiveFeed() {
  await loadFirstRows(feed.generation);
  openStream();
}
