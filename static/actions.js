// The buttons that act on the server (kill a worker, close the broker's connections, send a preset),
// and the one way they all run: disabled while working, "waiting", then the outcome.

import { classControlLocked, postAsClass } from "./class_controls.js";
import { LAB, TABLE, reasonOf, unreachable } from "./vocabulary.js";

// `show(text, kind)` writes to the button's result line; `action()` resolves to [text, kind].
export async function runAction(button, show, waitingText, action) {
  button.disabled = true;
  show(waitingText, "waiting");
  try {
    show(...(await action()));
  } catch (error) {
    show(unreachable(error), "error");
  } finally {
    button.disabled = classControlLocked(button);  // a student's class-wide button stays disabled
  }
}

// For a row's "kill worker" button and the fault lab's kill form: "killed consumer vm-123 (pid 123)",
// or the API's reason (409: not running, not announced, or on another host — then it names the `docker kill`).
// `whole`: a Celery worker's main process too, as `docker kill` would (the Redis lesson).
export async function killWorkerOf(taskNum, whole = false) {
  const { status, body } = await postAsClass("/api/experiments/kill-worker", { task_num: taskNum, whole });
  return status === 200 ? [LAB.killed(body), "ok"] : [reasonOf(status, body), "error"];
}

// A DONE row's "AsyncResult" (Celery's backend) and "reply" (RPC by hand) buttons: what the API
// found, worded by `describe`; "ok" once there is a value.
async function askAbout(url, describe, found) {
  const response = await fetch(url, { headers: { Accept: "application/json" } });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) return [reasonOf(response.status, body), "error"];
  return [describe(body), found(body) ? "ok" : "waiting"];
}

export const askCelery = (taskNum) => askAbout(`/api/tasks/${taskNum}/celery-result`, TABLE.celeryAnswer,
  (body) => body.state === "SUCCESS");
export const askReply = (taskNum) => askAbout(`/api/tasks/${taskNum}/reply`, TABLE.replyAnswer, (body) => Boolean(body.reply));
// Where the results nobody read wait (the results lesson): this API process's rpc:// queue, Redis's keys.
export const countUnreadResults = () => askAbout("/api/results/unread", LAB.unreadResults, () => true);

// The routes lesson: the long lane's workers stop consuming its queue (consume false), or start again.
export async function consumeLongLane(consume) {
  const { status, body } = await postAsClass("/api/experiments/long-lane", { consume });
  if (status !== 200) return [reasonOf(status, body), "error"];
  return [consume ? LAB.laneResumed(body) : LAB.lanePaused(body), "ok"];
}

// The rate-limits lesson: `options` is the POST /api/experiments/rate-limit body, sent once for each of
// its `methods` ("celery", "rabbitmq"); the outcome says on whom it now holds, path by path.
export async function setRateLimit({ methods = [], ...limit }) {
  const lines = [];
  let failed = false;
  for (const method of methods) {
    const { status, body } = await postAsClass("/api/experiments/rate-limit", { method, ...limit });
    failed ||= status !== 200;
    lines.push(status !== 200 ? reasonOf(status, body) : method === "celery" ? LAB.celeryLimited(body) : LAB.rawLimited(body));
  }
  return [LAB.outcomes(lines), failed ? "error" : "ok"];
}

// The concurrency lesson: processes per Celery worker and the prefetch multiplier, set on the workers
// running now (POST /api/experiments/concurrency, options as the preset gives them).
export async function tuneCelery(options) {
  const { status, body } = await postAsClass("/api/experiments/concurrency", options);
  if (status !== 200) return [reasonOf(status, body), "error"];
  return [LAB.outcomes(Object.entries(body.workers ?? {}).map(([node, told]) => LAB.tuned(node, told))), "ok"];
}

export const measureRate = () => askAbout("/api/experiments/rate-limit", LAB.measuredRate, () => true);

export async function closeBrokerConnections() {
  const { status, body } = await postAsClass("/api/experiments/close-connections", {});
  if (status !== 200) return [reasonOf(status, body), "error"];
  return [LAB.closed(Number(body.closed) || 0), "ok"];
}
