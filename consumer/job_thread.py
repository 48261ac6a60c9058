"""Running jobs off the pika thread, so the connection keeps sending heartbeats during long jobs.

pika's BlockingConnection only talks to the broker while its own thread is inside pika. A job that
sleeps in the message callback starves the heartbeat and the broker drops the connection. So the
callback only hands the message to this one worker thread, and the ack comes back through
`connection.add_callback_threadsafe` — the one pika call that is safe from another thread.

What happens to a message after its job, decided in `run_one`:
    done, or failed for good (`fail`)   ack                 (the row says DONE / ERROR)
    flaky, attempts left                nack, no requeue     → Q.wait → back to Q after the delay
    flaky, attempts used up             copy to Q.dead, ack  (ERROR "gave up after N attempts")
    not a job (breaks the contract)     copy to Q.dead with the reason, ack (queue_lab/job_message.py)
    a job the table does not hold       copy to Q.dead ("no such job"), ack — it never runs
    a job that has already ended        ack, skipped ("already DONE") — it never runs again
    its row ended while it ran          stops at the next step, ack (a class reset, or ended elsewhere)
    abandoned on shutdown               nothing: unacked, RabbitMQ redelivers it

The last three are the API's answer to the job's start report (and to its progress reports).

On the quorum work queue (CONSUMER_QUEUE_TYPE=quorum) the broker does the counting: each delivery of
a message that came back carries `x-delivery-count`, and past QUORUM_DELIVERY_LIMIT the queue
dead-letters it by itself. The poison job shows it: it crashes this process on every delivery.
"""
from __future__ import annotations

import functools
import json
import logging
import os
import queue
import threading

import pika
import pika.exceptions

from queue_lab.job_states import ERROR, RETRYING
from queue_lab.queues import QuorumQueues, attempt_number
from queue_lab.rate_limit import Limiter
from queue_lab.settings import Settings
from queue_lab.job_message import JobSpec, NotAJob
from queue_lab.timed_job import (
    FlakyFailure, JobFailed, JobInterrupted, JobRefused, ReportStatus, run_timed_job,
)

log = logging.getLogger("queue_lab.consumer")


def _ack(channel, delivery_tag: int) -> None:
    if channel.is_open:
        channel.basic_ack(delivery_tag=delivery_tag)
    else:  # the connection dropped while the job ran: RabbitMQ redelivers it (a new attempt)
        print(f" [!] could not ack message {delivery_tag}: its channel is closed; it will be redelivered",
              flush=True)


# [results: begin] (counted on the page: lines each method needs to get a result back)
def _reply_then_ack(channel, delivery_tag: int, properties, reply: dict) -> None:
    """RabbitMQ tutorial 6, the server's half: publish the reply to the sender's `reply_to` queue with
    its `correlation_id`, then ack. The properties are a stranger's too: a reply that cannot be
    published (no such queue is fine: the default exchange drops it) is logged, and the job is acked."""
    if channel.is_open:
        try:
            channel.basic_publish("", str(properties.reply_to), json.dumps(reply).encode(), pika.BasicProperties(
                correlation_id=properties.correlation_id, content_type="application/json", delivery_mode=2))
            print(f" [.] Replied #{reply['task_num']} to {properties.reply_to} ({properties.correlation_id})", flush=True)
        except (pika.exceptions.AMQPError, ValueError, TypeError) as exc:
            print(f" [!] could not reply #{reply['task_num']} to {properties.reply_to!r}: {exc!r}", flush=True)
    _ack(channel, delivery_tag)
# [results: end]


# [retries: begin] (counted on the page: lines each method needs for retries)
def _retry_later(channel, delivery_tag: int) -> None:
    """nack without requeue: the work queue dead-letters it to its wait queue (x-message-ttl)."""
    if channel.is_open:
        channel.basic_nack(delivery_tag=delivery_tag, requeue=False)


def _bury(channel, delivery_tag: int, dead_queue: str, body: bytes, properties, reason: str,
          field: str | None = None) -> None:
    """Copy the message to the dead-letter queue (confirmed), with why (and which field) in its
    headers, then ack the original."""
    if not channel.is_open:
        return
    headers = {k: v for k, v in (properties.headers or {}).items() if not str(k).startswith("x-")}
    headers["queue-lab-reason"] = reason[:1000]
    if field is not None:
        headers["queue-lab-field"] = field
    channel.basic_publish(exchange="", routing_key=dead_queue, body=body,
                          properties=pika.BasicProperties(
                              delivery_mode=pika.DeliveryMode.Persistent,
                              content_type=properties.content_type, headers=headers))
    channel.basic_ack(delivery_tag=delivery_tag)
# [retries: end]


