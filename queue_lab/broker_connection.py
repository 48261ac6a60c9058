"""How every Queue Lab process connects to RabbitMQ with pika: the publisher in the API, the raw
consumer, the class reset and the health check. Fail fast, never hang, and name the connection."""
from __future__ import annotations

import pika

from queue_lab.settings import Settings


def connection_parameters(settings: Settings, heartbeat: int | None = None,
                          name: str = "queue-lab") -> pika.URLParameters:
    """`name` is what the management UI's Connections tab shows for this connection."""
    params = pika.URLParameters(settings.rabbitmq_url)
    params.client_properties = {"connection_name": name}
    params.connection_attempts = 1
    params.socket_timeout = settings.broker_timeout
    params.stack_timeout = settings.broker_timeout
    params.blocked_connection_timeout = settings.broker_timeout * 2
    if heartbeat is not None:
        params.heartbeat = heartbeat
    return params
