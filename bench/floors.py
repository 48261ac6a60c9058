"""Bare floors, measured in the same run as our pipeline: what the tools cost without Queue Lab.

- pika: publish without and with a confirm per message, and consume+ack with prefetch 1 by
  `workers` consumer processes (our consumer's settings) — the raw path's end-to-end floor.
- Celery: delay() of a no-op task, drained by `workers` real Celery workers with our settings.
- Redis: a bare LPUSH loop, and LPUSH → BRPOP by `workers` processes — Celery on Redis's floor.
"""
from __future__ import annotations

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


def pika_floors(url: str, queue: str, messages: int, workers: int) -> dict:
    connection = pika.BlockingConnection(pika.URLParameters(url))
    channel = connection.channel()
    channel.queue_declare(queue, durable=True)
    started = time.perf_counter()
    for _ in range(messages):
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
        "publish_per_s": rate(messages, publish_s),
        "publish_confirmed_per_s": rate(messages, confirm_s),
        "end_to_end_jobs_per_s": rate(done.value, drain_s),  # confirmed publish → consume → ack
        "messages": messages, "workers": workers,
    }


def _brpop(url: str, key: str, expected: int, done) -> None:
    """One bare Redis consumer process: BRPOP until `expected` messages are gone (no ack: Redis has none)."""
    import redis

    client = redis.Redis.from_url(url)
    while done.value < expected:
        if client.brpop([key], timeout=0.5) is not None:
            with done.get_lock():
                done.value += 1
    client.close()


def redis_floors(url: str, key: str, messages: int, workers: int) -> dict:
    import redis

    client = redis.Redis.from_url(url)
    client.delete(key)
    started = time.perf_counter()
    for _ in range(messages):
        client.lpush(key, b"{}")
    push_s = time.perf_counter() - started
    client.delete(key)
    context = multiprocessing.get_context("fork")
    done = context.Value("i", 0)
    drainers = [context.Process(target=_brpop, args=(url, key, messages, done)) for _ in range(workers)]
    for process in drainers:
        process.start()
    time.sleep(0.5)
    started = time.perf_counter()
    for _ in range(messages):
        client.lpush(key, b"{}")
    while done.value < messages and time.perf_counter() - started < 120:
        time.sleep(0.005)
    drain_s = time.perf_counter() - started
    for process in drainers:
        process.join(10)
    client.delete(key)
    client.close()
    return {"lpush_per_s": rate(messages, push_s), "end_to_end_jobs_per_s": rate(done.value, drain_s),
            "messages": messages, "workers": workers}


def celery_floor(stack, jobs: int, workers: int, tally_path: str) -> dict:
    """delay() rate, and the drain rate of `workers` real Celery workers with our settings."""
    from bench.noop_tasks import bench_noop

    for i in range(workers):
        stack.start_celery_worker(f"celery-floor-{i}", app="bench.noop_tasks")
    started = time.perf_counter()
    for _ in range(jobs):
        bench_noop.delay(tally_path)
    delay_s = time.perf_counter() - started

    def completed() -> int:
        return os.path.getsize(tally_path) if os.path.exists(tally_path) else 0

    while completed() < jobs and time.perf_counter() - started < 300:
        time.sleep(0.01)
    drain_s = time.perf_counter() - started
    return {"delay_per_s": rate(jobs, delay_s), "end_to_end_jobs_per_s": rate(completed(), drain_s),
            "jobs": jobs, "workers": workers}
