// The page's words in one place: the three methods and their labels, the statuses and what they are
// called on screen, and every text the scripts write (the template's own texts are in index.html).
// Every one goes through the catalogs (i18n.js): gettext()/ngettext() calls with the English text,
// extracted by babel.cfg, translated in translations/*/LC_MESSAGES/messages.po. A text that carries
// values is a function. Text from the server is only ever passed through these, never parsed.

import { gettext, lang, ngettext } from "./i18n.js";

export const METHODS = ["celery", "celery_redis", "rabbitmq", "sync"];
export const QUEUED_METHODS = ["celery", "celery_redis", "rabbitmq"];  // the ones that go through a broker
// Celery is labelled with its broker: the same task on RabbitMQ and on Redis is the Redis lesson.
const METHOD_LABELS = {
  celery: gettext("Celery · RabbitMQ"), celery_redis: gettext("Celery · Redis"), rabbitmq: gettext("RabbitMQ"),
  sync: gettext("Sync"),
};
export const methodLabel = (method) => (Object.hasOwn(METHOD_LABELS, method) ? METHOD_LABELS[method] : String(method));
const listFormat = new Intl.ListFormat(lang, { type: "conjunction" });
const listOfMethods = (methods) => listFormat.format(methods.map(methodLabel));

// Nothing more happens to these rows by itself, so their clocks stop and "Clear finished" hides them.
// LOST is final only until a redelivery revives the row: the feed then brings it back.
export const FINISHED = new Set(["DONE", "ERROR", "LOST"]);
// The API keeps PENDING, DONE …; a person reads them in the page's language.
const STATUS_LABELS = {
  PENDING: gettext("PENDING"),
  SCHEDULED: gettext("SCHEDULED"),
  IN_PROGRESS: gettext("IN PROGRESS"),
  RETRYING: gettext("RETRYING"),
  DONE: gettext("DONE"),
  ERROR: gettext("ERROR"),
  LOST: gettext("LOST"),
};
export const statusLabel = (status) => STATUS_LABELS[status] ?? String(status);

// "#12–#16" for a run, "#12" for one, and a short form when other tabs interleaved numbers.
function describeTaskNums(nums) {
  if (!nums || nums.length === 0) return gettext("nothing");
  const sorted = [...nums].sort((a, b) => a - b);
  const first = sorted[0], last = sorted[sorted.length - 1];
  if (sorted.length === 1) return `#${first}`;
  if (last - first === sorted.length - 1) return `#${first}–#${last}`;
  return ngettext("%(num)s job, #%(first)s … #%(last)s", "%(num)s jobs, #%(first)s … #%(last)s", sorted.length,
    { first, last });
}

// ---------- units: durations and sizes as the page shows them (formats.js does the arithmetic)

export const UNITS = {
  ms: (value) => gettext("%(value)s ms", { value }),
  s: (value) => gettext("%(value)s s", { value }),
  min: (value) => gettext("%(value)s min", { value }),
  minS: (minutes, seconds) => gettext("%(minutes)s min %(seconds)s s", { minutes, seconds }),
  hMin: (hours, minutes) => gettext("%(hours)s h %(minutes)s min", { hours, minutes }),
};

// ---------- what an action's result line says (the send panels, the fault lab, the race, a row's kill)

export const unreachable = (error) => gettext("could not reach the server (%(reason)s)", { reason: error.message });
const httpStatus = (status) => gettext("the server answered HTTP %(status)s", { status });
export const reasonOf = (status, body) => body.error ?? httpStatus(status);  // the API's own words first
export const queued = (nums) => gettext("queued %(jobs)s", { jobs: describeTaskNums(nums) });
export const withFailed = (text, failed) => (failed
  ? ngettext("%(text)s (%(num)s failed)", "%(text)s (%(num)s failed)", failed, { text }) : text);
const couldNotLoad = (what, error) => gettext("could not load %(what)s (%(reason)s)", { what, reason: error.message });

// ---------- the connection indicator in the page header

export const CONNECTION_LABELS = {
  connecting: gettext("connecting…"), live: gettext("live (SSE)"), polling: gettext("polling"), offline: gettext("offline"),
};

