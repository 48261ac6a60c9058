// The page's words in one place: the three methods and their labels, the statuses that end a job,
// and every text the scripts write (the fixed texts of the page are in templates/index.html).
// A text that carries values is a function. Text from the server is only ever passed through
// these, never parsed: it still goes into the DOM as text.

export const METHODS = ["celery", "rabbitmq", "sync"];
export const QUEUED_METHODS = ["celery", "rabbitmq"];  // the two that go through the broker
const METHOD_LABELS = { celery: "Celery", rabbitmq: "RabbitMQ", sync: "Sync" };
export const methodLabel = (method) => (Object.hasOwn(METHOD_LABELS, method) ? METHOD_LABELS[method] : String(method));
const listOfMethods = (methods, separator) => methods.map(methodLabel).join(separator);

// Nothing more happens to these rows by itself, so their clocks stop and "Clear finished" hides them.
// LOST is final only until a redelivery revives the row: the feed then brings it back.
export const FINISHED = new Set(["DONE", "ERROR", "LOST"]);
export const statusLabel = (status) => String(status).replace("_", " ");  // IN_PROGRESS → IN PROGRESS

// "#12–#16" for a run, "#12" for one, and a short form when other tabs interleaved numbers.
function describeTaskNums(nums) {
  if (!nums || nums.length === 0) return "nothing";
  const sorted = [...nums].sort((a, b) => a - b);
  const first = sorted[0], last = sorted[sorted.length - 1];
  if (sorted.length === 1) return `#${first}`;
  if (last - first === sorted.length - 1) return `#${first}–#${last}`;
  return `${sorted.length} jobs, #${first} … #${last}`;
}

// ---------- what an action's result line says (the send panels, the fault lab, the race, a row's kill)

export const unreachable = (error) => `could not reach the server (${error.message})`;
const httpStatus = (status) => `the server answered HTTP ${status}`;
export const reasonOf = (status, body) => body.error ?? httpStatus(status);  // the API's own words first
export const queued = (nums) => `queued ${describeTaskNums(nums)}`;
export const withFailed = (text, failed) => (failed ? `${text} (${failed} failed)` : text);
const couldNotLoad = (what, error) => `could not load ${what} (${error.message})`;

// ---------- the connection indicator in the page header

export const CONNECTION_LABELS = { connecting: "connecting…", live: "live (SSE)", polling: "polling", offline: "offline" };

// ---------- the jobs table

export const TABLE = {
  rowCount: (count) => (count === 1 ? "1 row" : `${count} rows`),
  attempt: (attempt) => (attempt > 1 ? `attempt ${attempt}` : ""),
  // Rows with a due time: what the countdown says before it, and once it has passed with no start yet.
  countdowns: {
    SCHEDULED: { before: (left) => `starts in ${left}`, due: "starting…" },
    RETRYING: { before: (left) => `retry in ${left}`, due: "retrying…" },
  },
  overdue: (late) => `due ${late} ago`,
  killButton: "kill worker",
  killTitle: "SIGKILL the worker process running this job, as if it crashed",
  killing: "killing…",
  resetNote: (time) => `The lab was reset at ${time}: no jobs yet.`,
};

// ---------- the three send panels

export const SEND = {
  sending: "sending…",
  blocking: (seconds) => `request blocking… ${seconds.toFixed(1)} s`,
  done: (nums, seconds) => `done ${describeTaskNums(nums)} in ${seconds.toFixed(1)} s`,
  // The fault options in force, on the closed <details> summary: "· fail first 2, ack early".
  faults: (parts) => (parts.length ? `· ${parts.join(", ")}` : ""),
  flaky: (count) => `fail first ${count}`,
  delay: (delay) => `start in ${delay}`,
  timeLimit: (seconds, kind) => `limit ${seconds} s${kind ? ` ${kind}` : ""}`,
  limitKindOnly: (kind) => `${kind} limit (no time set)`,
  ack: (ack) => `ack ${ack}`,
  consumer: (consumer) => `${consumer} consumer`,
};

// ---------- the workers and queues panels

export const WORKERS = {
  kinds: { celery: METHOD_LABELS.celery, consumer: "consumer" },
  details: (w) => `${w.worker_id}: host ${w.hostname ?? "?"}, pid ${w.pid ?? "?"}, queue ${w.queue ?? "?"}`,
  idle: "idle",
  wasOn: (job) => `was on ${job}`,
  ago: (age) => `${age} ago`,
  never: "never",
  offline: (ago) => `offline — last seen ${ago}`,
  explain: ({ every, offline, forget, lost }) => `Each worker announces itself ${every}; after ${offline} of silence `
    + `it is shown offline, after ${forget} it is dropped. The bar is its share of the DONE jobs of its kind. `
    + `A running job is called LOST only when neither the job nor its worker has been heard from for ${lost}: `
    + "a worker that is alive keeps its reports while the API is away and delivers them, in order, when it is back.",
  reportsWaiting: (count) => `⧗ ${count} report${count === 1 ? "" : "s"} waiting for the API`,
  reportsDeliveredLate: (count, peak) => `✓ ${count} report${count === 1 ? "" : "s"} delivered late`
    + (peak > 0 ? ` (up to ${peak} waited at once)` : ""),
  reportsTitle: "Status reports this worker made while the API did not answer: it keeps them and sends them again, "
    + "in order, until the API answers. Nothing is dropped.",
  every: (interval) => `every ${interval}`,
  everyUnknown: "every few seconds",
  offlineUnknown: "a while",
  forgetUnknown: "longer",
  loadFailed: (error) => couldNotLoad("the workers", error),
};

