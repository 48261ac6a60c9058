"""Every error the API sends is JSON with an `error` a person can act on — never an HTML traceback."""
from __future__ import annotations

import logging

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

from api.job_store import TooManyWaiting, UnknownTask
from api.raw_publisher import BrokerUnavailable
from api.validation import BadField

log = logging.getLogger("queue_lab.api")


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(BadField)
    def bad_field(exc: BadField):
        return jsonify(error=exc.message, field=exc.field), 400

    @app.errorhandler(UnknownTask)
    def unknown_task(exc: UnknownTask):
        return jsonify(error=f"no task number {exc.args[0]}", field="task_num"), 404

    @app.errorhandler(TooManyWaiting)
    def class_is_full(exc: TooManyWaiting):
        """Backpressure: the shared queues are full enough; say how full and what to do."""
        return jsonify(
            error=f"{exc.waiting} jobs are already waiting in the class's queues and the limit is "
                  f"{exc.limit} (MAX_WAITING_JOBS): {exc.asked} more would pass it. Wait for some to "
                  "finish, send fewer, or ask the instructor to start more workers.",
            field="count", waiting=exc.waiting, limit=exc.limit), 429, {"Retry-After": "10"}

    @app.errorhandler(BrokerUnavailable)
    def broker_down(exc: BrokerUnavailable):
        return jsonify(error=str(exc)), 503

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        return jsonify(error=f"{exc.name}: {exc.description}"), exc.code

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        log.exception("unexpected error")
        return jsonify(error=f"internal error ({type(exc).__name__}); see the API log"), 500
