"""Publishing a job straight to RabbitMQ with pika — the raw path, written out so it can be read.

The three promises are one line each: a durable queue (survives a broker restart), persistent
messages (delivery_mode 2, written to disk), and publisher confirms (the broker says "got it"
before we answer 202). A pika connection is not thread-safe, so each web thread keeps its own.
"""
from __future__ import annotations

import threading

import pika
import pika.exceptions

from queue_lab.broker_connection import connection_parameters
from queue_lab.queues import QuorumQueues, RawQueues, declare_topology
from queue_lab.rate_limit import declare_control
from queue_lab.routing import declare_exchanges
from queue_lab.settings import Settings, worker_id
from queue_lab.job_message import JobSpec

PERSISTENT = pika.DeliveryMode.Persistent


class BrokerUnavailable(RuntimeError):
    """A broker could not be reached or did not confirm; the message says what to do. `unreachable`
    names the broker that could not be reached ("rabbitmq", "redis"), as a field: the page's sentence
    is chosen from it (api/errors.py), never by comparing texts. None: it answered, and refused."""

    def __init__(self, message: str, unreachable: str | None = None):
        super().__init__(message)
        self.unreachable = unreachable
        self.sent: list[int] = []


class Unroutable(BrokerUnavailable):
    """The exchange had no binding for the message's routing key, and RabbitMQ returned it (312
    NO_ROUTE, because we publish with `mandatory`): bad input, not a broker down. `.key` names it."""

    def __init__(self, message: str, exchange: str, key: str):
        super().__init__(message)
        self.exchange, self.key = exchange, key


class RawPublisher:
    def __init__(self, settings: Settings):
        self.settings = settings
        self._local = threading.local()

    def _channel(self, queues: RawQueues):
        declared = getattr(self._local, "declared", set())
        channel = getattr(self._local, "channel", None)
        if channel is None or not channel.is_open:
            connection = pika.BlockingConnection(
                connection_parameters(self.settings, name=f"queue-lab api publisher {worker_id('')}"))
            channel = connection.channel()
            channel.confirm_delivery()  # basic_publish now waits for the broker's ack
            self._local.channel, declared = channel, set()
        if queues not in declared:  # both sides declare the same queues, so either may start first
            declare_topology(channel, queues, self.settings.retry_delay_s, self.settings.quorum_delivery_limit)
            # [results: begin] (counted on the page: lines each method needs to get a result back)
            channel.queue_declare(queue=self.settings.queues.replies, durable=True)  # ours: the replies come here
            # [results: end]
            declare_control(channel, self.settings.queues.control, self.settings.queues.control_last)
            declare_exchanges(channel, self.settings.queues.exchanges)
            self._local.declared = declared | {queues}
        return channel

    def _forget_channel(self) -> None:
        channel = getattr(self._local, "channel", None)
        self._local.channel = None
        if channel is not None:
            try:
                channel.connection.close()
            except Exception:  # already dead: nothing to close
                pass

    def publish_jobs(self, jobs: list[JobSpec], queues: RawQueues | None = None,
                     delay_s: float = 0.0, reply_ids: dict[int, str] | None = None,
                     route: tuple[str, str] | None = None) -> list[int]:
        """Publish each job to `queues.work` (default RAW_QUEUE), confirmed one by one; with `delay_s`,
        through the delay queue; with `reply_ids` (task_num → correlation_id), asking for a reply on
        the replies queue (RPC by hand); with `route` (exchange kind, routing key), to that exchange
        of the routing lesson, which finds the queues. Returns the task numbers sent.

        Raises BrokerUnavailable carrying `.sent`, so the caller marks only the rest as ERROR.
        """
        queues = queues or self.settings.queues.raw
        delayed = delay_s > 0
        sent: list[int] = []
        try:
            for job in jobs:
                # [results: begin]
                reply = {"reply_to": self.settings.queues.replies, "correlation_id": reply_ids[job.task_num]} \
                    if reply_ids else {}
                # [results: end]
                # [exchanges: begin]
                exchange, key = (self.settings.queues.exchanges[route[0]], route[1]) if route else ("", None)
                # [exchanges: end]
                self._publish_reconnecting_once(
                    f"job {job.task_num}", queues, key or (queues.delay if delayed else queues.work), job.to_body(),
                    expiration=str(int(delay_s * 1000)) if delayed else None,  # per-message TTL, in ms
                    exchange=exchange, **reply)
                sent.append(job.task_num)
        except BrokerUnavailable as exc:
            exc.sent = sent
            raise
        return sent

    def publish_body(self, queues: RawQueues | QuorumQueues, body: bytes) -> None:
        """Any bytes to the work queue, as any client with the password may publish them (the fault
        lab's "stranger's message"): the worker must refuse it, not trust it."""
        self._publish_reconnecting_once("the message", queues, queues.work, body)

    # [rate-limits: begin]
    def publish_control(self, body: bytes) -> None:
        """A setting for every raw consumer (the rate limit): published once to the control exchange,
        which fans it out to each consumer's own queue and to Q.control.last, kept for the next one."""
        self._publish_reconnecting_once("the setting", self.settings.queues.raw, "", body,
                                        exchange=self.settings.queues.control)
    # [rate-limits: end]

    # [results: begin]
    def collect_replies(self, most: int = 1000) -> list[tuple[str | None, bytes]]:
        """Every reply waiting in the replies queue, taken (basic_get, never a wait) and acked:
        (correlation_id, body) — the caller files each one on its job's row."""
        channel = self._channel(self.settings.queues.raw)
        taken = []
        for _ in range(most):
            method, properties, body = channel.basic_get(self.settings.queues.replies)
            if method is None:
                break
            taken.append((properties.correlation_id, body))
            channel.basic_ack(method.delivery_tag)
        return taken
    # [results: end]

    def _publish_reconnecting_once(self, what: str, queues, routing_key: str, body: bytes,
                                   expiration: str | None = None, **options) -> None:
        reused = getattr(self._local, "channel", None) is not None
        try:
            self._publish(queues, routing_key, body, expiration, **options)
        except pika.exceptions.UnroutableError as exc:
            exchange = options.get("exchange", "")
            if exchange:  # the routing lesson: a key nobody bound
                raise Unroutable(f"RabbitMQ returned {what} (312 NO_ROUTE): no queue is bound to exchange "
                                 f"{exchange} with a key matching {routing_key!r}", exchange, routing_key) from exc
            raise BrokerUnavailable(f"RabbitMQ refused {what}: {exc!r}") from exc
        except pika.exceptions.NackError as exc:
            raise BrokerUnavailable(f"RabbitMQ refused {what}: {exc!r}") from exc
        except (pika.exceptions.AMQPError, OSError) as exc:
            self._forget_channel()
            if not reused:
                raise BrokerUnavailable(self.settings.broker_hint, "rabbitmq") from exc
            # The broker may have closed our idle connection (missed heartbeats): one fresh try.
            try:
                self._publish(queues, routing_key, body, expiration, **options)
            except (pika.exceptions.AMQPError, OSError) as again:
                self._forget_channel()
                raise BrokerUnavailable(self.settings.broker_hint, "rabbitmq") from again

    def _publish(self, queues, routing_key: str, body: bytes, expiration: str | None, exchange: str = "",
                 **reply) -> None:
        self._channel(queues).basic_publish(
            exchange=exchange,
            routing_key=routing_key,
            body=body,
            properties=pika.BasicProperties(
                delivery_mode=PERSISTENT, content_type="application/json", expiration=expiration, **reply),
            mandatory=True,  # an unroutable message raises instead of vanishing
        )
