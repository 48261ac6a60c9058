"""The instructor's class reset — over HTTP for whoever CLASS_CONTROLS allows (api/auth.py), or
`flask --app api reset` on the server (which always works: whoever can run it there owns the class
anyway) — and `GET /api/class-controls`, which tells the page whether its buttons may act."""
from __future__ import annotations

import click
from flask import Blueprint, jsonify

from api.auth import class_control, class_control_refusal
from api.class_reset import reset_class
from api.state import lab

bp = Blueprint("instructor", __name__, cli_group=None)


@bp.get("/api/class-controls")
def class_controls():
    """Who may use the class-wide controls, and whether this request (its token, if any) may."""
    refusal, settings = class_control_refusal(), lab().settings
    return jsonify(mode=settings.class_controls, allowed=refusal is None, reason=refusal,
                   token_set=bool(settings.instructor_token))


@bp.post("/api/reset")
@class_control
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
    for method, count in result["revoked"].items():
        click.echo(f"revoked {count} task(s) held by {method} workers (countdown/ETA or prefetched)")
    for part, error in result["errors"].items():
        click.echo(f"not emptied: {part}: {error}", err=True)
    click.echo(f"deleted {result['deleted_jobs']} job(s) from the table")
