"""The instructor's class reset: purge our two queues and clear the table (and departed workers)."""
from __future__ import annotations

import pika
import pika.exceptions

from api.job_store import JobStore
from api.raw_publisher import BrokerUnavailable
from api.worker_registry import WorkerRegistry
from queue_lab.broker_connection import connection_parameters
from queue_lab.settings import Settings


def purge_our_queues(settings: Settings) -> dict[str, int]:
    """Messages removed per queue. Only Queue Lab's queues: the broker may be shared."""
    purged = {}
    try:
        connection = pika.BlockingConnection(connection_parameters(settings))
    except (pika.exceptions.AMQPError, OSError) as exc:
        raise BrokerUnavailable(settings.broker_hint) from exc
    try:
        for name in (settings.queues.raw.work, settings.queues.quorum.work, settings.queues.celery):
            channel = connection.channel()
            try:
                purged[name] = channel.queue_purge(queue=name).method.message_count
                channel.close()
            except pika.exceptions.ChannelClosedByBroker:  # 404: never declared, nothing to purge
                purged[name] = 0
    finally:
        connection.close()
    return purged


def reset_class(settings: Settings, store: JobStore, registry: WorkerRegistry) -> dict:
    purged = purge_our_queues(settings)  # first: a queued job must not run after its row is gone
    deleted = store.reset()
    registry.clear()
    return {"purged": purged, "deleted_jobs": deleted}