// ---------- the page header: presenter mode and the student's name

export const HEADER = {
  nameTooLong: (most) => gettext("at most %(most)s characters", { most }),
};

// ---------- the jobs table

// "#12", "#12 #13", or "#12 … #15" for a chord's many members: a table cell stays short.
const shortList = (nums) => (nums.length <= 2 ? nums.map((n) => `#${n}`).join(" ") : `#${nums[0]} … #${nums.at(-1)}`);

export const TABLE = {
  rowCount: (count) => ngettext("%(num)s row", "%(num)s rows", count),
  attempt: (attempt) => (attempt > 1 ? gettext("attempt %(attempt)s", { attempt }) : ""),
  // Who counted the deliveries: the classic path's x-death, or a quorum queue's x-delivery-count.
  counted: (header, count) => gettext("%(header)s: %(count)s", { header, count }),
  // Rows with a due time: what the countdown says before it, and once it has passed with no start yet.
  countdowns: {
    SCHEDULED: { before: (left) => gettext("starts in %(left)s", { left }), due: gettext("starting…") },
    RETRYING: { before: (left) => gettext("retry in %(left)s", { left }), due: gettext("retrying…") },
  },
  overdue: (late) => gettext("due %(late)s ago", { late }),
  // A Celery · Redis job whose whole worker died: Redis hands it out again only at the visibility timeout.
  redisRestores: (left) => gettext("Redis gives it back in %(left)s (visibility timeout)", { left }),
  redisRestoring: gettext("Redis gives it back any moment now"),
  killButton: gettext("Kill"),
  result: (value) => gettext("= %(value)s", { value }),
  // A canvas step's links under its number: "← #12" takes #12's result; "→ #13" gives its result to #13.
  follows: (nums) => gettext("← %(jobs)s", { jobs: shortList(nums) }),
  leads: (nums) => gettext("→ %(jobs)s", { jobs: shortList(nums) }),
  followsTitle: (nums) => gettext("takes the result of %(jobs)s (a chain or a chord: docs/results.md)",
    { jobs: nums.map((n) => `#${n}`).join(", ") }),
  leadsTitle: (nums) => gettext("its result goes on to %(jobs)s", { jobs: nums.map((n) => `#${n}`).join(", ") }),
  askButton: gettext("AsyncResult"),  // Celery's class name: the same in every language
  replyButton: gettext("reply"),
  replyTitle: gettext("Collect the consumer's reply from our replies queue (basic_get, no waiting) and show the one with this job's correlation_id"),
  // "reply: 78 from vm-12, attempt 1 (correlation_id job-12-…)"
  replyAnswer: (body) => (body.reply
    ? gettext("reply: %(result)s from %(worker)s, attempt %(attempt)s (correlation_id %(id)s)", {
      result: String(body.reply.result ?? "—"), worker: String(body.reply.worker_id ?? "—"),
      attempt: String(body.reply.attempt ?? "—"), id: String(body.reply_id) })
    : String(body.reason ?? "")),
  askTitle: gettext("Ask Celery's result backend what it knows of this job: AsyncResult(id).state and .result, one poll, no waiting"),
  asking: gettext("asking Celery…"),
  // "Celery: SUCCESS · 78 — read from rpc:// by api-vm-12"; the reason is the API's, in this language
  // ...and, for a Redis result, how long its key has left: " (Redis keeps it 3587 s more)"
  celeryAnswer: (body) => gettext("Celery: %(state)s%(result)s — %(reason)s", {
    state: String(body.state ?? "—"), result: body.result == null ? "" : ` · ${body.result}`, reason: String(body.reason ?? "") })
    + (Number.isFinite(body.expires_in_s) ? gettext(" (Redis keeps it %(seconds)s s more)", { seconds: body.expires_in_s }) : ""),
  resultTitle: (num, value, worker, attempt) => gettext(
    "the job's result: 1 + 2 + … + %(num)s = %(value)s, computed by %(worker)s on attempt %(attempt)s",
    { num, value, worker, attempt }),
  killTitle: gettext("SIGKILL the worker process running this job, as if it crashed"),
  killing: gettext("killing…"),
  resetNote: (time) => gettext("The lab was reset at %(time)s: no jobs yet.", { time }),
  mineNeedsName: gettext("Give your name at the top of the page first: the filter shows the jobs sent with it."),
};

