"""Requests that change anything carry JSON, and only JSON.

Why: a browser lets any web site send a cross-site POST as a form (`application/x-www-form-urlencoded`,
`multipart/form-data`) or as `text/plain` without asking this server first. `application/json` is not
one of those "simple" types: a browser sends it cross-site only after a CORS preflight, which we never
grant. So refusing every other Content-Type on a write is what stops a page elsewhere from pressing
"close all broker connections" for the whole class. The rule is one hook for the whole app, so an
endpoint added later is covered too, including those that need no body.
"""
from __future__ import annotations

from flask import Flask, jsonify, request
from flask_babel import gettext

from api.validation import BadField

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def refuse_non_json_writes():
    if request.method in WRITES and not request.is_json:
        sent = request.mimetype or "none"
        return jsonify(error=gettext("this endpoint accepts only JSON: send `Content-Type: application/json` "
                                     "(got %(sent)s); other types are refused so that a form on another web "
                                     "site cannot trigger it", sent=sent), field="Content-Type"), 415
    return None


def init_app(app: Flask) -> None:
    app.before_request(refuse_non_json_writes)


def json_body():
    """The request's JSON (its Content-Type is already checked), or a 400 when it does not parse."""
    body = request.get_json(silent=True)
    if body is None:
        raise BadField("body", gettext("the request body must be a JSON object (Content-Type: application/json); "
                                       "this one is empty, null, or does not parse"))
    return body