export const QUEUES = {
  sampled: (age) => `sampled ${age} ago`,
  notSampled: "not sampled yet",
  refreshes: (interval) => ` · RabbitMQ refreshes queue stats every ${interval}`,
  loadFailed: (error) => couldNotLoad("the queue stats from the API", error),
};

// ---------- the fault lab

export const LAB = {
  loadFailed: (error) => `${couldNotLoad("the experiments", error)}; trying again…`,
  steps: { try: "Try", watch: "Watch" },
  because: "Because…",
  lineCount: (label) => `${label}: `,
  lines: (count) => `${Number.isFinite(count) ? count : "?"} lines`,
  lineLabels: { celery: METHOD_LABELS.celery, rabbitmq: "RabbitMQ by hand" },
  lineSeparator: " · ",
  lineCountsTitle: "non-blank, non-comment lines between the # [retries: begin/end] markers in the source",
  killLabel: "Kill the worker of job #",
  killButton: "Kill",
  killingWorkerOf: (num) => `killing the worker of #${num}…`,
  killed: (answer) => `killed ${answer.kind} ${answer.worker_id} (pid ${answer.killed_pid})`,
  closed: (count) => `closed ${count} broker connection${count === 1 ? "" : "s"}: watch the workers reconnect`,
  running: (label) => `${label}…`,
  // A preset's outcome, per kind of job: "RabbitMQ: queued #4 · Celery late ack: queued #5".
  outcome: (label, parts) => `${label}: ${parts.join("; ")}`,
  outcomes: (lines) => lines.join(" · "),
  shortStatus: (status) => `HTTP ${status}`,
  presets: {
    "send-20s": "Send 20 s jobs",
    "send-early-ack": "Send a 20 s early-ack Celery job",
    "flaky-2": "flaky 2 both ways",
    "flaky-3": "flaky 3 (give up) both ways",
    "delay-10": "start in 10 s both ways",
    "limit-3": "10 s job, 3 s limit",
    fairness: "send the fairness batch",
    "heartbeat-20": "20 s job to the naive consumer and to the threaded one",
    "close-connections": "close all broker connections",
    "send-5s": "send 5 s jobs both ways",
  },
  // Names for jobs in a preset's outcome where the method alone would not tell them apart.
  jobNames: {
    celeryLateAck: "Celery late ack",
    celeryEarlyAck: "Celery early ack",
    celerySoft: "Celery soft",
    celeryHard: "Celery hard",
    naiveConsumer: "naive consumer",
    threadedConsumer: "threaded consumer",
  },
};

// ---------- the class-wide controls (kill a worker, close connections, reset): CLASS_CONTROLS

export const CLASS = {
  studentReason: "Kill worker, close connections and reset are the instructor's in this class: "
    + "enter the instructor token to use them.",
  noTokenSet: "Kill worker, close connections and reset are the instructor's in this class, "
    + "and no INSTRUCTOR_TOKEN is set on the server.",
  wrongToken: "that is not the instructor token",
  unlocked: "instructor controls unlocked in this tab",
  resetButton: "Reset the class…",
  resetConfirm: "Really reset? Click again",
  resetDone: (count) => `class reset: ${count} job${count === 1 ? "" : "s"} deleted, queues purged`,
};

// ---------- the race

export const RACE = {
  racing: (count, seconds, methods) => `racing ${count} job${count === 1 ? "" : "s"} of ${seconds} s `
    + `by ${listOfMethods(methods, ", ")}…`,
  // A broker outage fails both queued methods with the same message: said once, for both.
  error: (message, methods) => (methods.length ? `${listOfMethods(methods, " and ")}: ${message}` : message),
  errors: (lines) => lines.join("\n"),
  syncOnlyUpTo: (max) => `N ≤ ${max} only`,
  done: (done, count) => `${done} / ${count}`,
  failed: (failed) => (failed ? `${failed} failed` : ""),
  // "finished — last job DONE after: Sync 0.06 s · RabbitMQ 0.41 s · Celery 0.52 s"
  finishTime: (method, time) => `${methodLabel(method)} ${time}`,
  headline: (times, failed) => withFailed(`finished — last job DONE after: ${times.join(" · ") || "none DONE"}`, failed),
  errorsAndHeadline: (errors, headline) => `${errors}\n${headline}`,
  chartLabel: (times) => `Jobs completed over time. Last job DONE after: ${times.join(", ")}`,
};

export const CHART = {
  waiting: "waiting for the race to start…",
  pressStart: "Press Start",
  hint: "a line per method, one step up per job DONE",
  xAxis: "seconds since the race started",
  yAxis: "jobs DONE",
};
