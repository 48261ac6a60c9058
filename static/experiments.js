// The Fault lab: one card per experiment from GET /api/experiments (what to try, what to watch, and
// which setting explains it), with buttons that send the experiment's jobs through the same
// POST /api/tasks as the panels. Every text from the API goes in as text, never as HTML.

import { closeBrokerConnections, killWorkerOf, runAction } from "./actions.js";
import { markClassControl } from "./class_controls.js";
import { withOwner } from "./preferences.js";
import { element, getJSON, postJSON, setText, setTextWithCode, showOutcome, sleep } from "./shared.js";
import { LAB, methodLabel, queued } from "./vocabulary.js";

const RETRY_LOAD_MS = 3000;  // the list is static; if the API is not up yet, ask again

// Jobs each preset sends, in order (one request each, so queue order is send order). `as` names the
// job in the card's result line when the method alone would not tell the jobs apart. A preset's
// button says LAB.presets[id]. A preset with an `action` acts for the whole class (class_controls.js);
// one with `run` does something of this student's own, beyond sending jobs.
const rabbitmq = (seconds, options = {}) => ({ method: "rabbitmq", seconds, ...options });
const celery = (seconds, options = {}) => ({ method: "celery", seconds, ...options });
const celeryRedis = (seconds, options = {}) => ({ method: "celery_redis", seconds, ...options });
const eachCelery = (seconds, options = {}) => [celery(seconds, options), celeryRedis(seconds, options)];
const bothWays = (seconds, options = {}) => [celery(seconds, options), rabbitmq(seconds, options)];
const fairnessBatch = (send) => [6, 0.5, 6, 0.5, 6, 0.5, 6, 0.5].map((seconds) => send(seconds));
const named = LAB.jobNames;

const PRESETS = {
  kill: [
    { id: "send-20s", jobs: [
      rabbitmq(20), celery(20, { as: named.celeryLateAck }),
      celery(20, { celery_ack: "early", as: named.celeryEarlyAck })] },
  ],
  lost: [
    { id: "send-early-ack", jobs: [celery(20, { celery_ack: "early", as: named.celeryEarlyAck })] },
  ],
  retries: [
    { id: "flaky-2", jobs: bothWays(2, { flaky: 2 }) },
    { id: "flaky-3", jobs: bothWays(2, { flaky: 3 }) },
  ],
  delayed: [
    { id: "delay-10", jobs: bothWays(3, { delay_s: 10 }) },
  ],
  "time-limits": [
    { id: "limit-3", jobs: [
      celery(10, { time_limit_s: 3, time_limit_kind: "soft", as: named.celerySoft }),
      celery(10, { time_limit_s: 3, time_limit_kind: "hard", as: named.celeryHard }),
      rabbitmq(10, { time_limit_s: 3 })] },
  ],
  prefetch: [
    { id: "fairness", jobs: [...fairnessBatch((s) => rabbitmq(s)), ...fairnessBatch((s) => celery(s))] },
  ],
  heartbeat: [
    { id: "heartbeat-20", jobs: [
      rabbitmq(20, { consumer: "naive", as: named.naiveConsumer }), rabbitmq(20, { as: named.threadedConsumer })] },
  ],
  outage: [
    { id: "close-connections", action: closeBrokerConnections },
    { id: "send-5s", jobs: bothWays(5) },
  ],
  "redis-kill": [
    { id: "send-20s-both-brokers", jobs: eachCelery(20) },
  ],
  "redis-countdown": [
    { id: "countdown-45-both-brokers", jobs: eachCelery(1, { delay_s: 45 }) },
  ],
  "redis-outage": [
    { id: "one-job-each-celery", jobs: eachCelery(1) },
  ],
  "slow-consumer": [
    { id: "slow-stream", toggle: streamSlowJobs },
  ],
  stranger: [
    { id: "publish-stranger", run: publishStranger },
    { id: "register-own", run: registerOwnJob },
  ],
  quorum: [
    { id: "poison", jobs: [rabbitmq(1, { queue_type: "quorum", poison: true, as: named.quorumPoison })] },
    { id: "quorum-plain", jobs: [rabbitmq(1, { queue_type: "quorum", as: named.quorumPlain })] },
    { id: "flaky-3-classic", jobs: [rabbitmq(1, { flaky: 3, as: named.classicFlaky })] },
  ],
};

// ---------- a stranger's message, and a job for the student's own producer

async function publishStranger() {
  const { status, body } = await postJSON("/api/experiments/publish-stranger", {});
  return status === 200 ? [LAB.strangerPublished(body.queue, body.parked_in), "ok"]
    : [body.error ?? LAB.shortStatus(status), "error"];
}

async function registerOwnJob() {
  const { status, body } = await postJSON("/api/tasks", withOwner({ method: "rabbitmq", seconds: 3, count: 1, publish: false }));
  if (status !== 201) return [body.error ?? LAB.shortStatus(status), "error"];
  const [message] = body.messages;
  return [LAB.registered(message.task_num, message.code), "ok"];
}

// ---------- the slow stream: a steady flow of jobs one consumer cannot keep up with

const STREAM = { every_ms: 1000, seconds: 2, total: 60 };  // 2 s of work arriving every second
let stream = null;  // { stop } while running

// A toggle, not an action: it runs for a minute, and the same button stops it.
async function streamSlowJobs(button, show) {
  if (stream) {
    stream.stop = true;
    return;
  }
  const mine = { stop: false };
  stream = mine;
  setText(button, LAB.stopStream);
  let sent = 0;
  try {
    while (!mine.stop && sent < STREAM.total) {
      const { status } = await postJSON("/api/tasks", withOwner({ method: "rabbitmq", seconds: STREAM.seconds, count: 1 }));
      if (status === 202) sent += 1;
      show(LAB.streaming(sent, STREAM.total), "waiting");
      await sleep(STREAM.every_ms);
    }
    show(LAB.streamed(sent), "ok");
  } catch (error) {
    show(LAB.streamed(sent), "error");
  } finally {
    stream = null;
    setText(button, LAB.presets["slow-stream"]);
  }
}

