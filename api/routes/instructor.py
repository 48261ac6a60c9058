"""The instructor's class reset: over HTTP with INSTRUCTOR_TOKEN, or `flask --app api reset` on the
server (which always works: whoever can run it there owns the class anyway)."""
from __future__ import annotations

import click
from flask import Blueprint, jsonify

from api.auth import requires_token
from api.class_reset import reset_class
from api.state import lab

bp = Blueprint("instructor", __name__, cli_group=None)


@bp.post("/api/reset")
@requires_token("instructor_token", when_unset="the reset API is off: set INSTRUCTOR_TOKEN to enable "
                                               "it, or run `flask --app api reset` on the server")
def reset_api():
    state = lab()
    return jsonify(reset_class(state.settings, state.store, state.workers))


@bp.cli.command("reset")
def reset_command():
    """Class reset: purge Queue Lab's queues and clear the status table."""
    state = lab()
    result = reset_class(state.settings, state.store, state.workers)
    for queue, count in result["purged"].items():
        click.echo(f"purged {count} message(s) from {queue}")
    click.echo(f"deleted {result['deleted_jobs']} job(s) from the table")
