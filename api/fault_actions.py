"""What the fault lab's buttons (and `make kill-worker`) really do to the running system."""
from __future__ import annotations

import os
import signal
import socket

from flask_babel import gettext

from api.class_reset import INSPECT_TIMEOUT_S
from api.job_store import JobStore
from api.queue_stats import QueueStats
from api.worker_registry import WorkerRegistry
from queue_lab.job_states import IN_PROGRESS


class CannotKill(Exception):
    """Why the worker running a job cannot be killed from here; the text says what to do instead."""


def _parent_of(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])  # after "(comm)": state, then ppid
    except (OSError, ValueError, IndexError):
        return None


def kill_worker_running(task_num: int, store: JobStore, registry: WorkerRegistry, whole: bool = False) -> dict:
    """SIGKILL the worker process running `task_num`: no goodbye, no ack — a real crash.

    A Celery job runs in a pool process. Killing only that one, Celery's main process notices, rejects
    the message back to the queue (task_reject_on_worker_lost) and starts a new pool process. With
    `whole`, the main process dies too, as in `docker kill` or a crashed machine: nobody rejects
    anything, and what happens to the message is up to the broker — RabbitMQ redelivers it when the
    connection drops; Redis only once its visibility timeout has passed."""
    row = store.get(task_num)
    if row["task_status"] != IN_PROGRESS:
        raise CannotKill(gettext("task %(num)s is %(status)s, not running: nothing to kill",
                                 num=task_num, status=row["task_status"]))
    worker = next((w for w in registry.listing() if w["worker_id"] == row["worker_id"]), None)
    if worker is None:
        raise CannotKill(gettext("worker %(worker)s has not announced itself, so its pid is unknown",
                                 worker=row["worker_id"]))
    if worker["hostname"] != socket.gethostname():
        raise CannotKill(gettext("%(worker)s runs on host %(host)s, not beside this API: use `docker kill "
                                 "%(host)s` (in compose the host name is the container’s id)",
                                 worker=worker["worker_id"], host=worker["hostname"]))
    try:
        with open(f"/proc/{worker['pid']}/cmdline", "rb") as f:
            cmdline = f.read()
    except OSError:
        raise CannotKill(gettext("process %(pid)s is gone already", pid=worker["pid"])) from None
    if b"consumer" not in cmdline and b"celery" not in cmdline:  # a reused pid: not ours to kill
        raise CannotKill(gettext("process %(pid)s is no longer a Queue Lab worker", pid=worker["pid"]))
    killed = [worker["pid"]]
    parent = _parent_of(worker["pid"]) if whole and worker["kind"] == "celery" else None
    if parent:
        try:
            with open(f"/proc/{parent}/cmdline", "rb") as f:
                if b"celery" in f.read():
                    killed.insert(0, parent)  # the main process first: it must not start a new pool
        except OSError:
            pass
    for pid in killed:
        os.kill(pid, signal.SIGKILL)
    return {"killed_pid": worker["pid"], "killed_pids": killed, "worker_id": worker["worker_id"],
            "kind": worker["kind"], "task_num": task_num}


def close_broker_connections(stats: QueueStats) -> int:
    """Close every client connection in our vhost through the management API — the broker stays
    up, like `rabbitmqctl close_all_connections` but limited to Queue Lab's vhost."""
    management = stats.management
    return sum(management.close_connection(connection["name"], "Queue Lab fault lab: broker outage")
               for connection in management.connections())


def _consumed(control) -> dict[str, set[str]]:
    """Every Celery node on the vhost → the queues it consumes now (Celery's inspect active_queues)."""
    answers = control.inspect(timeout=INSPECT_TIMEOUT_S).active_queues() or {}
    return {node: {q.get("name") for q in queues or ()} for node, queues in answers.items()}


def _nodes_consuming(control, ours: set[str]) -> list[str]:
    """This lab's Celery nodes: those consuming one of `ours` (not another class's on this broker)."""
    return sorted(node for node, names in _consumed(control).items() if names & ours)


