"""The Celery application: `celery -A celery_app worker`.

Each setting below changes what a student sees; the comment says what. Compare them with the raw
consumer's (consumer/__main__.py): the two paths are configured to behave alike, so a difference
on the page comes from the tool, not from an accident of configuration. The fault lab switches
three of them per worker with environment variables: CELERY_ACK_MODE, CELERY_PREFETCH_MULTIPLIER,
and CELERY_BROKER_KIND — the same app on RabbitMQ (the default) or on Redis (`celery_app_for("redis")`),
to see what the broker changes: Redis only *emulates* acknowledgements (see REDIS_OPTIONS).
"""
import os
import tempfile

from celery import Celery

from queue_lab.settings import Settings

settings = Settings.from_env()
ACKS_LATE = settings.celery_ack_mode == "late"

# Celery on Redis keeps a delivered, unacked message in a hash and its delivery time in a sorted set;
# any worker's sweep puts it back in the queue once it is older than the visibility timeout. Set
# short for the lab (REDIS_VISIBILITY_TIMEOUT_S, 30 s; Celery's default is an hour), swept every
# second instead of every ~100 s, and the keys named after our queue, so the queues panel can count
# them and tests on a shared Redis keep to their own.
REDIS_OPTIONS = {
    "visibility_timeout": settings.redis_visibility_timeout_s,
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
    "unacked_key": f"{settings.queues.celery}.unacked",
    "unacked_index_key": f"{settings.queues.celery}.unacked_index",
    "unacked_mutex_key": f"{settings.queues.celery}.unacked_mutex",
    # delay() must not hang the web request when Redis is down, as for RabbitMQ below.
    "socket_connect_timeout": settings.broker_timeout,
    "socket_timeout": settings.broker_timeout,
}


# Where a job's Celery result goes when it asks for one (keep_result), as Celery's "First Steps" and
# the seeds set it: rpc:// on RabbitMQ — the result is a message sent back to the one client that
# sent the task, read once — and Redis on Redis, a key anyone can read until it expires.
# [results: begin] (counted on the page: lines each method needs to get a result back)
RESULT_BACKENDS = {"rabbitmq": "rpc://", "redis": settings.redis_url}
# [results: end]


def celery_app_for(broker: str) -> Celery:
    """The app with every setting below, on RabbitMQ or on Redis (the API sends to both)."""
    on_redis = broker == "redis"
    # [results: begin]
    celery = Celery("queue_lab", broker=settings.redis_url if on_redis else settings.rabbitmq_url,
                    backend=RESULT_BACKENDS[broker], include=["celery_tasks"])
    # [results: end]
    celery.conf.update(CONFIG, broker_transport_options=REDIS_OPTIONS if on_redis else {},
                       redis_socket_timeout=settings.broker_timeout,
                       redis_socket_connect_timeout=settings.broker_timeout)
    return celery


CONFIG = dict(
    # JSON only: a message in the management UI is readable, and no pickle runs code from the queue.
    task_serializer="json",
    accept_content=["json"],
    # Fire and forget by default: the status table is where results go, reported by the job itself.
    # A job sent with keep_result asks for its result in the backend too (apply_async(ignore_result=
    # False)): the results lesson; it expires after RESULT_EXPIRES_S.
    task_ignore_result=True,
    # [results: begin]
    result_expires=settings.result_expires_s,
    # [results: end]
    # Each ack profile has its own queue, so a job sent "early ack" only reaches such a worker.
    task_default_queue=settings.queues.celery if ACKS_LATE else settings.queues.celery_early,
    # late (default): ack after the job, not on receipt: a worker killed mid-job leaves its message
    # unacked and RabbitMQ redelivers it (the row shows attempt 2) — the raw consumer's promise.
    # early (CELERY_ACK_MODE=early): acked when the job starts; kill the worker and the job is gone:
    # only the sweeper notices, and the row ends LOST.
    task_acks_late=ACKS_LATE,
    # ...and if the pool process dies (SIGKILL, OOM), reject so the message is requeued, not dropped.
    task_reject_on_worker_lost=True,
    # 1: each pool process reserves one task at a time (like the consumer's prefetch_count=1), so
    # jobs spread evenly and a long job does not hold shorter ones hostage. The fault lab's
    # fairness experiment sets 4: a worker then hoards 4 jobs while another one idles.
    worker_prefetch_multiplier=settings.celery_prefetch_multiplier,
    # One job at a time per worker by default, like one consumer: CELERY_CONCURRENCY=N gives a worker
    # N pool processes on one connection (`--concurrency N`), which the page can also grow and shrink
    # live (pool_grow / pool_shrink): the concurrency lesson, docs/concurrency.md.
    worker_concurrency=settings.celery_concurrency,
    # delay() must not hang the web request when the broker is down: connect within a few seconds,
    # retry the publish once, then raise, and the API answers 503.
    broker_connection_timeout=settings.broker_timeout,
    task_publish_retry_policy={"max_retries": 1, "interval_start": 0, "interval_step": 0.5,
                               "interval_max": 0.5},
    # The worker keeps retrying the broker at start-up (compose may start it first) and after drops.
    broker_connection_retry_on_startup=True,
    # A running job finishes even if the connection drops; its ack then fails and RabbitMQ
    # redelivers the message: at-least-once, like the consumer.
    worker_cancel_long_running_tasks_on_connection_loss=False,
    worker_hijack_root_logger=False,
    # The sweeper (celery_tasks.sweep_lost_jobs) runs on its own queue, consumed only by the
    # celery_beat process, so it never waits behind a student's 300 s job.
    # [exchanges: begin] (counted on the page: lines each method needs to send a job to its own queue)
    # [routes: begin] The long lane (the routes lesson): process_long_task, the same job under
    # another name, goes to its own queue, consumed only by a worker started with `-Q <queue>`.
    task_routes={"sweep_lost_jobs": {"queue": settings.queues.maintenance},
                 "process_long_task": {"queue": settings.queues.celery_long}},
    # [routes: end]
    # [exchanges: end]
    beat_schedule={
        "sweep-lost-jobs": {"task": "sweep_lost_jobs",
                            "schedule": settings.sweep_every_s},
    },
    # Beat remembers when it last ran each entry; the app folder may be read-only (the image).
    beat_schedule_filename=os.path.join(tempfile.gettempdir(), "queue-lab-celerybeat-schedule"),
)

app = celery_app_for(settings.celery_broker_kind)  # `-A celery_app`: this worker's broker (CELERY_BROKER_KIND)
