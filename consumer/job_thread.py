"""Running jobs off the pika thread, so the connection keeps sending heartbeats during long jobs.

pika's BlockingConnection only talks to the broker while its own thread is inside pika. A job that
sleeps in the message callback starves the heartbeat and the broker drops the connection. So the
callback only hands the message to this one worker thread, and the ack comes back through
`connection.add_callback_threadsafe` — the one pika call that is safe from another thread.
"""
from __future__ import annotations

import functools
import json
import logging
import queue
import threading

from api.timed_job import JobFailed, JobInterrupted, JobSpec, ReportStatus, run_timed_job

log = logging.getLogger("queue_lab.consumer")


def _ack(channel, delivery_tag: int) -> None:
    if channel.is_open:
        channel.basic_ack(delivery_tag=delivery_tag)
    else:  # the connection dropped while the job ran: RabbitMQ redelivers it (a new attempt)
        print(f" [!] could not ack message {delivery_tag}: its channel is closed; it will be redelivered",
              flush=True)


def _reject(channel, delivery_tag: int) -> None:
    if channel.is_open:
        channel.basic_nack(delivery_tag=delivery_tag, requeue=False)


class JobThread:
    """One job at a time, in order of arrival, like a single worker in the tutorial."""

    def __init__(self, report: ReportStatus):
        self.report = report
        self.abandon = threading.Event()  # set on a second Ctrl-C: stop the running job, don't ack
        self._inbox: queue.Queue = queue.Queue()
        self._busy = threading.Event()
        threading.Thread(target=self._run_forever, name="job-thread", daemon=True).start()

    def submit(self, connection, channel, delivery_tag: int, body: bytes) -> None:
        self._busy.set()
        self._inbox.put((connection, channel, delivery_tag, body))

    def drop_waiting(self) -> int:
        """Forget prefetched messages not started yet; unacked, they go back to the queue on close."""
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
            connection, channel, delivery_tag, body = self._inbox.get()
            try:
                settle = self._run_one(channel, delivery_tag, body)
                if settle is not None:
                    try:
                        connection.add_callback_threadsafe(settle)
                    except Exception:  # connection already closed: the broker will redeliver
                        print(f" [!] connection gone before the ack of {delivery_tag}; "
                              "it will be redelivered", flush=True)
            finally:
                if self._inbox.empty():
                    self._busy.clear()

    def _run_one(self, channel, delivery_tag: int, body: bytes):
        """Run the job; return the ack (or reject) to schedule on the pika thread, or None."""
        try:
            job = JobSpec.from_message(json.loads(body))
        except (ValueError, KeyError, TypeError) as exc:
            print(f" [!] Rejected a message that is not a job ({exc!r}): {body[:100]!r}", flush=True)
            return functools.partial(_reject, channel, delivery_tag)
        try:
            run_timed_job(job, self.report, stop=self.abandon)
            print(f" [x] Done #{job.task_num}", flush=True)
        except JobFailed as exc:
            print(f" [x] Failed #{job.task_num}: {exc}", flush=True)  # reported ERROR; acked, not retried
        except JobInterrupted:
            print(f" [!] Abandoned #{job.task_num}: not acked, RabbitMQ will redeliver it", flush=True)
            return None
        except Exception:
            log.exception("job %s crashed; reported ERROR and acked", job.task_num)
        return functools.partial(_ack, channel, delivery_tag)
