"""The fault lab's experiments, as data: what to try, what to watch, which setting explains it, and
the buttons that do it — each preset the exact `POST /api/tasks` bodies it sends, or the name of one
of the few things the page does itself (PAGE_ACTIONS).

Served as `GET /api/experiments`, in the reader's language (the texts are in the catalogs:
api/i18n.py); static/experiments.js builds the chooser and the cards from it and knows nothing about
any one experiment. Each experiment is also a "Try this" in the README (and in README.ru.md,
README.uk.md), and each is proven by a test in tests/test_fault_lab.py.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any, Mapping

from flask_babel import gettext, lazy_gettext
from flask_babel.speaklater import LazyString

from api.line_count import lesson_code

# What a preset may ask the page to do instead of sending its jobs in order; static/experiments.js
# implements each one (PAGE_ACTIONS there), and a test checks the two lists agree.
PAGE_ACTIONS = (
    "close-connections",  # close every broker connection: a class-wide control
    "slow-stream",        # a toggle: send the preset's one job every second for a minute
    "publish-stranger",   # publish a message that is not a job (POST /api/experiments/publish-stranger)
    "register-own",       # register the preset's one job, unpublished, for the student's own producer
    "count-results",      # where the results nobody read wait (GET /api/results/unread)
    "pause-lane",         # the long lane's workers stop consuming its queue: a class-wide control
    "resume-lane",        # ...and consume it again
    "rate-limit",         # set (or lift) a rate limit, its `options` the POST /api/experiments/rate-limit
                          # body, once for each of options["methods"]: a class-wide control
    "measure-rate",       # what got through: jobs started in the last minute (GET /api/experiments/rate-limit)
    "tune-celery",        # processes per Celery worker and the prefetch multiplier, live (`options`: the
                          # POST /api/experiments/concurrency body): a class-wide control
)


def _filled(text: LazyString, facts: Mapping[str, Any]) -> str:
    """The text in the reader's language; one that names a fact of this lab (`%(limit)s`) gets its
    value, as `gettext(text, **facts)` would."""
    translated = str(text)
    return translated % facts if "%(" in translated else translated


@dataclass(frozen=True)
class Job:
    """One `POST /api/tasks` body, exactly as the page sends it, and the name the card's result line
    gives it when its method alone would not tell it from the preset's other jobs."""

    body: Mapping[str, Any]
    named: LazyString | None = None

    def to_json(self) -> dict:
        return {"body": dict(self.body), "as": None if self.named is None else str(self.named)}


def _job(method: str, seconds: float, named: LazyString | None = None, **options) -> Job:
    return Job({"method": method, "seconds": seconds, "count": 1, **options}, named)


rabbitmq = partial(_job, "rabbitmq")
celery = partial(_job, "celery")
celery_redis = partial(_job, "celery_redis")


def both_ways(seconds: float, **options) -> tuple[Job, ...]:
    """The same job by Celery and by the hand-written consumer: the comparison most cards make."""
    return celery(seconds, **options), rabbitmq(seconds, **options)


def each_celery(seconds: float, **options) -> tuple[Job, ...]:
    """The same Celery job on each broker: the Redis lessons."""
    return celery(seconds, **options), celery_redis(seconds, **options)


def short_behind_long(**route) -> tuple[Job, ...]:
    """Three 6 s jobs, then a 1 s one: by one queue the short job waits behind them; with the long
    ones on their own lane (`lane="long"`) it does not."""
    return (celery(6, lazy_gettext("3 long jobs"), count=3, **route), celery(1, lazy_gettext("the short job")))


def concurrency_mix() -> tuple[Job, ...]:
    """Four 6 s jobs, each followed by two of 0.5 s, by Celery: the same mix bench/concurrency.py times."""
    return tuple(celery(seconds) for _ in range(4) for seconds in (6, 0.5, 0.5))


def fairness_batch(send) -> tuple[Job, ...]:
    """Long, short, long, short…: with prefetch above 1, one worker ends up with every long job."""
    return tuple(send(seconds) for seconds in (6, 0.5, 6, 0.5, 6, 0.5, 6, 0.5))


@dataclass(frozen=True)
class Preset:
    """A button on a card: it sends `jobs` one request at a time (so queue order is send order), or,
    with an `action`, does that one of PAGE_ACTIONS (which may read `jobs` for what it sends, and
    `options` for how)."""

    id: str
    label: LazyString
    jobs: tuple[Job, ...] = ()
    action: str | None = None
    options: Mapping[str, Any] | None = None

    def __post_init__(self):
        if self.action is not None and self.action not in PAGE_ACTIONS:
            raise ValueError(f"preset {self.id}: no page action {self.action!r} (PAGE_ACTIONS: {PAGE_ACTIONS})")
        if self.action is None and not self.jobs:
            raise ValueError(f"preset {self.id} neither sends jobs nor names a page action")

    def to_json(self, facts: Mapping[str, Any]) -> dict:
        return {"id": self.id, "label": _filled(self.label, facts), "jobs": [job.to_json() for job in self.jobs],
                "action": self.action, "options": dict(self.options or {})}


@dataclass(frozen=True)
class KillForm:
    """"Kill the worker of job #[ ]", with "the whole worker" ticked at first when `whole`."""

    whole: bool = False


