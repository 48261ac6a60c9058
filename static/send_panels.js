// The three send panels (Celery, RabbitMQ, Sync): a job's fields and fault options, sending it,
// and what the answer said. The job's rows arrive through the live feed like every other.

import { formatDuration } from "./formats.js";
import { takeAnswer } from "./live_feed.js";
import { withOwner } from "./preferences.js";
import { postJSON, setText, showOutcome } from "./shared.js";
import { SEND, methodLabel, queued, reasonOf, unreachable, withFailed } from "./vocabulary.js";

// What the API assumes for a field that is left out (api/validation.py, Submission). Only fields
// that differ are sent: a plain job stays the plain JSON of the lesson, and the API answers 400 for
// an option that does not apply to the method (the sync panel has none of these inputs).
const FAULT_DEFAULTS = {
  flaky: 0, delay_s: 0, time_limit_s: null, time_limit_kind: "soft", celery_ack: "late", lane: "default", consumer: "threaded",
  keep_result: false, reply: false,
};

// The Celery panel sends "celery" or "celery_redis", by its broker switch: the same task either way.
const methodOf = (form) => (form.dataset.method === "celery" && form.elements.broker?.value === "redis"
  ? "celery_redis" : form.dataset.method);

function readFaultOptions(form) {
  const options = {};
  for (const [name, fallback] of Object.entries(FAULT_DEFAULTS)) {
    const control = form.elements[name];
    if (!control || control.disabled) continue;
    const value = control.type === "number" ? (control.value === "" ? null : control.valueAsNumber)
      : control.type === "checkbox" ? control.checked : control.value;
    if (value !== fallback) options[name] = value;
  }
  return options;
}

// Shown on the <details> summary, so a forgotten "fail first 2" can't surprise anyone when it is closed.
function describeFaultOptions(form) {
  const options = readFaultOptions(form);
  const kind = form.elements.time_limit_kind?.value;  // soft or hard: Celery's panel only
  const parts = [];
  if (options.flaky) parts.push(SEND.flaky(options.flaky));
  if (options.delay_s) parts.push(SEND.delay(formatDuration(options.delay_s)));
  if (options.time_limit_s != null) parts.push(SEND.timeLimit(options.time_limit_s, kind));
  else if (options.time_limit_kind) parts.push(SEND.limitKindOnly(options.time_limit_kind));
  if (options.celery_ack) parts.push(SEND.ack(options.celery_ack));
  if (options.lane) parts.push(SEND.lane);
  if (options.consumer) parts.push(SEND.consumer(options.consumer));
  if (options.keep_result) parts.push(SEND.keepResult);
  if (options.reply) parts.push(SEND.reply);
  return SEND.faults(parts);
}

function describeAnswer(status, body, elapsedSeconds) {
  if (status === 202) return [queued(body.task_nums), "ok"];
  if (status === 200) {
    const failed = (body.tasks ?? []).filter((task) => task.task_status === "ERROR").length;
    return [withFailed(SEND.done(body.task_nums, elapsedSeconds), failed), failed ? "error" : "ok"];
  }
  return [reasonOf(status, body), "error"];
}

// The broker switch: the badge names the method, and ack early and the long lane (RabbitMQ worker
// profiles) are off on Redis.
function showBroker(form) {
  const method = methodOf(form);
  const badge = form.querySelector('[data-role="badge"]');
  form.dataset.broker = method === "celery_redis" ? "redis" : "rabbitmq";
  badge.dataset.method = method;
  setText(badge, methodLabel(method));
  for (const name of ["celery_ack", "lane"]) {
    if (form.elements[name]) form.elements[name].disabled = method === "celery_redis";
  }
}

function wirePanel(form) {
  const button = form.querySelector('button[type="submit"]');
  const resultLine = form.querySelector('[data-role="result"]');
  const showResult = (text, kind) => showOutcome(resultLine, text, kind, { plain: true });
  const faultSummary = form.querySelector('[data-role="fault-summary"]');
  if (faultSummary) {
    const showFaultSummary = () => setText(faultSummary, describeFaultOptions(form));
    form.addEventListener("input", showFaultSummary);
    form.addEventListener("change", showFaultSummary);
    showFaultSummary();  // a reload may keep the inputs' values
  }

  if (form.elements.broker) {
    form.addEventListener("change", (event) => {
      if (event.target.name === "broker") showBroker(form);
    });
    showBroker(form);  // a reload may keep the choice
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const method = methodOf(form);
    const { seconds, count, fail } = form.elements;
    const job = withOwner({
      method, seconds: seconds.valueAsNumber, count: count.valueAsNumber, fail: fail.checked, ...readFaultOptions(form),
    });
    const startedAt = performance.now();
    const elapsed = () => (performance.now() - startedAt) / 1000;
    let ticker = null;
    if (method === "sync") {
      // The lesson: the browser's request is stuck until the job itself is finished.
      button.disabled = true;
      const showBlocking = () => showResult(SEND.blocking(elapsed()), "waiting");
      showBlocking();
      ticker = setInterval(showBlocking, 100);
    } else {
      showResult(SEND.sending, "waiting");
    }
    try {
      const { status, body } = await postJSON("/api/tasks", job);
      clearInterval(ticker);
      showResult(...describeAnswer(status, body, elapsed()));
      takeAnswer(body);
    } catch (error) {
      showResult(unreachable(error), "error");
    } finally {
      clearInterval(ticker);  // (already stopped above when an answer came, so it can't overwrite it)
      button.disabled = false;
    }
  });
}

export function startSendPanels() {
  for (const form of document.querySelectorAll("form[data-method]")) wirePanel(form);
}
