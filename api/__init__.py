"""Queue Lab's web API: `create_app()` builds it (gunicorn: `api:create_app()`)."""
from __future__ import annotations

import dataclasses
import os
import threading

from flask import Flask

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def create_app(test_config: dict | None = None) -> Flask:
    """Defaults, then the environment (api.settings), then `test_config` on top."""
    from api.change_feed import ChangeFeed
    from api.errors import register_error_handlers
    from api.job_store import JobStore
    from api.maintenance import maintenance
    from api.routes_fault_lab import fault_lab
    from api.routes_race import race
    from api.queue_stats import QueueStats
    from api.routes_classroom import classroom
    from api.worker_registry import WorkerRegistry
    from api.raw_publisher import RawPublisher
    from api.routes_page import page
    from api.routes_status import status_api
    from api.routes_tasks import tasks_api
    from api.settings import Settings

    app = Flask(
        __name__,
        template_folder=os.path.join(ROOT, "templates"),
        static_folder=os.path.join(ROOT, "static"),
    )
    settings = Settings.from_env()
    if test_config:
        settings = dataclasses.replace(settings, **test_config.get("SETTINGS", {}))
        app.config.update({k: v for k, v in test_config.items() if k != "SETTINGS"})
    if not settings.status_api_token:
        raise RuntimeError(
            "STATUS_API_TOKEN is not set: workers could not authenticate. `make run` writes a random "
            "one into .env; or export STATUS_API_TOKEN=<something secret> for the API and workers."
        )
    app.config.setdefault("SSE_KEEPALIVE_S", float(os.environ.get("SSE_KEEPALIVE_S", "15")))
    app.config.setdefault("SSE_MAX_STREAMS", int(os.environ.get("SSE_MAX_STREAMS", "112")))

    store = JobStore(settings.database_path)
    app.extensions["queue_lab"] = {
        "settings": settings,
        "store": store,
        "publisher": RawPublisher(settings),
        "feed": ChangeFeed(store),
        "workers": WorkerRegistry(store.db, settings.worker_offline_s, settings.worker_forget_s),
        "queue_stats": QueueStats(settings),
        # SSE streams each hold a web thread: cap them per process so other requests always get one.
        "stream_slots": threading.BoundedSemaphore(app.config["SSE_MAX_STREAMS"]),
    }
    app.register_blueprint(page)
    app.register_blueprint(tasks_api)
    app.register_blueprint(status_api)
    app.register_blueprint(classroom)
    app.register_blueprint(maintenance)
    app.register_blueprint(fault_lab)
    app.register_blueprint(race)
    register_error_handlers(app)
    return app


def lab(name: str):
    """One of this app's parts: "settings", "store", "publisher", "feed", "workers", "queue_stats", "stream_slots"."""
    from flask import current_app

    return current_app.extensions["queue_lab"][name]