@dataclass(frozen=True)
class Experiment:
    """One card. `line_counts`: the lesson (api/line_count.py: LESSONS) whose code the card shows,
    side by side, with how many lines each path needed; its texts may name the two counts as
    `%(celery)s` and `%(rabbitmq)s`."""

    id: str
    title: LazyString
    try_this: LazyString
    watch: LazyString
    because: LazyString
    presets: tuple[Preset, ...] = ()
    kill_form: KillForm | None = None
    line_counts: str | None = None
    figure: str | None = None  # a picture of the page the card shows while chosen: "bindings" (bindings_diagram.js)

    def to_json(self, facts: Mapping[str, Any]) -> dict:
        code = None if self.line_counts is None else lesson_code(self.line_counts)
        lines = None if code is None else {method: sum(part.lines for part in parts) for method, parts in code.items()}
        facts = {**facts, **(lines or {})}
        return {
            "id": self.id, "title": str(self.title),
            "try": _filled(self.try_this, facts), "watch": _filled(self.watch, facts),
            "because": _filled(self.because, facts),
            "lesson": self.line_counts, "lines": lines,
            "code": None if code is None else {method: [{"path": part.path, "text": part.text, "lines": part.lines}
                                                        for part in parts] for method, parts in code.items()},
            "kill_form": None if self.kill_form is None else {"whole": self.kill_form.whole},
            "figure": self.figure,
            "presets": [preset.to_json(facts) for preset in self.presets],
        }


RATE_PER_MINUTE = 12  # the rate-limits card's limit: one start every 5 s per worker, visible in a class
RATE_JOBS = 40        # ...and how many jobs it sends each way: more than two workers start in a minute

# Names for jobs in a preset's result line where the method alone would not tell them apart.
CELERY_LATE_ACK = lazy_gettext("Celery late ack")
CELERY_EARLY_ACK = lazy_gettext("Celery early ack")