def _count(value) -> int:
    """A broker's delivery count; 0 for anything else a stranger's header might hold."""
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**31 else 0


class JobThread:
    """One job at a time, in order of arrival, like a single worker in the tutorial."""

    def __init__(self, report: ReportStatus, settings: Settings):
        self.report = report
        self.settings = settings
        self.queues = settings.consumer_queues
        self.quorum = isinstance(self.queues, QuorumQueues)
        self.abandon = threading.Event()  # set on a second Ctrl-C: stop the running job, don't ack
        self.limiter = Limiter()  # the hand-written rate limit (queue_lab/rate_limit.py)
        self._stopping = threading.Event()  # a graceful stop: a job waiting for its turn goes back
        self._inbox: queue.Queue = queue.Queue()
        self._busy = threading.Event()
        threading.Thread(target=self._run_forever, name="job-thread", daemon=True).start()

    def submit(self, connection, channel, delivery_tag: int, properties, body: bytes) -> None:
        self._busy.set()
        self._inbox.put((connection, channel, delivery_tag, properties, body))

    def drop_waiting(self) -> int:
        """Forget prefetched messages not started yet; unacked, they go back to the queue on close."""
        self._stopping.set()
        dropped = 0
        while True:
            try:
                self._inbox.get_nowait()
                dropped += 1
            except queue.Empty:
                return dropped

    def idle(self) -> bool:
        return not self._busy.is_set() and self._inbox.empty()

    def _run_forever(self) -> None:
        while True:
            connection, channel, delivery_tag, properties, body = self._inbox.get()
            try:
                try:
                    settle = self.run_one(channel, delivery_tag, properties, body)
                except Exception as exc:  # a bug of ours: keep the thread, park the message
                    log.exception("consumer crashed on message %s", delivery_tag)
                    settle = functools.partial(_bury, channel, delivery_tag, self.queues.dead,
                                               body, properties, f"the consumer crashed: {exc!r}")
                if settle is not None:
                    try:
                        connection.add_callback_threadsafe(settle)
                    except Exception:  # connection already closed: the broker will redeliver
                        print(f" [!] connection gone before the ack of {delivery_tag}; "
                              "it will be redelivered", flush=True)
            finally:
                if self._inbox.empty():
                    self._busy.clear()

    def run_one(self, channel, delivery_tag: int, properties, body: bytes):
        """Run the job; return how to settle its message (to run on the pika thread), or None."""
        try:
            job = JobSpec.from_body(body)
            if job.poison and not self.quorum:
                raise NotAJob("poison", "poison applies to the quorum queue only: a classic queue counts no "
                                        "deliveries, so the crash would come back for ever")
        except NotAJob as exc:
            return self._refuse(channel, delivery_tag, properties, body, f"not a job: {exc.message}", exc.field)
        if self.quorum:  # the quorum queue counts by itself: x-delivery-count, absent the first time
            returned = _count((properties.headers or {}).get("x-delivery-count"))
            attempt, counted = 1 + returned, {"delivery_count": returned, "counted_by": "x-delivery-count"}
        else:
            # [retries: begin]
            attempt = attempt_number(properties.headers, self.queues.work)  # counted by the broker: x-death
            # [retries: end]
            counted = {"delivery_count": attempt - 1, "counted_by": "x-death"}
        # [rate-limits: begin] (counted on the page: lines each method needs for a rate limit)
        waited = self.limiter.wait(self.abandon, self._stopping)  # unacked meanwhile: held, not lost
        if waited is None:
            print(f" [!] #{job.task_num} was waiting for the rate limit: not acked, RabbitMQ will redeliver it",
                  flush=True)
            return None
        # [rate-limits: end]
        if waited:
            print(f" [.] #{job.task_num} waited {waited:.1f} s for the rate limit", flush=True)
        try:
            answer = run_timed_job(job, self.report, stop=self.abandon, attempt=attempt,
                                   deadline_s=job.time_limit_s, counted=counted,
                                   on_start=functools.partial(self._crash, job, attempt) if job.poison else None)
            print(f" [x] Done #{job.task_num}", flush=True)
            # [results: begin]
            if properties.reply_to:  # RPC by hand: the answer goes back where the sender asked
                reply = {"task_num": job.task_num, "result": answer, "worker_id": self.report.worker_id,
                         "attempt": attempt}
                return functools.partial(_reply_then_ack, channel, delivery_tag, properties, reply)
            # [results: end]
        # [retries: begin]
        except FlakyFailure as exc:
            return self._retry_or_give_up(job, attempt, exc, channel, delivery_tag, properties, body)
        # [retries: end]
        except JobFailed as exc:
            print(f" [x] Failed #{job.task_num}: {exc}", flush=True)  # reported ERROR; acked, not retried
        except JobInterrupted:
            print(f" [!] Abandoned #{job.task_num}: not acked, RabbitMQ will redeliver it", flush=True)
            return None
        except JobRefused as exc:
            if exc.refusal.unknown:  # never one of the table's jobs: park it, with why
                return self._refuse(channel, delivery_tag, properties, body, exc.refusal.reason, "task_num",
                                    tell_the_row=False)
            print(f" [x] Skipped #{job.task_num}: {exc.refusal.reason}", flush=True)  # acked, not run (again)
        except Exception as exc:  # DeadlineExceeded or a bug: reported ERROR by the job; acked
            print(f" [x] Failed #{job.task_num}: {exc}", flush=True)
        return functools.partial(_ack, channel, delivery_tag)

    def _refuse(self, channel, delivery_tag, properties, body: bytes, reason: str, field: str,
                tell_the_row: bool = True):
        """A message that must not run: one terminal line, its row told where there is one, and
        the message parked in the dead queue with the reason in its headers."""
        print(f" [!] Refused ({reason}): moved to {self.queues.refused}", flush=True)
        task_num = JobSpec.task_num_named_in(body)
        if tell_the_row and task_num is not None:  # a row that has ended refuses this quietly
            self.report(task_num, ERROR, message=f"a message for this job was refused ({reason}); "
                                                 f"it went to {self.queues.refused}")
        return functools.partial(_bury, channel, delivery_tag, self.queues.refused, body, properties, reason, field)

    def _crash(self, job: JobSpec, attempt: int) -> None:
        """The poison job: this worker dies on it, as on a message that segfaults its parser. Its
        start report goes first (so the row shows this delivery), then the process is gone without
        an ack, and the queue returns the message: x-delivery-count + 1."""
        print(f" [!] Poison #{job.task_num} (delivery {attempt}): the consumer crashes", flush=True)
        flush = getattr(self.report, "flush", None)
        if flush is not None:
            flush(3)
        os._exit(3)

    def dead_lettered(self, channel, delivery_tag: int, properties, body: bytes) -> None:
        """A message the quorum queue gave up on (past QUORUM_DELIVERY_LIMIT) arrives in its dead
        queue: its row ends ERROR saying so, and the message is acked here (the row keeps the story).
        Anything may arrive here (a stranger can publish to this queue too): nothing it holds may
        raise inside pika's callback, or the consumer would die and meet it again, for ever."""
        reason = "read from the dead queue"
        try:
            task_num = JobSpec.task_num_named_in(body)
            deaths = (properties.headers or {}).get("x-death")
            if task_num is not None and deaths:  # dead-lettered by the broker, not a stranger's message
                death = deaths[0] if isinstance(deaths, list) and isinstance(deaths[0], dict) else {}
                reason = death.get("reason", "delivery_limit")
                reason = reason.decode(errors="replace") if isinstance(reason, bytes) else str(reason)
                limit = self.settings.quorum_delivery_limit
                self.report(task_num, ERROR, dead_lettered=True,
                            message=f"dead-lettered by RabbitMQ ({reason}): more than {limit} failed deliveries, "
                                    f"the quorum queue's delivery limit; the message went to {self.queues.dead}")
                print(f" [x] Dead-lettered #{task_num}: past the delivery limit ({limit})", flush=True)
                reason = f"dead-lettered by RabbitMQ ({reason}): past the delivery limit {limit}"
        except Exception:  # noqa: BLE001 — whatever it was, it is parked as it is and the consumer lives
            log.exception("could not read dead-lettered message %s; parked as it was", delivery_tag)
        _bury(channel, delivery_tag, self.queues.parked, body, properties, reason)  # kept for students to see

    # [retries: begin]
    def _retry_or_give_up(self, job, attempt, exc, channel, delivery_tag, properties, body):
        """The hand-written retry: compare `autoretry_for` + `max_retries` in celery_tasks.py."""
        if attempt < self.settings.max_attempts:
            delay = self.settings.retry_delay_s
            self.report(job.task_num, RETRYING, retry_in_s=delay,
                        message=f"{exc}; retry in {delay:g} s via {self.queues.wait} (TTL)")
            print(f" [x] Retry #{job.task_num}: attempt {attempt} failed, next in {delay:g} s", flush=True)
            return functools.partial(_retry_later, channel, delivery_tag)
        reason = f"gave up after {attempt} attempts: {exc}"
        self.report(job.task_num, ERROR, dead_lettered=True, message=f"{reason}; message moved to {self.queues.dead}")
        print(f" [x] Gave up #{job.task_num} after {attempt} attempts: moved to {self.queues.dead}",
              flush=True)
        return functools.partial(_bury, channel, delivery_tag, self.queues.dead, body, properties, reason)
    # [retries: end]