// ---------- the three send panels

export const SEND = {
  sending: gettext("sending…"),
  blocking: (seconds) => gettext("request blocking… %(seconds)s s", { seconds: seconds.toFixed(1) }),
  done: (nums, seconds) => gettext("done %(jobs)s in %(seconds)s s", { jobs: describeTaskNums(nums), seconds: seconds.toFixed(1) }),
  // The fault options in force, on the closed <details> summary: "· fail first 2, ack early".
  faults: (parts) => (parts.length ? `· ${parts.join(", ")}` : ""),
  flaky: (count) => gettext("fail first %(count)s", { count }),
  delay: (delay) => gettext("start in %(delay)s", { delay }),
  timeLimit: (seconds, kind) => (kind === "hard" ? gettext("limit %(seconds)s s hard", { seconds })
    : kind === "soft" ? gettext("limit %(seconds)s s soft", { seconds }) : gettext("limit %(seconds)s s", { seconds })),
  limitKindOnly: (kind) => (kind === "hard" ? gettext("hard limit (no time set)") : gettext("soft limit (no time set)")),
  ack: (ack) => (ack === "early" ? gettext("ack early") : gettext("ack late")),
  lane: gettext("long lane"),
  consumer: (consumer) => (consumer === "naive" ? gettext("naive consumer") : gettext("threaded consumer")),
  keepResult: gettext("result kept by Celery"),
  reply: gettext("reply asked (reply_to)"),
};

// ---------- the workers and queues panels

// A worker's settings, worded here from the facts of its heartbeat (api/validation.py: PROFILE_FACTS).
const ACKS = { late: gettext("late ack"), early: gettext("early ack") };
const CONSUMER_MODES = { threaded: gettext("threaded"), naive: gettext("naive") };
const profileParts = (facts) => [
  facts.role === "sweeper" && gettext("sweeper (celery beat)"),
  facts.visibility_timeout_s != null && gettext("Redis · visibility %(seconds)s s", { seconds: facts.visibility_timeout_s }),
  facts.queue_type === "quorum" && gettext("quorum · delivery limit %(limit)s", { limit: facts.delivery_limit ?? "?" }),
  CONSUMER_MODES[facts.mode], ACKS[facts.ack],
  facts.prefetch_multiplier != null && gettext("prefetch ×%(count)s", { count: facts.prefetch_multiplier }),
  facts.results != null && gettext("results: %(backend)s", { backend: facts.results }),
  facts.prefetch != null && gettext("prefetch %(count)s", { count: facts.prefetch }),
  facts.heartbeat_s != null && gettext("heartbeat %(seconds)s s", { seconds: facts.heartbeat_s }),
  facts.rate_limit_per_min != null && (facts.rate_limit_scope === "class"
    ? gettext("≤ %(rate)s/min for the class, shared", { rate: facts.rate_limit_per_min })
    : gettext("≤ %(rate)s/min on this worker", { rate: facts.rate_limit_per_min })),
  facts.binds != null && gettext("bound: %(bindings)s", { bindings: facts.binds }),
].filter(Boolean);

// A Celery worker's main process (kind celery_node): its pool, its prefetch, and what it holds unacked.
const nodeParts = (facts) => [
  gettext("worker %(node)s", { node: facts.node ?? "?" }),
  ngettext("%(num)s process", "%(num)s processes", facts.processes ?? 0),
  gettext("prefetch_count %(count)s (%(processes)s × %(multiplier)s)",
    { count: facts.prefetch_count ?? "?", processes: facts.processes ?? "?", multiplier: facts.prefetch_multiplier ?? "?" }),
  gettext("holds %(running)s running + %(reserved)s waiting, unacked", { running: facts.running ?? 0, reserved: facts.reserved ?? 0 }),
];

