"""The raw path's queues, declared the same way by the publisher and the consumer (either may
start first). Everything the fault lab shows on the raw side is in these arguments:

    Q           the work queue. A rejected message (basic_nack, requeue=False) is dead-lettered
                to Q.wait: that is how a failed attempt waits before its retry.
    Q.wait      holds it RETRY_DELAY_S (x-message-ttl), then dead-letters it back to Q. The broker
                records each trip in the message's `x-death` header: that is the attempt count.
    Q.dead      where a job goes when its attempts run out (or its message is not a job).
    Q.delay     "start in N seconds": a message with a per-message TTL (expiration) waits here and
                is dead-lettered to Q when it expires. Caveat: RabbitMQ expires only at the head
                of a queue, so a long delay in front blocks a shorter one behind it.

The wait is one fixed delay, not an exponential backoff: growing delays need a queue per level
and a client republish, and since RabbitMQ 3.13 a republished message no longer carries its
`x-death` count (x-headers belong to the broker). Celery's retry_backoff does grow (celery_tasks).
"""
from __future__ import annotations

from api.settings import Settings

DEFAULT_EXCHANGE = ""  # routes by queue name: the dead-letter "exchange" for all our hops


def wait_queue(queue: str) -> str:
    return f"{queue}.wait"


def dead_queue(queue: str) -> str:
    return f"{queue}.dead"


def delay_queue(queue: str) -> str:
    return f"{queue}.delay"


def declare_topology(channel, queue: str, settings: Settings) -> None:
    # [retries: begin] (counted on the page: lines each method needs for retries)
    channel.queue_declare(queue=queue, durable=True, arguments={
        "x-dead-letter-exchange": DEFAULT_EXCHANGE,
        "x-dead-letter-routing-key": wait_queue(queue),
    })
    channel.queue_declare(queue=wait_queue(queue), durable=True, arguments={
        "x-message-ttl": int(settings.retry_delay_s * 1000),
        "x-dead-letter-exchange": DEFAULT_EXCHANGE,
        "x-dead-letter-routing-key": queue,
    })
    channel.queue_declare(queue=dead_queue(queue), durable=True)
    # [retries: end]
    channel.queue_declare(queue=delay_queue(queue), durable=True, arguments={
        "x-dead-letter-exchange": DEFAULT_EXCHANGE,
        "x-dead-letter-routing-key": queue,
    })


# [retries: begin]
def attempt_number(headers: dict | None, queue: str) -> int:
    """1 + how many times the broker dead-lettered this message out of `queue` after a failure."""
    for death in (headers or {}).get("x-death", []):
        if death.get("queue") == queue and death.get("reason") == "rejected":
            return 1 + int(death.get("count", 0))
    return 1
# [retries: end]
