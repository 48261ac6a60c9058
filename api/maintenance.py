"""`POST /api/maintenance/sweep`: what the celery_beat schedule asks for every SWEEP_EVERY_S.

Running jobs whose worker has not reported for LOST_AFTER_S become LOST (named, not silent), and
finished jobs older than HISTORY_MAX_AGE_S are forgotten. The API does it, because the API owns
the database; the beat process may run in another container.
"""
from flask import Blueprint, jsonify

from api import lab
from api.auth import bearer_matches

SWEEP_PATH = "/api/maintenance/sweep"

maintenance = Blueprint("maintenance", __name__)


@maintenance.post(SWEEP_PATH)
def sweep():
    settings = lab("settings")
    if not bearer_matches(settings.status_api_token):
        return jsonify(error="missing or wrong token: send `Authorization: Bearer <STATUS_API_TOKEN>`",
                       field="Authorization"), 401
    store = lab("store")
    lost = store.sweep_lost(settings.lost_after_s)
    pruned = store.prune(settings.history_max_age_s)
    return jsonify(lost=lost, pruned=pruned)