export const WORKERS = {
  profile: (facts) => profileParts(facts && typeof facts === "object" ? facts : {}).join(" · "),
  node: (facts) => nodeParts(facts && typeof facts === "object" ? facts : {}).join(" · "),
  processOf: (node) => gettext("a process of %(node)s", { node }),
  kinds: { celery: gettext("Celery"), consumer: gettext("consumer") },
  details: (w) => gettext("%(id)s: host %(host)s, pid %(pid)s, queue %(queue)s",
    { id: w.worker_id, host: w.hostname ?? "?", pid: w.pid ?? "?", queue: w.queue ?? "?" }),
  idle: gettext("idle"),
  wasOn: (job) => gettext("was on %(job)s", { job }),
  ago: (age) => gettext("%(age)s ago", { age }),
  never: gettext("never"),
  offline: (ago) => gettext("offline — last seen %(ago)s", { ago }),
  offlineToggle: (count, open) => (open
    ? ngettext("%(num)s offline ▾", "%(num)s offline ▾", count)
    : ngettext("%(num)s offline ▸", "%(num)s offline ▸", count)),
  explain: ({ every, offline, forget, lost }) => gettext(
    "Each worker announces itself %(every)s; after %(offline)s of silence it is shown offline, after %(forget)s "
    + "it is dropped. The bar is its share of the DONE jobs of its kind. A running job is called LOST only when "
    + "neither the job nor its worker has been heard from for %(lost)s: a worker that is alive keeps its reports "
    + "while the API is away and delivers them, in order, when it is back.", { every, offline, forget, lost }),
  reportsWaiting: (count) => ngettext("⧗ %(num)s report waiting for the API", "⧗ %(num)s reports waiting for the API", count),
  reportsDeliveredLate: (count, peak) => (peak > 0
    ? ngettext("✓ %(num)s report delivered late (up to %(peak)s waited at once)",
      "✓ %(num)s reports delivered late (up to %(peak)s waited at once)", count, { peak })
    : ngettext("✓ %(num)s report delivered late", "✓ %(num)s reports delivered late", count)),
  reportsTitle: gettext("Status reports this worker made while the API did not answer: it keeps them and sends them "
    + "again, in order, until the API answers. Nothing is dropped."),
  every: (interval) => gettext("every %(interval)s", { interval }),
  everyUnknown: gettext("every few seconds"),
  offlineUnknown: gettext("a while"),
  forgetUnknown: gettext("longer"),
  loadFailed: (error) => couldNotLoad(gettext("the workers"), error),
};

// The routing lesson's picture (bindings_diagram.js): exchanges, the keys queues are bound with.
export const BINDINGS = {
  kinds: {
    direct: gettext("exactly the key"),
    topic: gettext("* one word, # any"),
    fanout: gettext("every bound queue"),
  },
  depth: (ready, unacked, consumers) => ngettext("%(ready)s ready · %(unacked)s unacked · %(num)s consumer",
    "%(ready)s ready · %(unacked)s unacked · %(num)s consumers", consumers, { ready, unacked }),
  returned: gettext("↩ returned (312)"),
  anyKey: gettext("(any key)"),
  bindingTitle: (exchange, key, queue) => gettext("%(exchange)s → %(queue)s, bound with the key %(key)s",
    { exchange, queue, key: JSON.stringify(key) }),
  noneBound: gettext("No queue is bound to the direct or topic exchange yet: start a consumer with CONSUMER_BINDS "
    + "(`make consumer-routed`, or the consumer_emails and consumer_long services in compose)."),
  tryHint: gettext("e.g. report.long — which queues would it reach?"),
  wouldReach: (type, queues) => (queues.length
    ? gettext("%(exchange)s → %(queues)s", { exchange: type, queues: queues.join(", ") })
    : gettext("%(exchange)s → no queue (returned)", { exchange: type })),
  loadFailed: (error) => couldNotLoad(gettext("the bindings from the API"), error),
};

