"""Canvas, both ways (docs/results.md): a chain — each job takes the result of the one before — and a
chord — N jobs, then a callback that takes all their results.

Celery's way: `chain(process_task.s(…), process_after.s(…), …)` carries the rest of the chain in
the first message, and each worker sends the next step with its result: no shared state. A chord
needs some: a count of finished members, kept in the result backend. Redis keeps it; rpc:// cannot,
and Celery refuses the chord — the rows end ERROR in Celery's words, the lesson shown, not hidden.

By hand, on RabbitMQ, the table is the shared state. Every step's row is written first with the jobs
it follows (`follows`). The API publishes only the steps that follow nothing. When a job reports
DONE, the API sends on each step whose jobs are now all DONE, with their results as `inputs`
(JobStore.settle_followers claims the step, so one API process sends it). A step whose job ended
ERROR or LOST ends ERROR too, by either path: nothing waits for ever.
"""
from __future__ import annotations

import logging
import uuid

from api.raw_publisher import BrokerUnavailable
from queue_lab.job_message import JobSpec

log = logging.getLogger("queue_lab.canvas")


class CanvasRefused(Exception):
    """Celery would not send this canvas (a chord on rpc://): its own words say why."""


def waiting_steps(specs: list[JobSpec], canvas: str | None) -> set[int]:
    """The jobs that follow others (a chain's later steps, a chord's callback): not sent at first."""
    if canvas == "chain":
        return {spec.task_num for spec in specs[1:]}
    return {specs[-1].task_num} if canvas == "chord" else set()


# [canvas/celery: begin] (counted on the page: lines each method needs for a chain and a chord)
def send_celery_canvas(app, specs: list[JobSpec], canvas: str) -> list[tuple[int, str]]:
    """Celery's canvas, one apply_async: returns (task_num, celery_id) for every step."""
    from celery import chain, chord

    ids = [str(uuid.uuid4()) for _ in specs]

    def step(i: int, spec: JobSpec, task: str, keep: bool):
        return app.signature(task, args=spec.to_task_args(), task_id=ids[i], ignore_result=not keep)

    if canvas == "chain":  # the result of each step is passed to the next: process_after(result, …)
        chain(*(step(i, spec, "process_after" if i else "process_task", False)
                for i, spec in enumerate(specs))).apply_async()
    else:  # the members keep their results, where the backend counts them; then the callback
        header = [step(i, spec, "process_task", True) for i, spec in enumerate(specs[:-1])]
        try:
            chord(header, step(len(specs) - 1, specs[-1], "process_after", False)).apply_async()
        except NotImplementedError as exc:  # rpc:// has no place to count the members
            raise CanvasRefused(" ".join(str(exc).split())) from exc
    return [(spec.task_num, celery_id) for spec, celery_id in zip(specs, ids)]
# [canvas/celery: end]


# [canvas/rabbitmq: begin]
def send_on(state, finished: list[int] | None) -> None:
    """By hand: after jobs finished (None: any — the sweeper's look round), send each step whose
    jobs are all DONE, with their results, and end ERROR those whose jobs failed."""
    released, failed = state.store.settle_followers(finished)
    for step in released:
        spec = JobSpec(step["task_num"], step["seconds"], step["fail"], inputs=tuple(step["inputs"]))
        try:
            state.publisher.publish_jobs([spec], queues=state.settings.queues.raw)
        except BrokerUnavailable as exc:  # its row says so: never PENDING with nothing queued
            state.store.fail_unsent([spec.task_num], f"not sent on: {exc}")
    # [canvas/rabbitmq: end]
    if released or failed:
        log.info("canvas: sent on %s, ended %s", [s["task_num"] for s in released], failed)
