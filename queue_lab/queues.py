"""Every queue Queue Lab uses, named in one place (`queue_layout`), and the raw path's topology,
declared the same way by the publisher and the consumer (either may start first).

From the two settings RAW_QUEUE (Q) and CELERY_QUEUE (C) come all the names:

    Q           the raw work queue (the threaded consumer). A rejected message (basic_nack,
                requeue=False) is dead-lettered to Q.wait: that is how a failed attempt waits.
    Q.wait      holds it RETRY_DELAY_S (x-message-ttl), then dead-letters it back to Q. The broker
                records each trip in the message's `x-death` header: that is the attempt count.
    Q.dead      where a job goes when its attempts run out (or its message is not a job).
    Q.delay     "start in N seconds": a message with a per-message TTL (expiration) waits here and
                is dead-lettered to Q when it expires. Caveat: RabbitMQ expires only at the head
                of a queue, so a long delay in front blocks a shorter one behind it.
    Q.naive     the naive consumer's work queue (with its own .wait, .dead, .delay), so the
                heartbeat-starvation experiment is opt-in.
    Q.quorum    a *quorum* work queue (CONSUMER_QUEUE_TYPE=quorum), for the poison-message lesson:
                the broker itself counts each failed delivery (`x-delivery-count`) and, past
                QUORUM_DELIVERY_LIMIT, dead-letters the message to Q.quorum.dead — no wait queue,
                no hand-written counting. (RabbitMQ 4.0 made 20 the default limit; we set ours.)
    Q.quorum.dead  where the quorum queue dead-letters a message past its delivery limit. The
                quorum consumer reads it (to end the job's row ERROR, saying so) and moves every
                message on to Q.quorum.parked, where it stays for students to look at.
    Q.quorum.parked  dead-lettered quorum messages, and those the quorum consumer refused to run.
    C           Celery's queue, for the late-ack workers.
    C.early     Celery's queue for the early-ack profile (CELERY_ACK_MODE=early).
    C.long      the long lane: where task_routes sends process_long_task (celery_app.py), consumed
                only by the worker started with `-Q C.long` (celery_worker_long), so long jobs never
                hold up the short ones behind them in C.
    C.maintenance  the sweeper's queue, consumed by the celery_beat process only.
    Q.control   a fanout exchange, and Q.control.last the one-message queue bound to it: the
                hand-written rate limit's way to every raw consumer (queue_lab/rate_limit.py).
    Q.direct, Q.topic  a direct and a topic exchange: routing by hand (queue_lab/routing.py), into
                Q.routed.<name>, the queues consumers started with CONSUMER_BINDS declare and bind
                themselves (each with its own .wait, .dead and .delay).

The wait is one fixed delay, not an exponential backoff: growing delays need a queue per level
and a client republish, and since RabbitMQ 3.13 a republished message no longer carries its
`x-death` count (x-headers belong to the broker). Celery's retry_backoff does grow (celery_tasks).
"""
from __future__ import annotations

from dataclasses import dataclass

DEFAULT_EXCHANGE = ""  # routes by queue name: the dead-letter "exchange" for all our hops


@dataclass(frozen=True)
class RawQueues:
    """A raw work queue and the three queues around it."""

    work: str

    @property
    def wait(self) -> str:
        return f"{self.work}.wait"

    @property
    def dead(self) -> str:
        return f"{self.work}.dead"

    @property
    def delay(self) -> str:
        return f"{self.work}.delay"

    @property
    def refused(self) -> str:
        """Where a worker parks a message it will not run (not a job, or no such job)."""
        return self.dead

    def names(self) -> tuple[str, ...]:
        return (self.work, self.wait, self.dead, self.delay)


@dataclass(frozen=True)
class QuorumQueues:
    """A quorum work queue and the queue its delivery limit dead-letters into."""

    work: str

    @property
    def dead(self) -> str:
        return f"{self.work}.dead"

    @property
    def parked(self) -> str:
        return f"{self.work}.parked"

    @property
    def refused(self) -> str:
        """Not Q.quorum.dead: the consumer reads that one, and would take back what it parked there."""
        return self.parked

    def names(self) -> tuple[str, ...]:
        return (self.work, self.dead, self.parked)


