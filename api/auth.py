"""Who may call what, written once.

    @requires_token("status_api_token")   every worker endpoint: the shared secret workers send
    @class_control                        kill a worker, close broker connections, class reset:
                                          CLASS_CONTROLS=everyone (make run: one person on a laptop)
                                          or instructor (compose: only with INSTRUCTOR_TOKEN)
"""
from __future__ import annotations

import functools
import hmac

from flask import jsonify, request
from flask_babel import gettext

from api.state import lab

# Which setting holds each token, and the variable a person sets for it.
TOKEN_VARIABLES = {"status_api_token": "STATUS_API_TOKEN", "instructor_token": "INSTRUCTOR_TOKEN"}


def bearer_matches(expected: str) -> bool:
    header = request.headers.get("Authorization", "")
    sent = header[len("Bearer "):] if header.startswith("Bearer ") else ""
    return bool(sent) and bool(expected) and hmac.compare_digest(sent.encode(), expected.encode())


def requires_token(setting: str):
    """401 unless the request carries `Authorization: Bearer <token>`."""
    variable = TOKEN_VARIABLES[setting]

    def decorate(view):
        @functools.wraps(view)
        def checked(*args, **kwargs):
            if not bearer_matches(getattr(lab().settings, setting)):
                return jsonify(error=gettext("missing or wrong token: send `Authorization: Bearer <%(variable)s>`",
                                             variable=variable), field="Authorization"), 401
            return view(*args, **kwargs)
        return checked
    return decorate


def class_control_refusal() -> str | None:
    """Why this request may not use the class-wide controls, or None when it may."""
    settings = lab().settings
    if settings.class_controls == "everyone" or bearer_matches(settings.instructor_token):
        return None
    if not settings.instructor_token:
        return gettext("class-wide controls are the instructor’s in this class (CLASS_CONTROLS=instructor), "
                       "and no INSTRUCTOR_TOKEN is set: set one, or run `flask --app api reset` on the server")
    return gettext("only the instructor may do this in this class (CLASS_CONTROLS=instructor): enter the "
                   "instructor token on the page, or send `Authorization: Bearer <INSTRUCTOR_TOKEN>`")


def class_control(view):
    """403 with the reason unless CLASS_CONTROLS lets this request act for the whole class."""
    @functools.wraps(view)
    def checked(*args, **kwargs):
        refusal = class_control_refusal()
        if refusal is not None:
            return jsonify(error=refusal, field="Authorization"), 403
        return view(*args, **kwargs)
    return checked
