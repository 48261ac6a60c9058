// The Fault lab: one card per experiment from GET /api/experiments (what to try, what to watch, and
// which setting explains it), with buttons that send the experiment's jobs through the same
// POST /api/tasks as the panels. Every text from the API goes in as text, never as HTML.

import { describeTaskNums, element, getJSON, postJSON, setText, setTextWithCode, sleep } from "./shared.js";

const RETRY_LOAD_MS = 3000;  // the list is static; if the API is not up yet, ask again

// Jobs each preset sends, in order (one request each, so queue order is send order). `as` names the
// job in the card's result line when the method alone would not tell the jobs apart.
const rabbitmq = (seconds, options = {}) => ({ method: "rabbitmq", seconds, ...options });
const celery = (seconds, options = {}) => ({ method: "celery", seconds, ...options });
const bothWays = (seconds, options = {}) => [celery(seconds, options), rabbitmq(seconds, options)];
const fairnessBatch = (send) => [6, 0.5, 6, 0.5, 6, 0.5, 6, 0.5].map((seconds) => send(seconds));

const PRESETS = {
  kill: [
    { id: "send-20s", label: "Send 20 s jobs", jobs: [
      rabbitmq(20), celery(20, { as: "Celery late ack" }),
      celery(20, { celery_ack: "early", as: "Celery early ack" })] },
  ],
  lost: [
    { id: "send-early-ack", label: "Send a 20 s early-ack Celery job",
      jobs: [celery(20, { celery_ack: "early", as: "Celery early ack" })] },
  ],
  retries: [
    { id: "flaky-2", label: "flaky 2 both ways", jobs: bothWays(2, { flaky: 2 }) },
    { id: "flaky-3", label: "flaky 3 (give up) both ways", jobs: bothWays(2, { flaky: 3 }) },
  ],
  delayed: [
    { id: "delay-10", label: "start in 10 s both ways", jobs: bothWays(3, { delay_s: 10 }) },
  ],
  "time-limits": [
    { id: "limit-3", label: "10 s job, 3 s limit", jobs: [
      celery(10, { time_limit_s: 3, time_limit_kind: "soft", as: "Celery soft" }),
      celery(10, { time_limit_s: 3, time_limit_kind: "hard", as: "Celery hard" }),
      rabbitmq(10, { time_limit_s: 3 })] },
  ],
  prefetch: [
    { id: "fairness", label: "send the fairness batch",
      jobs: [...fairnessBatch((s) => rabbitmq(s)), ...fairnessBatch((s) => celery(s))] },
  ],
  heartbeat: [
    { id: "heartbeat-20", label: "20 s job to the naive consumer and to the threaded one", jobs: [
      rabbitmq(20, { consumer: "naive", as: "naive consumer" }), rabbitmq(20, { as: "threaded consumer" })] },
  ],
  outage: [
    { id: "close-connections", label: "close all broker connections", action: closeBrokerConnections },
    { id: "send-5s", label: "send 5 s jobs both ways", jobs: bothWays(5) },
  ],
};
const METHOD_LABELS = { celery: "Celery", rabbitmq: "RabbitMQ" };

const panel = document.getElementById("experiments");
const cardList = panel.querySelector('[data-role="cards"]');
const loadError = panel.querySelector('[data-role="error"]');

// ---------- actions (the per-row kill button in the jobs table uses killWorkerOf too)

// → [text, kind] for a result line: "killed consumer vm-123 (pid 123)", or the API's reason
// (409: not running, not announced, or on another host — then it names the `docker kill`).
export async function killWorkerOf(taskNum) {
  try {
    const { status, body } = await postJSON("/api/experiments/kill-worker", { task_num: taskNum });
    if (status === 200) return [`killed ${body.kind} ${body.worker_id} (pid ${body.killed_pid})`, "ok"];
    return [body.error ?? `the server answered HTTP ${status}`, "error"];
  } catch (error) {
    return [`could not reach the server (${error.message})`, "error"];
  }
}

async function closeBrokerConnections() {
  const { status, body } = await postJSON("/api/experiments/close-connections", {});
  if (status !== 200) return [body.error ?? `the server answered HTTP ${status}`, "error"];
  const closed = Number(body.closed) || 0;
  return [`closed ${closed} broker connection${closed === 1 ? "" : "s"}: watch the workers reconnect`, "ok"];
}

