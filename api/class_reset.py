"""The instructor's class reset: empty every path that holds students' jobs, then clear the table.

"Every path" means every place a job can wait before it runs:
- every Queue Lab queue on RabbitMQ that holds students' messages — the work queues, their wait,
  delay and dead queues, the naive and quorum families, the routed consumers' queues (as the
  management API lists them), Celery's queues (late and early ack); not the
  sweeper's maintenance queue, which holds no student's job;
- the Celery-on-Redis queue, and its unacked hash (else the visibility timeout would put a message
  delivered before the reset back in the queue after it);
- Celery tasks a worker has already taken but not started: a countdown/ETA task waits *in the
  worker*, unacked, where no purge reaches. They are revoked by id (`inspect().scheduled()` and
  `.reserved()`, then `control.revoke`): the worker drops each when its time comes.

What no purge can reach — a job already running, or a message in flight at the moment of the reset
— is still stopped: its row is gone, so the API answers its reports 404, and the job stops at its
next step (queue_lab/timed_job.py). Job numbers keep counting up after a reset (AUTOINCREMENT), so
an old message can never pass for a new job. The queues are emptied first, then the table.
"""
from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

import pika
import pika.exceptions
import redis

from api.job_store import JobStore
from api.raw_publisher import BrokerUnavailable
from api.worker_registry import WorkerRegistry
from queue_lab.broker_connection import connection_parameters
from queue_lab.management_api import ManagementAPI, ManagementError
from queue_lab.settings import Settings

log = logging.getLogger("queue_lab.reset")

INSPECT_TIMEOUT_S = 1.0  # how long a worker has to say which tasks it holds
REDIS_PRIORITY_SEPARATOR = "\x06\x16"  # kombu keeps priorities 3, 6, 9 of a queue in lists of their own


def routed_queues(settings: Settings) -> list[str]:
    """The routing lesson's queues, Q.routed.<name> and theirs: consumers name them, so the broker
    is asked (its management API); when it cannot say, the queues it would have listed keep their jobs,
    whose rows are gone — each is then refused by its consumer as no job of the table's."""
    prefix = f"{settings.queues.raw.work}.routed."
    try:
        return [q["name"] for q in ManagementAPI.from_settings(settings).queues(("name",))
                if q["name"].startswith(prefix)]
    except ManagementError as error:
        log.warning("class reset: routed queues not purged (%s)", error)
        return []


def purge_rabbitmq(settings: Settings) -> dict[str, int]:
    """Messages removed per queue. Only Queue Lab's queues: the broker may be shared."""
    purged = {}
    try:
        connection = pika.BlockingConnection(connection_parameters(settings))
    except (pika.exceptions.AMQPError, OSError) as exc:
        raise BrokerUnavailable(settings.broker_hint, "rabbitmq") from exc
    try:
        for name in (*settings.queues.students_queues(), *routed_queues(settings)):
            channel = connection.channel()
            try:
                purged[name] = channel.queue_purge(queue=name).method.message_count
                channel.close()
            except pika.exceptions.ChannelClosedByBroker:  # 404: never declared, nothing to purge
                purged[name] = 0
    finally:
        connection.close()
    return purged


def purge_redis(settings: Settings) -> tuple[dict[str, int], str | None]:
    """The Celery-on-Redis queues (and their priority lists) and the unacked hash; (counts, error)."""
    client = redis.Redis.from_url(settings.redis_url, socket_timeout=2, socket_connect_timeout=2)
    queues = settings.queues
    try:
        purged = {}
        for queue in (queues.celery, queues.celery_early):  # the long lane is RabbitMQ's only
            keys = [queue, *(f"{queue}{REDIS_PRIORITY_SEPARATOR}{p}" for p in (3, 6, 9))]
            with client.pipeline() as pipe:
                for key in keys:
                    pipe.llen(key)
                counts = pipe.execute()
                pipe.delete(*keys)
                pipe.execute()
            purged[f"redis:{queue}"] = sum(counts)
        with client.pipeline() as pipe:
            pipe.hlen(f"{queues.celery}.unacked").delete(f"{queues.celery}.unacked",
                                                          f"{queues.celery}.unacked_index")
            purged[f"redis:{queues.celery}.unacked"] = pipe.execute()[0]
        return purged, None
    except redis.RedisError as exc:
        log.warning("class reset: Redis not emptied: %s", exc)
        return {}, settings.redis_hint
    finally:
        client.close()


def revoke_held_tasks(celery, queues: set[str]) -> int:
    """Revoke every task from `queues` that the app's workers hold but have not started (countdown/
    ETA or prefetched). Only ours: a broadcast reaches every Celery worker on the vhost — another
    class's, another test run's — so each held task is picked by the queue it came from, and the
    revoke goes only to the workers that hold one."""
    inspect = celery.control.inspect(timeout=INSPECT_TIMEOUT_S)
    held: dict[str, set[str]] = {}  # worker → task ids; a countdown task is scheduled *and* reserved
    for answer in (inspect.scheduled() or {}, inspect.reserved() or {}):
        for worker, tasks in answer.items():
            for task in tasks:
                request = task.get("request", task)  # scheduled() wraps each in {"eta", "request"}
                if request.get("id") and (request.get("delivery_info") or {}).get("routing_key") in queues:
                    held.setdefault(worker, set()).add(request["id"])
    ids = sorted(set().union(*held.values())) if held else []
    if ids:
        celery.control.revoke(ids, destination=sorted(held))
    return len(ids)


def revoke_on_both_brokers(settings: Settings) -> tuple[dict[str, int], dict[str, str]]:
    """Both Celery apps at once (each inspect waits INSPECT_TIMEOUT_S for the workers' answers)."""
    import celery_app
    from api.job_dispatch import celery_on_redis

    apps = {"celery": lambda: celery_app.app, "celery_redis": celery_on_redis}  # as send_by_celery sends
    ours = set(settings.queues.celery_queues())
    revoked, errors = {}, {}
    with ThreadPoolExecutor(len(apps)) as pool:
        futures = {method: pool.submit(lambda make: revoke_held_tasks(make(), ours), make)
                   for method, make in apps.items()}
    for method, future in futures.items():
        try:
            revoked[method] = future.result()
        except Exception as exc:  # noqa: BLE001 — a broker that is away: its workers hold nothing we can reach
            errors[method] = f"{type(exc).__name__}: {exc}"
    return revoked, errors


def reset_class(settings: Settings, store: JobStore, registry: WorkerRegistry) -> dict:
    purged = purge_rabbitmq(settings)  # first: a queued job must not run after its row is gone
    redis_purged, redis_error = purge_redis(settings)
    revoked, revoke_errors = revoke_on_both_brokers(settings)
    deleted = store.reset()
    registry.clear()
    errors = {**({"redis": redis_error} if redis_error else {}), **revoke_errors}
    return {"purged": {**purged, **redis_purged}, "revoked": revoked, "deleted_jobs": deleted,
            "errors": errors}
