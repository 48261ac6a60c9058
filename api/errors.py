"""Every error the API sends is JSON with an `error` a person can act on — never an HTML traceback —
in the request's language (api/i18n.py: English when the request names none)."""
from __future__ import annotations

import logging

from flask import Flask, jsonify
from flask_babel import gettext
from werkzeug.exceptions import HTTPException

from api.job_store import TooManyWaiting, UnknownTask
from api.queue_stats import redis_unreachable
from api.raw_publisher import BrokerUnavailable
from api.state import lab
from api.validation import BadField
from queue_lab.settings import redact_url

log = logging.getLogger("queue_lab.api")


def broker_error(exc: BrokerUnavailable) -> str:
    """What a person reads when RabbitMQ is away (the rows keep the English text: they are data)."""
    settings = lab().settings
    if exc.unreachable == "redis":
        return redis_unreachable(settings)
    if exc.unreachable != "rabbitmq":
        return str(exc)
    return gettext("RabbitMQ is not reachable at %(url)s — start it with `docker compose up -d rmq` (or "
                   "`rabbitmq-server -detached`), or set RABBITMQ_URL", url=redact_url(settings.rabbitmq_url))


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(BadField)
    def bad_field(exc: BadField):
        return jsonify(error=exc.message, field=exc.field), 400

    @app.errorhandler(UnknownTask)
    def unknown_task(exc: UnknownTask):
        return jsonify(error=gettext("no task number %(num)s", num=exc.args[0]), field="task_num"), 404

    @app.errorhandler(TooManyWaiting)
    def class_is_full(exc: TooManyWaiting):
        """Backpressure: the shared queues are full enough; say how full and what to do."""
        return jsonify(
            error=gettext("%(waiting)s jobs are already waiting in the class’s queues and the limit is "
                          "%(limit)s (MAX_WAITING_JOBS): %(asked)s more would pass it. Wait for some to "
                          "finish, send fewer, or ask the instructor to start more workers.",
                          waiting=exc.waiting, limit=exc.limit, asked=exc.asked),
            field="count", waiting=exc.waiting, limit=exc.limit), 429, {"Retry-After": "10"}

    @app.errorhandler(BrokerUnavailable)
    def broker_down(exc: BrokerUnavailable):
        return jsonify(error=broker_error(exc)), 503

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        return jsonify(error=gettext("%(name)s: %(description)s", name=exc.name, description=exc.description)), exc.code

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        log.exception("unexpected error")
        return jsonify(error=gettext("internal error (%(kind)s); see the API log", kind=type(exc).__name__)), 500