// Sends a preset's jobs one request at a time and sums up what happened, per kind of job:
// "RabbitMQ: queued #4 · Celery late ack: queued #5 · Celery early ack: queued #6".
async function sendJobs(jobs) {
  const outcomes = new Map();  // label -> { nums: [], errors: [] }, in the order of first sending
  for (const { as, ...job } of jobs) {
    const label = as ?? METHOD_LABELS[job.method] ?? job.method;
    if (!outcomes.has(label)) outcomes.set(label, { nums: [], errors: [] });
    const outcome = outcomes.get(label);
    const { status, body } = await postJSON("/api/tasks", { count: 1, ...job });
    if (status === 202) outcome.nums.push(...(body.task_nums ?? []));
    else if (!outcome.errors.includes(body.error)) outcome.errors.push(body.error ?? `HTTP ${status}`);
  }
  let failed = false;
  const parts = [...outcomes].map(([label, { nums, errors }]) => {
    failed ||= errors.length > 0;
    const queued = nums.length ? [`queued ${describeTaskNums(nums)}`] : [];
    return `${label}: ${[...queued, ...errors].join("; ")}`;
  });
  return [parts.join(" · "), failed ? "error" : "ok"];
}

async function runPreset(preset, button, resultLine) {
  button.disabled = true;
  showResult(resultLine, `${preset.label}…`, "waiting");
  try {
    showResult(resultLine, ...(preset.action ? await preset.action() : await sendJobs(preset.jobs)));
  } catch (error) {
    showResult(resultLine, `could not reach the server (${error.message})`, "error");
  } finally {
    button.disabled = false;
  }
}

function showResult(resultLine, text, kind) {
  setTextWithCode(resultLine, text);  // the API's reasons name commands in `backticks`
  resultLine.dataset.kind = kind;  // ok | waiting | error
}

// ---------- the cards

function buildCard(experiment) {
  const card = element("article", "experiment");
  card.dataset.experiment = String(experiment.id);
  card.append(element("h3", "", String(experiment.title ?? experiment.id)));
  if (experiment.lines) card.append(buildLineCounts(experiment.lines));

  const steps = element("dl", "steps");
  for (const [key, heading] of [["try", "Try"], ["watch", "Watch"]]) {
    if (experiment[key] == null) continue;
    const text = element("dd", "");
    setTextWithCode(text, experiment[key]);
    text.dataset.role = key;
    steps.append(element("dt", "", heading), text);
  }
  card.append(steps);
  // The explanation folds out: it is the longest text, and best read after watching it happen.
  if (experiment.because != null) {
    const because = element("details", "because", element("summary", "", "Because…"));
    const text = element("p", "");
    setTextWithCode(text, experiment.because);
    because.append(text);
    because.dataset.role = "because";
    card.append(because);
  }

  const resultLine = element("p", "result");
  resultLine.dataset.role = "result";
  resultLine.setAttribute("aria-live", "polite");
  const presets = PRESETS[experiment.id] ?? [];  // an experiment added on the server still gets its card
  if (presets.length > 0) {
    const buttons = element("div", "presets");
    for (const preset of presets) {
      const button = element("button", "", preset.label);
      button.type = "button";
      button.dataset.preset = preset.id;
      button.addEventListener("click", () => runPreset(preset, button, resultLine));
      buttons.append(button);
    }
    card.append(buttons);
  }
  if (experiment.id === "kill") card.append(buildKillForm(resultLine));
  card.append(resultLine);
  return card;
}

// The retries lesson in two numbers, counted from the marked source at run time by the API.
function buildLineCounts(lines) {
  const count = (label, value) => element("span", "line-count", `${label}: `,
    element("strong", "", `${Number.isFinite(value) ? value : "?"} lines`));
  const block = element("p", "line-counts",
    count("Celery", lines.celery), element("span", "dot", " · "), count("RabbitMQ by hand", lines.rabbitmq));
  block.dataset.role = "line-counts";
  block.title = "non-blank, non-comment lines between the # [retries: begin/end] markers in the source";
  return block;
}

// "Kill the worker of job #[ ] [Kill]": a form, so Enter works too.
function buildKillForm(resultLine) {
  const input = element("input");
  Object.assign(input, { type: "number", name: "task_num", min: 1, step: 1, required: true, placeholder: "12" });
  const button = element("button", "danger", "Kill");
  button.type = "submit";
  const form = element("form", "kill-form", element("label", "", "Kill the worker of job #", input), button);
  form.dataset.role = "kill-form";
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    button.disabled = true;
    showResult(resultLine, `killing the worker of #${input.valueAsNumber}…`, "waiting");
    showResult(resultLine, ...(await killWorkerOf(input.valueAsNumber)));
    button.disabled = false;
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
      setText(loadError, `could not load the experiments (${error.message}); trying again…`);
      await sleep(RETRY_LOAD_MS);
    }
  }
}
