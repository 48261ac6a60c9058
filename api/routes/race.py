"""`POST /api/race`: the same batch sent by Celery on RabbitMQ, Celery on Redis and raw RabbitMQ at
the same moment.

Each batch is sent from its own thread so no method gets a head start, and the answer says what
enqueueing cost each: the whole batch, and per job. The page then charts completions over
time from the live table (synchronous jobs, for a small N, it sends itself: they block).
"""
from __future__ import annotations

import threading
import time

from flask import Blueprint, jsonify

from api.errors import broker_error
from api.job_dispatch import work_queue, send_by_celery, send_by_rabbitmq
from api.raw_publisher import BrokerUnavailable
from api.request_body import json_body
from api.state import lab
from api.validation import Submission, parse_race
from queue_lab.job_message import JobSpec

bp = Blueprint("race", __name__)


@bp.post("/api/race")
def start_race():
    count, seconds, owner = parse_race(json_body())
    state = lab()
    store, settings, publisher = state.store, state.settings, state.publisher
    senders = {
        "celery": lambda specs, order: send_by_celery(specs, order, store, settings),
        "celery_redis": lambda specs, order: send_by_celery(specs, order, store, settings, on_redis=True),
        "rabbitmq": lambda specs, order: send_by_rabbitmq(specs, order, store, publisher),
    }
    # Every batch or none: the first checks the class's cap for all (TooManyWaiting → 429).
    orders = {method: Submission(method=method, seconds=seconds, count=count) for method in senders}
    first, *others = senders
    batches = {first: store.create(first, seconds, False, count, owner=owner, queue=work_queue(orders[first], settings),
                                   max_waiting=settings.max_waiting_jobs, also_coming=count * len(others))}
    for method in others:
        batches[method] = store.create(method, seconds, False, count, owner=owner,
                                       queue=work_queue(orders[method], settings))
    results: dict[str, dict] = {}

    def send(method: str) -> None:
        order = orders[method]
        specs = [JobSpec(num, seconds) for num in batches[method]]
        started = time.perf_counter()
        try:
            senders[method](specs, order)
            error = None
        except BrokerUnavailable as exc:  # its rows are already ERROR with the reason
            error = broker_error(exc)
        took = time.perf_counter() - started
        results[method] = {"task_nums": batches[method], "enqueue_s": took,
                           "enqueue_ms_per_job": 1000 * took / count, "error": error}

    started_at = time.time()
    threads = [threading.Thread(target=send, args=(method,)) for method in senders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    failed = [m for m, r in results.items() if r["error"]]
    return jsonify(started_at=started_at, count=count, seconds=seconds, **results), (503 if failed else 202)