export const QUEUES = {
  sampled: (age) => gettext("sampled %(age)s ago", { age }),
  notSampled: gettext("not sampled yet"),
  refreshes: (interval) => gettext(" · RabbitMQ refreshes queue stats every %(interval)s", { interval }),
  loadFailed: (error) => couldNotLoad(gettext("the queue stats from the API"), error),
};

// ---------- the fault lab

// (Texts used inside another gettext() call's values are made first: the extractor sees no nested calls.)
const THE_EXPERIMENTS = gettext("the experiments");
const NONE_DONE = gettext("none DONE");

export const LAB = {
  loadFailed: (error) => gettext("%(problem)s; trying again…", { problem: couldNotLoad(THE_EXPERIMENTS, error) }),
  steps: { try: gettext("Try this"), watch: gettext("You will see") },
  because: gettext("Because…"),
  lineCount: (label) => `${label}: `,
  lines: (count) => (Number.isFinite(count) ? ngettext("%(num)s line", "%(num)s lines", count) : gettext("? lines")),
  lineLabels: { celery: gettext("Celery"), rabbitmq: gettext("RabbitMQ by hand") },
  lineSeparator: " · ",
  lineCountsTitle: (lesson) => gettext("non-blank, non-comment lines between the # [%(lesson)s: begin/end] markers in the source", { lesson }),
  codeSideBySide: gettext("The code, side by side"),
  killLabel: gettext("Kill the worker of job #"),
  killButton: gettext("Kill"),
  killingWorkerOf: (num) => gettext("killing the worker of #%(num)s…", { num }),
  killed: (answer) => ((answer.killed_pids ?? []).length > 1
    ? gettext("killed the whole %(kind)s worker %(worker)s (pids %(pids)s)",
      { kind: WORKERS.kinds[answer.kind] ?? answer.kind, worker: answer.worker_id, pids: answer.killed_pids.join(", ") })
    : gettext("killed %(kind)s %(worker)s (pid %(pid)s)",
      { kind: WORKERS.kinds[answer.kind] ?? answer.kind, worker: answer.worker_id, pid: answer.killed_pid })),
  killWhole: gettext("the whole worker (its main process too)"),
  killWholeTitle: gettext("For a Celery job: kill the worker's main process as well as the pool process running it, as docker kill or a crashed machine would — then nobody rejects the message back, and the broker decides"),
  // The routes lesson's pause / resume: which Celery workers were told.
  lanePaused: (body) => gettext("%(workers)s stopped consuming %(queue)s: jobs sent to it now wait",
    { workers: (body.workers ?? []).join(", "), queue: body.queue }),
  // The concurrency lesson: what each Celery worker was told.
  tuned: (node, told) => [
    told.refused ? gettext("%(node)s refused: %(reason)s (a pool shrinks by its idle processes only: try again when "
      + "its jobs are done)", { node, reason: told.refused })
      : told.processes == null ? ngettext("%(node)s: %(num)s process", "%(node)s: %(num)s processes", told.processes_before, { node })
      : gettext("%(node)s: %(before)s → %(after)s processes", { node, before: told.processes_before, after: told.processes }),
    told.prefetch_multiplier == null ? null : gettext("prefetch ×%(count)s", { count: told.prefetch_multiplier }),
  ].filter(Boolean).join(", "),
  // The rate-limits lesson: what the API set, on whom, and what got through in the last minute.
  celeryLimited: (body) => (body.per_minute == null
    ? gettext("Celery: no rate limit on %(workers)s", { workers: body.workers.join(", ") })
    : ngettext("Celery: %(rate)s/min on %(num)s worker (%(workers)s): up to %(total)s/min for the class",
      "Celery: %(rate)s/min on each of %(num)s workers (%(workers)s): up to %(total)s/min for the class",
      body.workers.length, { rate: body.per_minute, workers: body.workers.join(", "), total: body.per_minute * body.workers.length })),
  rawLimited: (body) => (body.per_minute == null
    ? gettext("RabbitMQ: no rate limit, published to %(exchange)s", { exchange: body.exchange })
    : body.scope === "class"
      ? gettext("RabbitMQ: %(rate)s/min for the class, shared by the consumers on the queue (published to %(exchange)s)",
        { rate: body.per_minute, exchange: body.exchange })
      : gettext("RabbitMQ: %(rate)s/min on each consumer (published to %(exchange)s; consumers now: %(num)s)",
        { rate: body.per_minute, exchange: body.exchange, num: body.consumers.length })),
  measuredRate: (body) => {
    const paths = [["celery", gettext("Celery")], ["rabbitmq", gettext("RabbitMQ")]].map(([method, label]) => {
      const measured = body.methods?.[method];
      if (!measured) return gettext("%(path)s: none started", { path: label });
      const counts = Object.values(measured.workers);
      return ngettext("%(path)s: %(num)s started, by %(workers)s worker (%(each)s)",
        "%(path)s: %(num)s started, by %(workers)s workers (%(each)s)", counts.length,
        { path: label, num: measured.started, workers: counts.length, each: counts.join(" + ") });
    });
    return gettext("In the last %(seconds)s s — %(paths)s", { seconds: body.window_s, paths: paths.join("; ") });
  },
  laneResumed: (body) => gettext("%(workers)s consume %(queue)s again", { workers: (body.workers ?? []).join(", "), queue: body.queue }),
  closed: (count) => ngettext("closed %(num)s broker connection: watch the workers reconnect",
    "closed %(num)s broker connections: watch the workers reconnect", count),
  running: (label) => gettext("%(label)s…", { label }),
  // A preset's outcome, per kind of job: "RabbitMQ: queued #4 · Celery late ack: queued #5".
  outcome: (label, parts) => `${label}: ${parts.join("; ")}`,
  outcomes: (lines) => lines.join(" · "),
  shortStatus: (status) => `HTTP ${status}`,
  strangerPublished: (queue, parkedIn) => gettext("published to %(queue)s: watch it land in %(parked)s, with its reason",
    { queue, parked: parkedIn }),
  // The code stays as it is (in backticks); *** is where the broker's password goes.
  registered: (num, code) => gettext("#%(num)s registered, PENDING, nothing published. Send it yourself "
    + "(with the broker's password for ***): `%(code)s`", { num, code }),
  // The results nobody read: "rpc://: 5 of the 5 results this API process (api-vm-12) was sent wait in
  // queue 4e04…, deleted once unused for 3600 s · Redis: 5 of 5 keys celery-task-meta-* still held"
  unreadResults: (body) => [
    body.rpc ? gettext("rpc://: %(ready)s unread results wait in queue %(queue)s, the reply queue of %(client)s "
      + "(%(sent)s sent from here; the queue goes, with them, once unused for %(expires)s s)",
    { ready: body.rpc.ready, queue: body.rpc.queue, client: body.client, sent: body.rpc.sent, expires: body.rpc.expires_after_s ?? "—" })
      : gettext("rpc://: this API process (%(client)s) sent no job that keeps its result", { client: body.client }),
    body.redis ? gettext("Redis: %(keys)s of %(kept)s results still held as keys %(pattern)s",
      { keys: body.redis.keys, kept: body.redis.kept, pattern: body.redis.pattern })
      : gettext("Redis: no job in the table keeps its result there"),
  ].join(" · "),
  stopStream: gettext("stop the stream"),
  streaming: (sent, total) => gettext("streaming: %(sent)s of %(total)s sent", { sent, total }),
  streamed: (sent) => ngettext("stream over: %(num)s job sent", "stream over: %(num)s jobs sent", sent),
};

