"""What the page and an instructor read about the class beside the jobs: workers, queues, health."""
from __future__ import annotations

import time

from flask import Blueprint, jsonify

from api.health import check_database, health
from api.state import lab

bp = Blueprint("classroom", __name__)


@bp.get("/api/workers")
def list_workers():
    registry, settings = lab().workers, lab().settings
    # lost_after_s: the silence (of a job *and* its worker) after which the sweeper calls a job LOST.
    return jsonify(workers=registry.listing(), heartbeat_s=settings.worker_heartbeat_s,
                   offline_after_s=registry.offline_s, forget_after_s=registry.forget_s,
                   lost_after_s=settings.lost_grace_s, now=time.time())


@bp.get("/api/queues")
def queue_depths():
    """Always 200: when the management API is unreachable, `error` says why in one line."""
    return jsonify({**lab().queue_stats.snapshot(), "now": time.time()})


@bp.get("/api/routing")
def routing():
    """The exchanges, their bindings and the queues bound (the routing lesson); always 200, `error` says why."""
    return jsonify({**lab().queue_stats.routing(), "now": time.time()})


@bp.get("/healthz")
def healthz():
    state = lab()
    report = health(state.settings, state.store, state.workers)
    return jsonify(report), 200 if report["ok"] else 503


@bp.get("/livez")
def livez():
    """The container's health check (api/health.py says why the broker is left out)."""
    database = check_database(lab().store)
    return jsonify(ok=database["ok"], database=database), 200 if database["ok"] else 503