EXPERIMENTS: tuple[Experiment, ...] = (
    Experiment(
        id="kill",
        title=lazy_gettext("Kill a worker mid-job"),
        try_this=lazy_gettext("Send a 20 s job by RabbitMQ, by Celery (late ack) and by Celery (early ack). "
                              "When a row is IN_PROGRESS, kill its worker (the button sends SIGKILL to the "
                              "process running that job; in docker compose use `docker kill <container>`)."),
        watch=lazy_gettext("RabbitMQ and Celery late-ack: the row restarts as attempt 2 and ends DONE. "
                           "Celery early-ack: the row goes silent, then LOST."),
        because=lazy_gettext("The consumer acks after the job (manual ack); Celery's late profile has "
                             "task_acks_late=True + task_reject_on_worker_lost=True. The early profile "
                             "(CELERY_ACK_MODE=early) acked the message when the job started: RabbitMQ "
                             "has nothing left to redeliver."),
        presets=(
            Preset("send-20s", lazy_gettext("Send 20 s jobs"), jobs=(
                rabbitmq(20), celery(20, CELERY_LATE_ACK), celery(20, CELERY_EARLY_ACK, celery_ack="early"))),
        ),
        kill_form=KillForm(whole=False),
    ),
    Experiment(
        id="lost",
        title=lazy_gettext("Lost jobs are named, not silent"),
        try_this=lazy_gettext("Do the early-ack kill above and wait LOST_AFTER_S."),
        watch=lazy_gettext("The row turns LOST with the reason. If a lost job reports again (a "
                           "redelivery), the same row comes back to life as the next attempt."),
        because=lazy_gettext("A Celery beat schedule (the celery_beat process) asks the API every "
                             "SWEEP_EVERY_S to mark a running job LOST when neither the job nor its "
                             "worker (its heartbeat) has been heard from for LOST_AFTER_S (at least two "
                             "heartbeats), and to prune history older than HISTORY_MAX_AGE_S. A worker "
                             "that is alive is only late: while the API is away it keeps its reports and "
                             "delivers them when the API is back, so for that long after the API starts "
                             "the sweeper names nothing LOST — a finished job never flashes LOST."),
        presets=(
            Preset("send-early-ack", lazy_gettext("Send a 20 s early-ack Celery job"),
                   jobs=(celery(20, CELERY_EARLY_ACK, celery_ack="early"),)),
        ),
    ),
    Experiment(
        id="retries",
        title=lazy_gettext("Retries with backoff"),
        try_this=lazy_gettext("Send a job with 'flaky: fail first 2' by Celery and by RabbitMQ; then one "
                              "with 'fail first 3' (MAX_ATTEMPTS is 3)."),
        watch=lazy_gettext("RETRYING (with when the next try is due) twice, then DONE on attempt 3. "
                           "With 3 failures: ERROR 'gave up after 3 attempts', and on the raw side the "
                           "message sits in the dead-letter queue (<queue>.dead) in the management UI."),
        because=lazy_gettext("Celery: autoretry_for + retry_backoff + retry_jitter + max_retries "
                             "(%(celery)s lines). Raw: nack → the work queue dead-letters into a "
                             "wait queue whose TTL dead-letters it back; the attempt is the broker's "
                             "x-death count; out of attempts, the consumer moves it to the dead-letter "
                             "queue (%(rabbitmq)s lines). The raw wait is fixed (RETRY_DELAY_S): "
                             "growing it would need a republish, which loses x-death on RabbitMQ ≥ 3.13."),
        presets=(
            Preset("flaky-2", lazy_gettext("flaky 2 both ways"), jobs=both_ways(2, flaky=2)),
            Preset("flaky-3", lazy_gettext("flaky 3 (give up) both ways"), jobs=both_ways(2, flaky=3)),
        ),
        line_counts="retries",
    ),
    Experiment(
        id="delayed",
        title=lazy_gettext("Delayed start"),
        try_this=lazy_gettext("Send a job with 'start in 10 s' by Celery and by RabbitMQ."),
        watch=lazy_gettext("SCHEDULED with its due time, then IN_PROGRESS no earlier than that."),
        because=lazy_gettext("Celery: apply_async(countdown=10) — a worker receives the task at once and "
                             "holds it unacked until it is due. Raw: a per-message TTL in <queue>.delay, "
                             "dead-lettered into the work queue when it expires (only at the head of "
                             "the queue: a long delay in front blocks a short one behind it). The trap: "
                             "RabbitMQ's consumer_timeout (30 min by default) closes a channel that holds "
                             "an unacked message too long, so a countdown over 30 minutes kills the "
                             "worker's channel — use a scheduler, or raise consumer_timeout."),
        presets=(
            Preset("delay-10", lazy_gettext("start in 10 s both ways"), jobs=both_ways(3, delay_s=10)),
        ),
    ),
    Experiment(
        id="time-limits",
        title=lazy_gettext("Time limits"),
        try_this=lazy_gettext("Send a 10 s job with a 3 s limit: Celery soft, Celery hard, and RabbitMQ."),
        watch=lazy_gettext("Soft: ERROR 'SoftTimeLimitExceeded' reported by the job itself at ~30%. "
                           "Hard: ERROR 'hard time limit exceeded', reported by Celery's main process "
                           "after it killed the pool process (watch a new pool process appear in the "
                           "workers panel). RabbitMQ: ERROR from the job's own deadline check."),
        because=lazy_gettext("Celery's soft_time_limit raises inside the task; time_limit kills the "
                             "process. The raw consumer has neither: its deadline is hand-written in the "
                             "job loop (time_limit_s), and only works because the job checks it."),
        presets=(
            Preset("limit-3", lazy_gettext("10 s job, 3 s limit"), jobs=(
                celery(10, lazy_gettext("Celery soft"), time_limit_s=3, time_limit_kind="soft"),
                celery(10, lazy_gettext("Celery hard"), time_limit_s=3, time_limit_kind="hard"),
                rabbitmq(10, time_limit_s=3))),
        ),
    ),
    Experiment(
        id="prefetch",
        title=lazy_gettext("Prefetch and fairness"),
        try_this=lazy_gettext("With two workers of a kind, send the fairness batch (8 jobs: long, short, "
                              "long, short…). Then restart the workers with CONSUMER_PREFETCH=4 / "
                              "CELERY_PREFETCH_MULTIPLIER=4 (e.g. `CONSUMER_PREFETCH=4 make run` and "
                              "`make consumer`) and send it again."),
        watch=lazy_gettext("Prefetch 1: the short jobs flow to whichever worker is free; the batch "
                           "finishes sooner. Prefetch 4: each worker grabs 4 at once — one gets all the "
                           "long jobs while the other idles (the workers panel's bars, and the "
                           "management UI's unacked count)."),
        because=lazy_gettext("basic_qos(prefetch_count) / worker_prefetch_multiplier: how many unacked "
                             "messages the broker lets each worker hold."),
        presets=(
            Preset("fairness", lazy_gettext("send the fairness batch"),
                   jobs=fairness_batch(rabbitmq) + fairness_batch(celery)),
        ),
    ),
    Experiment(
        id="heartbeat",
        title=lazy_gettext("Heartbeat starvation"),
        try_this=lazy_gettext("Send a 20 s job to the naive consumer (CONSUMER_MODE=naive, heartbeat 5 s: "
                              "`make run` starts one) and the same job to the normal consumer."),
        watch=lazy_gettext("The naive consumer's connection drops (missed heartbeats), its ack fails, "
                           "and the job starts again as attempt 2, 3… The threaded consumer finishes "
                           "the same job once."),
        because=lazy_gettext("pika only sends heartbeats while its thread is inside pika: the naive "
                             "consumer sleeps inside the callback. The threaded one runs the job in a "
                             "thread and acks through add_callback_threadsafe. Celery's `--pool solo` "
                             "runs tasks in the worker's own thread: the same trap for long tasks."),
        presets=(
            Preset("heartbeat-20", lazy_gettext("20 s job to the naive consumer and to the threaded one"), jobs=(
                rabbitmq(20, lazy_gettext("naive consumer"), consumer="naive"),
                rabbitmq(20, lazy_gettext("threaded consumer")))),
        ),
    ),
    Experiment(
        id="outage",
        title=lazy_gettext("Broker outage"),
        try_this=lazy_gettext("Send a batch of 5 s jobs, then close every broker connection (the button, or "
                              "`rabbitmqctl close_all_connections \"lab\"`), and send more jobs."),
        watch=lazy_gettext("Workers log the lost connection and reconnect by themselves; the jobs "
                           "queued before the outage are still there and finish (running ones come back "
                           "as attempt 2). While RabbitMQ is really down (`docker compose stop rmq`) the "
                           "API answers 503 with the reason and no row is left PENDING."),
        because=lazy_gettext("Durable queues + persistent messages + acks after the job, and reconnect "
                             "loops with backoff in both workers."),
        presets=(
            Preset("close-connections", lazy_gettext("close all broker connections"), action="close-connections"),
            Preset("send-5s", lazy_gettext("send 5 s jobs both ways"), jobs=both_ways(5)),
        ),
    ),
    Experiment(
        id="slow-consumer",
        title=lazy_gettext("A slow consumer falls behind"),
        try_this=lazy_gettext("Start the slow stream (a 2 s job by RabbitMQ every second, for a minute) and "
                              "watch the RabbitMQ queue's depth chart in the queues panel. After half a minute "
                              "start a second consumer (`make consumer`, or `docker compose up -d --scale "
                              "consumer=2`)."),
        watch=lazy_gettext("Ready climbs by about one job every two seconds: one worker does half the "
                           "work that arrives. With the second consumer the line flattens, then turns "
                           "down."),
        because=lazy_gettext("A queue only buffers: while jobs arrive faster than the consumers finish "
                             "them, ready grows without end (until RabbitMQ's memory or disk alarm "
                             "stops the publishers). Adding consumers is how a work queue scales, and "
                             "prefetch 1 gives a new one work at once."),
        presets=(
            Preset("slow-stream", lazy_gettext("start the slow stream"), jobs=(rabbitmq(2),), action="slow-stream"),
        ),
    ),
    Experiment(
        id="quorum",
        title=lazy_gettext("Quorum queues: a poison message"),
        try_this=lazy_gettext("Send the poison job to the quorum queue: it crashes its consumer on every "
                              "delivery (`make run` and compose start the consumer again). Then send "
                              "'flaky 3' to the classic queue, to compare."),
        watch=lazy_gettext("The poison row starts again and again — attempt 2, 3, 4 — and shows "
                           "x-delivery-count 1, 2, 3: the broker counted. Past the delivery limit "
                           "(QUORUM_DELIVERY_LIMIT = %(limit)s) it ends ERROR, dead-lettered by "
                           "RabbitMQ, and nobody runs it again. The classic row retries through the "
                           ".wait queue, counted by x-death, and gives up into .dead after "
                           "MAX_ATTEMPTS."),
        because=lazy_gettext("A quorum queue counts every failed delivery itself (x-delivery-count) and "
                             "dead-letters a message past its x-delivery-limit: no wait queue and no "
                             "counting by hand — and no endless crash loop, which a classic queue "
                             "would run, since it counts nothing. What changed across versions: "
                             "RabbitMQ 3.8 brought quorum queues and the delivery limit; 4.0 made 20 "
                             "the default limit of every quorum queue; 4.3 stops counting requeues "
                             "(basic.nack or basic.reject with requeue) and gives quorum queues "
                             "delayed retries of their own — a crashed consumer still counts. This "
                             "broker is RabbitMQ %(version)s."),
        presets=(
            Preset("poison", lazy_gettext("poison job to the quorum queue"),
                   jobs=(rabbitmq(1, lazy_gettext("quorum poison"), queue_type="quorum", poison=True),)),
            Preset("quorum-plain", lazy_gettext("plain job to the quorum queue"),
                   jobs=(rabbitmq(1, lazy_gettext("quorum plain"), queue_type="quorum"),)),
            Preset("flaky-3-classic", lazy_gettext("flaky 3 to the classic queue"),
                   jobs=(rabbitmq(1, lazy_gettext("classic flaky"), flaky=3),)),
        ),
    ),
    Experiment(
        id="redis-kill",
        title=lazy_gettext("Kill a whole Celery worker: RabbitMQ or Redis"),
        try_this=lazy_gettext("Send a 20 s job by Celery on RabbitMQ and one by Celery on Redis. When both "
                              "run, kill each one's whole worker: the kill form with 'the whole worker' "
                              "ticked (`make kill-worker TASK=N WHOLE=1`; in compose, `docker kill` its "
                              "container)."),
        watch=lazy_gettext("RabbitMQ: attempt 2 starts as soon as a worker is back. Redis: the row "
                           "turns LOST and counts down the visibility timeout (%(timeout)s s here), "
                           "and only then does attempt 2 start."),
        because=lazy_gettext("Both workers ack late. RabbitMQ tracks each delivery on its connection: "
                             "when the connection drops, the unacked message is back in the queue at "
                             "once. Redis has no connections to watch: Celery keeps a delivered message "
                             "in a hash with its delivery time (the unacked column in the queues panel) "
                             "and puts it back only when it is older than the visibility timeout — one "
                             "hour by default. Killing only the pool process is another story: Celery's "
                             "main process then rejects the message back at once, on both brokers."),
        presets=(
            Preset("send-20s-both-brokers", lazy_gettext("20 s job by Celery on each broker"),
                   jobs=each_celery(20)),
        ),
        kill_form=KillForm(whole=True),
    ),
    Experiment(
        id="redis-countdown",
        title=lazy_gettext("A countdown longer than the visibility timeout"),
        try_this=lazy_gettext("Send a job with 'start in 45 s' by Celery on RabbitMQ and by Celery on Redis "
                              "(the visibility timeout here is %(timeout)s s)."),
        watch=lazy_gettext("RabbitMQ: it runs once, when it is due. Redis: it runs when it is due, and "
                           "again — the row counts the rerun (or shows a second attempt)."),
        because=lazy_gettext("A worker takes a countdown task at once and holds it, unacked, until it "
                             "is due. On Redis, once the visibility timeout has passed, the message is "
                             "handed out again, to a worker that waits for the same due time: two copies "
                             "run. Celery's documentation warns of exactly this: keep countdowns and "
                             "retry delays below the visibility timeout, or raise it. RabbitMQ's "
                             "counterpart trap is consumer_timeout (30 min by default): a channel that "
                             "holds an unacked message longer is closed, and the message redelivered."),
        presets=(
            Preset("countdown-45-both-brokers", lazy_gettext("start in 45 s, by Celery on each broker"),
                   jobs=each_celery(1, delay_s=45)),
        ),
    ),
    Experiment(
        id="redis-outage",
        title=lazy_gettext("When the broker is away: RabbitMQ or Redis"),
        try_this=lazy_gettext("Stop a broker for a moment — `docker compose stop rmq`, or `docker compose "
                              "stop redis` — and send a job by each Celery; send a few more and start it "
                              "again (`docker compose start …`)."),
        watch=lazy_gettext("delay() fails fast on either broker: the API answers 503 with the reason "
                           "and those rows end ERROR. Jobs that were waiting when RabbitMQ stopped run "
                           "after it starts; those waiting in this Redis are gone, and the sweeper names "
                           "them LOST: 'Redis restarted…'."),
        because=lazy_gettext("RabbitMQ writes durable queues' persistent messages to disk. This Redis "
                             "keeps nothing on disk (no RDB snapshots, no append-only file), so a "
                             "restart empties its lists. With `appendonly yes` the waiting jobs would "
                             "survive a restart, up to the last fsync (every second by default)."),
        presets=(
            Preset("one-job-each-celery", lazy_gettext("one job by each Celery"), jobs=each_celery(1)),
        ),
    ),
    Experiment(
        id="stranger",
        title=lazy_gettext("Publish your own message"),
        try_this=lazy_gettext("Anyone with the broker's password can publish to a queue. Press 'a message "
                              "that is not a job', or publish one yourself: in the management UI open Queues → "
                              "queue_lab.jobs → Publish message and send `[1, 2, 3]`, or run `python3 -c "
                              "'import pika; pika.BlockingConnection().channel().basic_publish(\"\", "
                              "\"queue_lab.jobs\", \"hello\")'`. For Celery: `send_task(\"process_task\", "
                              "args=[\"x\", \"y\"])`. Then press 'a job for my own producer': the API writes "
                              "the row PENDING and hands you its number and the one line that sends it."),
        watch=lazy_gettext("The consumer prints ' [!] Refused (not a job: …)' and moves the message to "
                           "queue_lab.jobs.dead, with the reason in its queue-lab-reason header (Get "
                           "messages in the management UI shows it); the Celery worker logs 'refused "
                           "process_task'. Both go on with the next job. A job the table does not hold is "
                           "parked too ('no such job'); a finished one is skipped ('already DONE'). Your "
                           "own message for a registered job runs and moves in the table like any other."),
        because=lazy_gettext("A queue is a public door: the worker reads every message as a form from a "
                             "stranger. One message contract (queue_lab/job_message.py) says what a job "
                             "is — an object, these fields, finite numbers within the bounds of POST "
                             "/api/tasks — and the API's answer to the start report says whether the "
                             "table holds the job and whether it has ended. Nothing a message holds can "
                             "crash or stall a worker."),
        presets=(
            Preset("publish-stranger", lazy_gettext("a message that is not a job"), action="publish-stranger"),
            Preset("register-own", lazy_gettext("a job for my own producer"),
                   jobs=(rabbitmq(3, publish=False),), action="register-own"),
        ),
    ),
    # ---- which worker gets which job (docs/routes.md)
    Experiment(
        id="routes",
        title=lazy_gettext("Routes: a queue for each kind of job"),
        try_this=lazy_gettext("Send three 6 s jobs and then a 1 s job, all to the default queue. Then send the "
                              "same with the long jobs on the long lane: process_long_task, which task_routes "
                              "sends to queue_lab.celery.long. Last, pause the long lane, send long jobs, and "
                              "resume it."),
        watch=lazy_gettext("One queue: the short job waits PENDING until the long ones are done (one worker, "
                           "one job at a time). Two lanes: it is DONE at once, while the long lane's own "
                           "worker works through its queue. Paused: the long lane's queue holds its jobs "
                           "with 0 consumers, and the queues panel says 'no consumer on queue …'; resumed, "
                           "they run. Nothing is lost either way."),
        because=lazy_gettext("task_routes maps a task's name to a queue: delay() publishes there, and only a "
                             "worker started with -Q <queue> consumes it (celery_worker_long in the Procfile "
                             "and in compose, one service per lane). RabbitMQ keeps a queue's messages until "
                             "a consumer comes: a lane nobody consumes is not an error, it just waits. Pause "
                             "and resume are Celery's remote control (cancel_consumer, add_consumer — "
                             "Flower's buttons): the worker stays up and only stops taking from that queue."),
        presets=(
            Preset("one-queue", lazy_gettext("3 long + 1 short, one queue"), jobs=short_behind_long()),
            Preset("two-lanes", lazy_gettext("3 long on the long lane + 1 short"), jobs=short_behind_long(lane="long")),
            Preset("pause-lane", lazy_gettext("pause the long lane"), action="pause-lane"),
            Preset("long-jobs", lazy_gettext("send 3 long jobs to the long lane"),
                   jobs=(celery(3, lazy_gettext("long lane"), count=3, lane="long"),)),
            Preset("resume-lane", lazy_gettext("resume the long lane"), action="resume-lane"),
        ),
    ),
    # ---- routing by hand (docs/exchanges.md): a direct and a topic exchange, queues bound by their consumers
    Experiment(
        id="exchanges",
        title=lazy_gettext("Exchanges by hand: direct and topic"),
        try_this=lazy_gettext("Send the jobs below one by one. Before each, type its key in 'Try a key': the "
                              "picture marks the queues it will reach."),
        watch=lazy_gettext("Each job runs on the consumer whose queue is bound with its key: a dot goes exchange "
                           "→ binding → queue. invoice matches no binding: RabbitMQ returns it, and its row ends "
                           "ERROR, 312 NO_ROUTE. email.long matches email.* and *.long: both queues get a copy, "
                           "and both consumers start it."),
        because=lazy_gettext("The publisher names an exchange and a key, never a queue. A direct exchange gives the "
                             "message to each queue bound with exactly that key (RabbitMQ's tutorial 4); a topic "
                             "exchange matches words between dots, * one word, # any number (tutorial 5). Each "
                             "consumer binds its own queue (CONSUMER_BINDS; %(rabbitmq)s lines). A key nobody bound "
                             "is dropped silently unless the publisher sets mandatory, as this API does. In Celery, "
                             "task_routes names a queue per task (%(celery)s lines) and kombu binds it to a direct "
                             "exchange by its name."),
        presets=(
            Preset("direct-email", lazy_gettext("direct: email"), jobs=(rabbitmq(1, exchange="direct", routing_key="email"),)),
            Preset("direct-report", lazy_gettext("direct: report"), jobs=(rabbitmq(1, exchange="direct", routing_key="report"),)),
            Preset("direct-invoice", lazy_gettext("direct: invoice (not bound)"),
                   jobs=(rabbitmq(1, exchange="direct", routing_key="invoice"),)),
            Preset("topic-two", lazy_gettext("topic: email.short, report.long"),
                   jobs=(rabbitmq(1, "email.short", exchange="topic", routing_key="email.short"),
                         rabbitmq(1, "report.long", exchange="topic", routing_key="report.long"))),
            Preset("topic-copy", lazy_gettext("topic: email.long (2 match)"),
                   jobs=(rabbitmq(2, exchange="topic", routing_key="email.long"),)),
        ),
        line_counts="exchanges",
        figure="bindings",
    ),
    # ---- concurrency vs replicas vs prefetch (docs/concurrency.md): Celery's three knobs, live
    Experiment(
        id="concurrency",
        title=lazy_gettext("Concurrency, replicas, prefetch: who holds the jobs?"),
        try_this=lazy_gettext("With one Celery worker, press '4 processes' and send the mix (four 6 s jobs, each "
                              "followed by two of 0.5 s). Then '4 processes, prefetch ×4' and send it again; last "
                              "'1 process'. For replicas: `docker compose up -d --scale celery_worker=4`, or "
                              "`make celery-worker` in three more terminals."),
        watch=lazy_gettext("The workers panel: one worker, its processes under it, and what the worker holds "
                           "unacked — running, and waiting for a free process. Four processes run four jobs at "
                           "once from one connection. With prefetch ×4 the worker takes 16 messages at once: the "
                           "queue looks empty while a second worker would find nothing to take."),
        because=lazy_gettext("--concurrency N forks N pool processes under one main process, which alone talks to "
                             "the broker: it reserves up to N × worker_prefetch_multiplier messages and hands each to "
                             "a free process. Replicas are N such workers, each with its own connection and its own "
                             "prefetch, so a crash stops one process's job, not N. Above 1, the multiplier lets a "
                             "busy worker keep messages an idle one could run (Celery advises 1 for long tasks, with "
                             "acks_late). Here pool_grow and pool_shrink change the pool live; Celery has no remote "
                             "command for the multiplier, so this lab adds one."),
        presets=(
            Preset("four-processes", lazy_gettext("4 processes"), action="tune-celery",
                   options={"processes": 4, "prefetch_multiplier": 1}),
            Preset("send-mix", lazy_gettext("send the mix: 4 × 6 s, 8 × 0.5 s"), jobs=concurrency_mix()),
            Preset("prefetch-four", lazy_gettext("4 processes, prefetch ×4"), action="tune-celery",
                   options={"processes": 4, "prefetch_multiplier": 4}),
            Preset("one-process", lazy_gettext("1 process, prefetch ×1"), action="tune-celery",
                   options={"processes": 1, "prefetch_multiplier": 1}),
        ),
    ),
    # ---- rate limits (docs/rate-limits.md): per worker in Celery, per consumer or shared by hand
    Experiment(
        id="rate-limits",
        title=lazy_gettext("Rate limits: per worker, or for the class?"),
        try_this=lazy_gettext("With two Celery workers and two consumers running (`docker compose up -d --scale "
                              "celery_worker=2 --scale consumer=2`), limit Celery to %(rate)s jobs a minute, and "
                              "RabbitMQ to %(rate)s a minute on each consumer. Send %(jobs)s short jobs each way and "
                              "measure after a minute. Then limit RabbitMQ to %(rate)s a minute for the class, send "
                              "again and measure again."),
        watch=lazy_gettext("The rows start one by one instead of all at once, and the rest wait PENDING (held "
                           "unacked by a worker, or ready in the queue). Per worker, each of the two starts "
                           "%(rate)s a minute: about twice %(rate)s got through, Celery's limit included. For the "
                           "class, each consumer takes half, and about %(rate)s got through in all. The workers "
                           "panel shows each consumer's limit."),
        because=lazy_gettext("Celery's rate_limit (@app.task(rate_limit='%(rate)s/m'), or app.control.rate_limit at "
                             "run time: %(celery)s lines) is a token bucket inside each worker: it knows nothing "
                             "of the others, so N workers run N times the rate; and a worker started later "
                             "starts with the task's own limit, as the broadcast reached only those running. By "
                             "hand (%(rabbitmq)s lines): the API publishes the setting once to a fanout exchange "
                             "(RabbitMQ's tutorial 3), every consumer's own queue gets a copy, and a one-message "
                             "queue keeps the latest for a consumer that starts later; for the class, each "
                             "consumer takes the limit ÷ the consumers the broker counts on its queue."),
        presets=(
            Preset("limit-celery", lazy_gettext("Celery: %(rate)s/min per worker"), action="rate-limit",
                   options={"methods": ["celery"], "per_minute": RATE_PER_MINUTE, "scope": "worker"}),
            Preset("limit-rabbitmq", lazy_gettext("RabbitMQ: %(rate)s/min per consumer"), action="rate-limit",
                   options={"methods": ["rabbitmq"], "per_minute": RATE_PER_MINUTE, "scope": "worker"}),
            Preset("send-short", lazy_gettext("send %(jobs)s short jobs each way"),
                   jobs=both_ways(0.2, count=RATE_JOBS)),
            Preset("measure", lazy_gettext("measure the last minute"), action="measure-rate"),
            Preset("limit-class", lazy_gettext("RabbitMQ: %(rate)s/min for the class"), action="rate-limit",
                   options={"methods": ["rabbitmq"], "per_minute": RATE_PER_MINUTE, "scope": "class"}),
            Preset("lift", lazy_gettext("lift both limits"), action="rate-limit",
                   options={"methods": ["celery", "rabbitmq"], "per_minute": None, "scope": "worker"}),
        ),
        line_counts="rate-limits",
    ),
    # ---- the results lesson (README: Results): the way back, both ways, and its four traps
    Experiment(
        id="results",
        title=lazy_gettext("Results back: Celery's way and by hand"),
        try_this=lazy_gettext("Send a job that keeps its result by Celery on each broker, and a RabbitMQ job "
                              "that asks for a reply. When the rows are DONE, press AsyncResult on the Celery "
                              "rows and reply on the RabbitMQ one."),
        watch=lazy_gettext("Every DONE row shows the job's answer (= 1 + 2 + … + n). AsyncResult asks "
                           "Celery's backend: SUCCESS and the same value. reply shows the consumer's own "
                           "answer, found by its correlation_id, with the worker and attempt that made it."),
        because=lazy_gettext("Celery: a result backend (rpc:// on RabbitMQ, Redis on Redis), ignore_result="
                             "False for this job, and AsyncResult read in the thread that sent the task — "
                             "%(celery)s lines. By hand, as RabbitMQ's tutorial 6: the publisher sets "
                             "reply_to and a correlation_id, the consumer publishes its answer there before "
                             "the ack, and the API files each reply on the row its correlation_id names — "
                             "%(rabbitmq)s lines. The page never calls .get(): a web thread that waits for a "
                             "job is one no student can use."),
        presets=(
            Preset("keep-result-each-celery", lazy_gettext("keep the result, by Celery on each broker"),
                   jobs=each_celery(1, keep_result=True)),
            Preset("reply-rabbitmq", lazy_gettext("ask for a reply, by RabbitMQ"), jobs=(rabbitmq(1, reply=True),)),
        ),
        line_counts="results",
    ),
    Experiment(
        id="get-in-task",
        title=lazy_gettext("Trap: .get() inside a task"),
        try_this=lazy_gettext("Send a Celery job whose task waits for a result inside itself "
                              "(`AsyncResult(…).get()`, as code that waits for a subtask does)."),
        watch=lazy_gettext("ERROR at once, in Celery's own words: 'Never call result.get() within a "
                           "task!'. The job never ran."),
        because=lazy_gettext("A task that waits for another task holds its worker while the other one "
                             "waits for a worker. With one pool process per worker, as here, that is a "
                             "deadlock; with more, a class's worth of waiting tasks uses them all up. So "
                             "Celery refuses before waiting (disable_sync_subtasks). Chain the tasks "
                             "instead — the next one gets the result — or let a callback run when it "
                             "arrives."),
        presets=(
            Preset("get-in-task", lazy_gettext(".get() inside a Celery task"), jobs=(celery(1, get_in_task=True),)),
        ),
    ),
    Experiment(
        id="rpc-once",
        title=lazy_gettext("Trap: a rpc:// result has one reader"),
        try_this=lazy_gettext("Send a few Celery jobs that keep their result (rpc://) and press 'count unread "
                              "results' before reading any. Then press AsyncResult on a DONE row several "
                              "times (compose and `make run` start two API processes, which take turns), "
                              "and count again."),
        watch=lazy_gettext("Before any read, the results wait as messages in one queue named after the "
                           "API process and thread that sent them (its oid; the management UI lists it). "
                           "The first read takes them all off the broker. Then the process that sent "
                           "the job answers SUCCESS, and the other one PENDING, naming the process that "
                           "has it."),
        because=lazy_gettext("rpc:// keeps no state: the worker sends each result as a message to the reply "
                             "queue of the client that sent the task, and Celery takes it from there "
                             "(basic_get) — once. From then on only that process's memory has it: a "
                             "restart loses it, and no other process can read it. For results that any "
                             "process may read, again and again, use a backend that stores them: Redis or "
                             "a database."),
        presets=(
            Preset("keep-result-rpc", lazy_gettext("3 jobs that keep their result (rpc://)"),
                   jobs=(celery(1, keep_result=True, count=3),)),
            Preset("count-unread-rpc", lazy_gettext("count unread results"), action="count-results"),
        ),
    ),
    Experiment(
        id="result-expiry",
        title=lazy_gettext("Trap: results expire"),
        try_this=lazy_gettext("Send a job that keeps its result by Celery on each broker, press AsyncResult "
                              "on the DONE rows, and again after RESULT_EXPIRES_S (%(expires)s s here; for a "
                              "class, start the lab with `RESULT_EXPIRES_S=60 make run`)."),
        watch=lazy_gettext("Redis: AsyncResult says how long the key has left, and after that PENDING — "
                           "while the table still says DONE, with the answer. rpc://: a result nobody "
                           "read goes with its reply queue, which RabbitMQ deletes once nobody has used "
                           "it for RESULT_EXPIRES_S (the queue's x-expires)."),
        because=lazy_gettext("result_expires (a day by default in Celery) stops a backend from growing "
                             "for ever: Redis deletes the key celery-task-meta-<id> at its TTL. And Celery "
                             "cannot tell a forgotten result from a job it never heard of: both are "
                             "PENDING. Keep what must last in a database of your own — here, the table."),
        presets=(
            Preset("keep-result-expiry", lazy_gettext("keep the result, by Celery on each broker"),
                   jobs=each_celery(0.5, keep_result=True)),
        ),
    ),
    Experiment(
        id="results-pile-up",
        title=lazy_gettext("Trap: results nobody reads pile up"),
        try_this=lazy_gettext("Send 20 jobs that keep their result by Celery on each broker, read none, "
                              "and press 'count unread results'."),
        watch=lazy_gettext("Redis: 20 more keys celery-task-meta-…, each kept until it expires. RabbitMQ "
                           "rpc://: 20 more messages ready in this API process's reply queue (the "
                           "management UI's Queues tab shows it too)."),
        because=lazy_gettext("A backend keeps every result it is given, read or not: memory in Redis, "
                             "messages in RabbitMQ, until they expire. A job whose result nobody reads "
                             "should not keep one: send it fire-and-forget (ignore_result, this lab's "
                             "default, where the table is where results go)."),
        presets=(
            Preset("keep-result-20-each", lazy_gettext("20 jobs that keep their result, by Celery on each broker"),
                   jobs=each_celery(0, keep_result=True, count=20)),
            Preset("count-unread-pile-up", lazy_gettext("count unread results"), action="count-results"),
        ),
    ),
    Experiment(
        id="canvas",
        title=lazy_gettext("Canvas: a chain and a chord, both ways"),
        try_this=lazy_gettext("Send a chain of 3 (each job takes the result of the one before) by Celery and "
                              "by RabbitMQ. Then send a chord of 3 (three jobs, then a callback that takes "
                              "all three results) by Celery on Redis, by Celery on RabbitMQ (rpc://) and by "
                              "hand. Last, a chain whose jobs fail."),
        watch=lazy_gettext("Under each job's number, ← names the jobs whose result it takes and → the job "
                           "after it. A step waits PENDING until the jobs before it are DONE, and its "
                           "answer adds theirs to its own. Celery on rpc:// refuses the chord at once, in "
                           "its own words ('The \"rpc\" result backend does not support chords!'), and "
                           "each of its rows ends ERROR. A chain whose job fails stops there: each later "
                           "step ends ERROR and names the job it waited for."),
        because=lazy_gettext("Celery's chain carries the rest of the chain in its first message: each worker "
                             "sends the next step with its result, and nobody keeps any state. A chord "
                             "must count its finished members somewhere: in the result backend. Redis "
                             "keeps the count; rpc:// has nowhere to, so Celery refuses (%(celery)s lines "
                             "for both). By hand (%(rabbitmq)s lines), the table is that place: every "
                             "step's row is written first, with the jobs it follows, and when a job "
                             "reports DONE the API sends on each step whose jobs are all DONE, with their "
                             "results. Either way, joining is state: that is why a chord needs a backend."),
        presets=(
            Preset("chain-both-ways", lazy_gettext("a chain of 3, both ways"),
                   jobs=both_ways(1, count=3, canvas="chain")),
            Preset("chord-each-celery", lazy_gettext("a chord of 3, by Celery on Redis and on RabbitMQ (rpc://)"),
                   jobs=(celery_redis(1, count=3, canvas="chord"), celery(1, count=3, canvas="chord"))),
            Preset("chord-by-hand", lazy_gettext("a chord of 3, by hand"), jobs=(rabbitmq(1, count=3, canvas="chord"),)),
            Preset("chain-fails", lazy_gettext("a chain of 3 whose jobs fail, both ways"),
                   jobs=both_ways(1, count=3, canvas="chain", fail=True)),
        ),
        line_counts="canvas",
    ),
)


def experiments(rabbitmq_version: str | None, settings) -> list[dict]:
    """The table in the reader's language, with this lab's facts filled in: `rabbitmq_version` (what
    the management API says this broker is; None when it cannot say), and from `settings` the quorum
    queue's delivery limit, Redis's visibility timeout and how long results are kept, as this lab
    runs them (each card adds its own line counts)."""
    facts = {"limit": settings.quorum_delivery_limit,
             "timeout": format(settings.redis_visibility_timeout_s, "g"),
             "expires": format(settings.result_expires_s, "g"),
             "version": rabbitmq_version or gettext("(unknown: the management API did not say)"),
             "rate": RATE_PER_MINUTE, "jobs": RATE_JOBS}
    return [experiment.to_json(facts) for experiment in EXPERIMENTS]