def consume_lane(celery, queue: str, consume: bool, ours: set[str]) -> list[str]:
    """Stop the long lane's workers taking jobs from `queue`, or let them take jobs again — Celery's
    remote control (cancel_consumer / add_consumer, Flower's buttons): the workers stay up and the
    queue keeps its jobs; only the consuming stops. Answers the Celery nodes it told.

    A broadcast reaches every Celery worker on the vhost, so the workers are picked first: to pause,
    those that consume `queue`; to resume, those left consuming nothing whose default queue is one of
    `ours` (this lab's workers, not another class's on the same broker)."""
    control = celery.control
    consumed = _consumed(control)
    if consume:
        idle = sorted(node for node, names in consumed.items() if not names)
        confs = control.inspect(destination=idle, timeout=INSPECT_TIMEOUT_S).conf() or {} if idle else {}
        nodes = sorted(node for node, conf in confs.items() if (conf or {}).get("task_default_queue") in ours)
    else:
        nodes = sorted(node for node, names in consumed.items() if queue in names)
    if nodes:
        command = control.add_consumer if consume else control.cancel_consumer
        command(queue, destination=nodes, reply=True, timeout=INSPECT_TIMEOUT_S)
    return nodes


# [rate-limits: begin]
def limit_celery(celery, per_minute: int | None, ours: set[str]) -> list[str]:
    """Celery's rate_limit on process_task, changed at run time (`app.control.rate_limit`, as
    `@app.task(rate_limit="12/m")` sets it in code): a broadcast to the workers running now, each of
    which keeps it in its own token bucket — per worker, so two workers run twice the rate. None
    lifts it. Told only the nodes consuming one of `ours` (not another class's on this broker)."""
    control = celery.control
    nodes = _nodes_consuming(control, ours)
    if nodes:
        control.rate_limit("process_task", f"{per_minute}/m" if per_minute else None,
                           destination=nodes, reply=True, timeout=INSPECT_TIMEOUT_S)
    return nodes
# [rate-limits: end]


# [concurrency: begin]
def tune_celery(celery, processes: int | None, prefetch_multiplier: int | None, ours: set[str]) -> dict[str, dict]:
    """The concurrency lesson's knobs, turned on the workers running now: `processes` — the pool grown
    or shrunk to that many (pool_grow / pool_shrink, what `--concurrency N` sets at start);
    `prefetch_multiplier` — prefetch_count = processes × it (our own remote command: Celery has none).
    Answers, per node consuming one of `ours`, the pool size before and what it was told — or, when
    it refused (a pool shrinks only by its idle processes), its own words."""
    control = celery.control
    nodes = _nodes_consuming(control, ours)
    stats = control.inspect(destination=nodes, timeout=INSPECT_TIMEOUT_S).stats() or {} if nodes else {}
    told = {}
    if prefetch_multiplier is not None and nodes:  # first: a pool grown next takes the new multiplier
        control.broadcast("queue_lab_prefetch_multiplier", arguments={"n": prefetch_multiplier},
                          destination=nodes, reply=True, timeout=INSPECT_TIMEOUT_S)
    for node in nodes:
        before = len(((stats.get(node) or {}).get("pool") or {}).get("processes") or ())
        told[node] = {"processes_before": before}
        if prefetch_multiplier is not None:
            told[node]["prefetch_multiplier"] = prefetch_multiplier
        if processes is not None and before and processes != before:
            command = control.pool_grow if processes > before else control.pool_shrink
            replies = command(abs(processes - before), destination=[node], reply=True, timeout=INSPECT_TIMEOUT_S)
            refused = [answer.get("error") for reply in replies or () for answer in reply.values()
                       if isinstance(answer, dict) and answer.get("error")]
            if refused:  # billiard shrinks idle processes only: "Can't shrink pool. All processes busy!"
                told[node]["refused"] = refused[0]
            else:
                told[node]["processes"] = processes
    return told
# [concurrency: end]