// ---------- the class-wide controls (kill a worker, close connections, reset): CLASS_CONTROLS

export const CLASS = {
  studentReason: gettext("Kill worker, close connections and reset are the instructor’s in this class: "
    + "enter the instructor token to use them."),
  noTokenSet: gettext("Kill worker, close connections and reset are the instructor’s in this class, "
    + "and no INSTRUCTOR_TOKEN is set on the server."),
  wrongToken: gettext("that is not the instructor token"),
  unlocked: gettext("instructor controls unlocked in this tab"),
  resetButton: gettext("Reset the class…"),
  resetConfirm: gettext("Really reset? Click again"),
  // What a reset removed, per queue (only those that held something), and the tasks it revoked.
  resetDone: (answer) => [
    ngettext("class reset: %(num)s job deleted", "class reset: %(num)s jobs deleted", answer.deleted_jobs ?? 0),
    Object.entries(answer.purged ?? {}).some(([, n]) => n > 0)
      ? gettext("removed %(list)s", { list: Object.entries(answer.purged).filter(([, n]) => n > 0)
        .map(([queue, n]) => `${queue} ${n}`).join(", ") })
      : gettext("the queues held nothing"),
    ...Object.entries(answer.revoked ?? {}).filter(([, n]) => n > 0).map(([, n]) =>
      ngettext("%(num)s task held by a Celery worker revoked", "%(num)s tasks held by Celery workers revoked", n)),
    ...Object.keys(answer.errors ?? {}).length
      ? [gettext("not emptied: %(parts)s", { parts: Object.keys(answer.errors).join(", ") })] : [],
  ].join(" · "),
};