const panel = document.getElementById("experiments");
const cardList = panel.querySelector('[data-role="cards"]');
const loadError = panel.querySelector('[data-role="error"]');

// Sends a preset's jobs one request at a time and sums up what happened, per kind of job:
// "RabbitMQ: queued #4 · Celery late ack: queued #5 · Celery early ack: queued #6".
async function sendJobs(jobs) {
  const outcomes = new Map();  // label -> { nums: [], errors: [] }, in the order of first sending
  for (const { as, ...job } of jobs) {
    const label = as ?? methodLabel(job.method);
    if (!outcomes.has(label)) outcomes.set(label, { nums: [], errors: [] });
    const outcome = outcomes.get(label);
    const { status, body } = await postJSON("/api/tasks", withOwner({ count: 1, ...job }));
    if (status === 202) outcome.nums.push(...(body.task_nums ?? []));
    else if (!outcome.errors.includes(body.error)) outcome.errors.push(body.error ?? LAB.shortStatus(status));
  }
  let failed = false;
  const lines = [...outcomes].map(([label, { nums, errors }]) => {
    failed ||= errors.length > 0;
    return LAB.outcome(label, [...(nums.length ? [queued(nums)] : []), ...errors]);
  });
  return [LAB.outcomes(lines), failed ? "error" : "ok"];
}

// ---------- the cards

function buildCard(experiment) {
  const card = element("article", "experiment");
  card.dataset.experiment = String(experiment.id);
  card.append(element("h3", "", String(experiment.title ?? experiment.id)));
  if (experiment.lines) card.append(buildLineCounts(experiment.lines));

  const steps = element("dl", "steps");
  for (const [key, heading] of Object.entries(LAB.steps)) {
    if (experiment[key] == null) continue;
    const text = element("dd", "");
    setTextWithCode(text, experiment[key]);
    text.dataset.role = key;
    steps.append(element("dt", "", heading), text);
  }
  card.append(steps);
  // The explanation folds out: it is the longest text, and best read after watching it happen.
  if (experiment.because != null) {
    const because = element("details", "because", element("summary", "", LAB.because));
    const text = element("p", "");
    setTextWithCode(text, experiment.because);
    because.append(text);
    because.dataset.role = "because";
    card.append(because);
  }

  const resultLine = element("p", "result");
  resultLine.dataset.role = "result";
  resultLine.setAttribute("aria-live", "polite");
  const show = (text, kind) => showOutcome(resultLine, text, kind);
  const presets = PRESETS[experiment.id] ?? [];  // an experiment added on the server still gets its card
  if (presets.length > 0) {
    const buttons = element("div", "presets");
    for (const preset of presets) {
      const label = LAB.presets[preset.id];
      const button = element("button", "", label);
      button.type = "button";
      button.dataset.preset = preset.id;
      button.addEventListener("click", () => (preset.toggle ? preset.toggle(button, show)
        : runAction(button, show, LAB.running(label), () => (preset.action ?? preset.run)?.() ?? sendJobs(preset.jobs))));
      if (preset.action) markClassControl(button);
      buttons.append(button);
    }
    card.append(buttons);
  }
  // The kill form; in the Redis card it kills the whole worker unless told otherwise.
  if (experiment.id === "kill" || experiment.id === "redis-kill") card.append(buildKillForm(show, experiment.id === "redis-kill"));
  card.append(resultLine);
  return card;
}

// The retries lesson in two numbers, counted from the marked source at run time by the API.
function buildLineCounts(lines) {
  const count = (method) => element("span", "line-count", LAB.lineCount(LAB.lineLabels[method]),
    element("strong", "", LAB.lines(lines[method])));
  const block = element("p", "line-counts", count("celery"), element("span", "dot", LAB.lineSeparator), count("rabbitmq"));
  block.dataset.role = "line-counts";
  block.title = LAB.lineCountsTitle;
  return block;
}

// "Kill the worker of job #[ ] [Kill]  [ ] the whole worker": a form, so Enter works too.
function buildKillForm(show, whole) {
  const input = element("input");
  Object.assign(input, { type: "number", name: "task_num", min: 1, step: 1, required: true, placeholder: "12" });
  const button = element("button", "danger", LAB.killButton);
  button.type = "submit";
  markClassControl(button);
  const wholeBox = element("input");
  Object.assign(wholeBox, { type: "checkbox", name: "whole", checked: whole });
  const wholeLabel = element("label", "whole", wholeBox, LAB.killWhole);
  wholeLabel.title = LAB.killWholeTitle;
  const form = element("form", "kill-form", element("label", "", LAB.killLabel, input), button, wholeLabel);
  form.dataset.role = "kill-form";
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const num = input.valueAsNumber;
    runAction(button, show, LAB.killingWorkerOf(num), () => killWorkerOf(num, wholeBox.checked));
  });
  return form;
}

// ---------- start

export async function startExperiments() {
  for (;;) {
    try {
      const { experiments } = await getJSON("/api/experiments");
      loadError.hidden = true;
      cardList.replaceChildren(...(experiments ?? []).map(buildCard));
      return;
    } catch (error) {
      loadError.hidden = false;
      setText(loadError, LAB.loadFailed(error));
      await sleep(RETRY_LOAD_MS);
    }
  }
}