@dataclass(frozen=True)
class QueueLayout:
    raw: RawQueues
    naive: RawQueues
    quorum: QuorumQueues
    celery: str
    celery_early: str
    celery_long: str
    maintenance: str

    @property
    def replies(self) -> str:
        """Where the raw path's replies go (RPC by hand, RabbitMQ tutorial 6): the API's own queue,
        one for every API process, so any of them collects any reply into the table."""
        return f"{self.raw.work}.replies"

    @property
    def control(self) -> str:
        """The raw consumers' control exchange (fanout): the hand-written rate limit reaches each
        of them through it (queue_lab/rate_limit.py)."""
        return f"{self.raw.work}.control"

    @property
    def control_last(self) -> str:
        """The queue that keeps the latest control message, for a consumer that starts later."""
        return f"{self.raw.work}.control.last"

    @property
    def exchanges(self) -> dict[str, str]:
        """The routing lesson's exchanges by kind: {"direct": Q.direct, "topic": Q.topic}."""
        return {"direct": f"{self.raw.work}.direct", "topic": f"{self.raw.work}.topic"}

    def exchange_names(self) -> tuple[str, ...]:
        """Every exchange of ours (the control one and the routing lesson's), for cleaning up."""
        return (self.control, *self.exchanges.values())

    def routed(self, name: str) -> RawQueues:
        """A routed consumer's own queue, Q.routed.<name>, and the three around it."""
        return RawQueues(f"{self.raw.work}.routed.{name}")

    def celery_queues(self) -> tuple[str, ...]:
        """The queues Celery's workers take a student's job from: the default, .early and the long lane."""
        return (self.celery, self.celery_early, self.celery_long)

    def names(self) -> tuple[str, ...]:
        """Every queue name, for cleaning up exactly what is ours on a shared broker."""
        return (*self.students_queues(), self.maintenance, self.replies, self.control_last)

    def students_queues(self) -> tuple[str, ...]:
        """Every queue that can hold a student's job (what a class reset empties): all but the
        sweeper's maintenance queue."""
        return (*self.raw.names(), *self.naive.names(), *self.quorum.names(), *self.celery_queues())


def queue_layout(raw_queue: str, celery_queue: str) -> QueueLayout:
    """All of Queue Lab's queue names, from RAW_QUEUE and CELERY_QUEUE (see the table above)."""
    return QueueLayout(
        raw=RawQueues(raw_queue),
        naive=RawQueues(f"{raw_queue}.naive"),
        quorum=QuorumQueues(f"{raw_queue}.quorum"),
        celery=celery_queue,
        celery_early=f"{celery_queue}.early",
        celery_long=f"{celery_queue}.long",
        maintenance=f"{celery_queue}.maintenance",
    )


def declare_topology(channel, queues: RawQueues | QuorumQueues, retry_delay_s: float,
                     delivery_limit: int) -> None:
    """Both sides call this with the same settings (RabbitMQ refuses a redeclare with other arguments)."""
    if isinstance(queues, QuorumQueues):
        channel.queue_declare(queue=queues.work, durable=True, arguments={
            "x-queue-type": "quorum",
            "x-delivery-limit": delivery_limit,  # failed deliveries before the broker gives up on it
            "x-dead-letter-exchange": DEFAULT_EXCHANGE,
            "x-dead-letter-routing-key": queues.dead,
        })
        channel.queue_declare(queue=queues.dead, durable=True)
        channel.queue_declare(queue=queues.parked, durable=True)
        return
    # [retries: begin] (counted on the page: lines each method needs for retries)
    channel.queue_declare(queue=queues.work, durable=True, arguments={
        "x-dead-letter-exchange": DEFAULT_EXCHANGE,
        "x-dead-letter-routing-key": queues.wait,
    })
    channel.queue_declare(queue=queues.wait, durable=True, arguments={
        "x-message-ttl": int(retry_delay_s * 1000),
        "x-dead-letter-exchange": DEFAULT_EXCHANGE,
        "x-dead-letter-routing-key": queues.work,
    })
    channel.queue_declare(queue=queues.dead, durable=True)
    # [retries: end]
    channel.queue_declare(queue=queues.delay, durable=True, arguments={
        "x-dead-letter-exchange": DEFAULT_EXCHANGE,
        "x-dead-letter-routing-key": queues.work,
    })


# [retries: begin]
def attempt_number(headers: dict | None, work_queue: str) -> int:
    """1 + how many times the broker dead-lettered this message out of `work_queue` after a failure."""
    deaths = (headers or {}).get("x-death")
    for death in deaths if isinstance(deaths, list) else []:  # a stranger may have sent anything here
        if isinstance(death, dict) and death.get("queue") == work_queue and death.get("reason") == "rejected":
            count = death.get("count", 0)
            return 1 + (count if isinstance(count, int) and 0 <= count < 2**31 else 0)
    return 1
# [retries: end]

if __name__ == "__main__":  # `python -m queue_lab.queues`: the names, as RAW_QUEUE/CELERY_QUEUE make them
    from queue_lab.settings import Settings

    for name in Settings.from_env().queues.names():
        print(name)