// ---------- the flow diagram (inside the broker)

export const FLOW = {
  eventHeader: gettext("event"),  // the counts table's corner: every row below is a kind of event
  api: gettext("API"),
  celeryExchange: gettext("exchange (direct)"),
  defaultExchange: gettext("default exchange"),
  idle: (prefetch) => gettext("idle · prefetch %(prefetch)s", { prefetch: prefetch ?? "?" }),
  redisList: gettext("Redis list (LPUSH)"),
  running: (job, prefetch) => gettext("#%(job)s · prefetch %(prefetch)s", { job, prefetch: prefetch ?? "?" }),
  moreWorkers: (count) => ngettext("+%(num)s worker", "+%(num)s workers", count),
  depth: (ready, unacked) => gettext("%(ready)s ready · %(unacked)s unacked", { ready, unacked }),
  depthShort: (ready, unacked) => `${ready} · ${unacked}`,
  aggregate: (count, event) => gettext("+%(count)s %(event)s", { count, event }),
  pause: gettext("Pause"),
  resume: gettext("Resume"),
  sinks: { acked: gettext("✓ acked"), failed: gettext("✕ failed"), lost: gettext("? lost") },
  events: {
    published: gettext("published"),
    delayed: gettext("delayed"),
    delivered: gettext("delivered"),
    redelivered: gettext("redelivered"),
    retrying: gettext("sent to wait"),
    acked: gettext("acked"),
    failed: gettext("failed"),
    dead: gettext("dead-lettered"),
    lost: gettext("lost"),
  },
};

// ---------- the race

export const RACE = {
  racing: (count, seconds, methods) => ngettext("racing %(num)s job of %(seconds)s s by %(methods)s…",
    "racing %(num)s jobs of %(seconds)s s by %(methods)s…", count, { seconds, methods: listOfMethods(methods) }),
  // A broker outage fails both queued methods with the same message: said once, for both.
  error: (message, methods) => (methods.length ? `${listOfMethods(methods)}: ${message}` : message),
  errors: (lines) => lines.join("\n"),
  syncOnlyUpTo: (max) => gettext("N ≤ %(max)s only", { max }),
  done: (done, count) => `${done} / ${count}`,
  failed: (failed) => (failed ? ngettext("%(num)s failed", "%(num)s failed", failed) : ""),
  // "finished — last job DONE after: Sync 0.06 s · RabbitMQ 0.41 s · Celery 0.52 s"
  finishTime: (method, time) => `${methodLabel(method)} ${time}`,
  headline: (times, failed) => withFailed(gettext("finished — last job DONE after: %(times)s",
    { times: times.join(" · ") || NONE_DONE }), failed),
  errorsAndHeadline: (errors, headline) => `${errors}\n${headline}`,
  chartLabel: (times) => gettext("Jobs completed over time. Last job DONE after: %(times)s", { times: times.join(", ") }),
};

export const CHART = {
  waiting: gettext("waiting for the race to start…"),
  pressStart: gettext("Press Start"),
  hint: gettext("a line per method, one step up per job DONE"),
  xAxis: gettext("seconds since the race started"),
  yAxis: gettext("jobs DONE"),
};
