"""What a result costs per job (the results lesson): each way of getting a job's result back, against
the same path fire-and-forget, in rounds that alternate the two (bench/rounds.py) — so each ratio
pairs two measurements taken seconds apart on the same stack and workers.

    rpc://      a Celery job sent with keep_result on RabbitMQ: the worker also publishes the result
                to the sender's reply queue
    Redis       the same on Redis: the worker also SETs a key with its expiry
    by hand     a RabbitMQ job sent with reply: the consumer also publishes a reply (reply_to +
                correlation_id) before its ack

The results are never read here (reading is one poll per button press on the page): this is what
keeping them costs the path.
"""
from __future__ import annotations

from typing import Callable

from bench.pipeline import measure_throughput
from bench.rounds import interleaved

# name → (method, what the job asks for in POST /api/tasks)
WAYS = {
    "celery_rpc_result_vs_fire_and_forget": ("celery", {"keep_result": True}),
    "celery_redis_result_vs_fire_and_forget": ("celery_redis", {"keep_result": True}),
    "rabbitmq_reply_vs_fire_and_forget": ("rabbitmq", {"reply": True}),
}
LABELS = {
    "celery_rpc_result_vs_fire_and_forget": "Celery, result to rpc:// / fire-and-forget (jobs/s)",
    "celery_redis_result_vs_fire_and_forget": "Celery·Redis, result to Redis / fire-and-forget (jobs/s)",
    "rabbitmq_reply_vs_fire_and_forget": "RabbitMQ, reply by hand / fire-and-forget (jobs/s)",
}


def measure_result_cost(stack, jobs: int, rounds: int, step: Callable[[str], None]) -> dict:
    """Per way: the rounds' ratios (with results ÷ without) and the medians they pair."""
    def throughput(method: str, **options) -> Callable[[], float | None]:
        return lambda: measure_throughput(stack, method, jobs, **options)["jobs_per_s"]

    pairs = {name: (throughput(method), throughput(method, **options)) for name, (method, options) in WAYS.items()}
    return interleaved(pairs, rounds, on_round=lambda r: step(f"results round {r + 1} of {rounds}"))


def extra_ms_per_job(summary: dict) -> float | None:
    """The wall time a result adds to each job at these workers: 1/with − 1/without, from the medians."""
    floor, path = summary.get("floor_median"), summary.get("path_median")
    return None if not floor or not path else 1000 / path - 1000 / floor


def result_cost_rows(ratios: dict, median: Callable[[dict], str | None]) -> list[tuple]:
    rows = []
    for name, label in LABELS.items():
        s = ratios[name]
        extra = extra_ms_per_job(s)
        rows.append((label, median(s), "", None if extra is None else
                     f"fire-and-forget {s['floor_median']:,.0f} / with result {s['path_median']:,.0f} jobs/s; "
                     f"{extra:+.2f} ms per job"))
    return rows
