"""Bare floors, measured in the same run as our pipeline: what the tools cost without Queue Lab.

- pika: publish without and with a confirm per message, and consume+ack with prefetch 1 by
  `workers` consumer processes (our consumer's settings) — the raw path's end-to-end floor.
- Celery, on RabbitMQ and on Redis: delay() of a no-op task, drained by `workers` real Celery
  workers with our settings — each Celery path's floor is Celery itself on the same broker, so the
  ratio is what Queue Lab adds (the job, its reports, the table), not what the broker costs.
"""
from __future__ import annotations

import contextlib
import multiprocessing
import os
import time

import pika

from bench.stats import rate

PERSISTENT = pika.BasicProperties(delivery_mode=pika.DeliveryMode.Persistent)


def _drain(url: str, queue: str, expected: int, done) -> None:
    """One bare consumer process: prefetch 1, ack each message, until `expected` are gone."""
    connection = pika.BlockingConnection(pika.URLParameters(url))
    channel = connection.channel()
    channel.basic_qos(prefetch_count=1)
    for method, _, _ in channel.consume(queue, inactivity_timeout=0.5):
        if method is not None:
            channel.basic_ack(method.delivery_tag)
            with done.get_lock():
                done.value += 1
        if done.value >= expected:
            break
    connection.close()


# The fast floor (a bare publish: ~10,000/s) need this many more messages than the
# slow ones to be timed over a similar stretch (~0.5 s): a 60 ms measurement is mostly noise.
FAST = 8


def pika_floors(url: str, queue: str, messages: int, workers: int, meter=None) -> dict:
    """A bare publish loop, then confirmed publish → consume → ack by `workers` processes (the raw
    path's floor). `meter` (a CpuMeter) times the CPU of that second part only."""
    connection = pika.BlockingConnection(pika.URLParameters(url))
    channel = connection.channel()
    channel.queue_declare(queue, durable=True)
    started = time.perf_counter()
    for _ in range(messages * FAST):
        channel.basic_publish("", queue, b"{}", PERSISTENT)
    connection.process_data_events(0)
    publish_s = time.perf_counter() - started
    channel.queue_purge(queue)

    channel.confirm_delivery()
    context = multiprocessing.get_context("fork")
    done = context.Value("i", 0)
    drainers = [context.Process(target=_drain, args=(url, queue, messages, done)) for _ in range(workers)]
    for process in drainers:
        process.start()
    time.sleep(0.5)  # the consumers are registered before the first message
    with meter or contextlib.nullcontext():
        started = time.perf_counter()
        for _ in range(messages):
            channel.basic_publish("", queue, b"{}", PERSISTENT)  # waits for the broker's confirm
        confirm_s = time.perf_counter() - started
        while done.value < messages and time.perf_counter() - started < 120:
            time.sleep(0.005)
        drain_s = time.perf_counter() - started
    for process in drainers:
        process.join(10)
    channel.queue_delete(queue)
    connection.close()
    return {
        "publish_per_s": rate(messages * FAST, publish_s),
        "publish_confirmed_per_s": rate(messages, confirm_s),
        "end_to_end_jobs_per_s": rate(done.value, drain_s),  # confirmed publish → consume → ack
        "messages": messages, "workers": workers,
    }


def start_celery_floor_workers(stack, workers: int, queue: str, broker: str = "rabbitmq") -> None:
    """`workers` real Celery workers with our settings, on a no-op task and a queue of their own
    (ours run beside them) on `broker`: kept for every round."""
    for i in range(workers):
        stack.start_celery_worker(f"celery-floor-{broker}-{i}", app="bench.noop_tasks", queue=queue,
                                  CELERY_BROKER_KIND=broker)


def celery_floor(jobs: int, tally_path: str, queue: str, broker: str = "rabbitmq") -> dict:
    """One round on `broker`: the rate of delay() alone (to a queue no worker reads, so the workers
    draining beside it do not share the CPU: the cost of a call, not of a busy machine), then delay()
    `jobs` no-op tasks and the rate the floor workers drain them at."""
    from bench.noop_tasks import NOOP_BY_BROKER

    task = NOOP_BY_BROKER[broker]
    idle = queue + ".idle"
    started = time.perf_counter()
    for _ in range(jobs):
        task.s(tally_path).set(queue=idle).delay()
    delay_s = time.perf_counter() - started
    with task.app.connection_for_write() as connection:
        connection.default_channel.queue_purge(idle)

    def completed() -> int:
        return os.path.getsize(tally_path) if os.path.exists(tally_path) else 0

    send = task.s(tally_path).set(queue=queue)
    before = completed()
    started = time.perf_counter()
    for _ in range(jobs):
        send.delay()
    while completed() - before < jobs and time.perf_counter() - started < 300:
        time.sleep(0.005)
    drain_s = time.perf_counter() - started
    return {"delay_per_s": rate(jobs, delay_s), "end_to_end_jobs_per_s": rate(completed() - before, drain_s),
            "jobs": jobs, "broker": broker}
