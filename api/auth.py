"""Shared-secret checks, written once: workers send STATUS_API_TOKEN, the instructor INSTRUCTOR_TOKEN.

    @requires_token("status_api_token")       every worker endpoint
    @requires_token("instructor_token")       the class reset over HTTP (off while the token is empty)
"""
from __future__ import annotations

import functools
import hmac

from flask import jsonify, request

from api.state import lab

# Which setting holds each token, and the variable a person sets for it.
TOKEN_VARIABLES = {"status_api_token": "STATUS_API_TOKEN", "instructor_token": "INSTRUCTOR_TOKEN"}


def bearer_matches(expected: str) -> bool:
    header = request.headers.get("Authorization", "")
    sent = header[len("Bearer "):] if header.startswith("Bearer ") else ""
    return bool(sent) and bool(expected) and hmac.compare_digest(sent.encode(), expected.encode())


def requires_token(setting: str, when_unset: str | None = None):
    """401 unless the request carries `Authorization: Bearer <token>`. With `when_unset`, an empty
    token turns the endpoint off (403 with that text) instead of refusing every caller."""
    variable = TOKEN_VARIABLES[setting]

    def decorate(view):
        @functools.wraps(view)
        def checked(*args, **kwargs):
            expected = getattr(lab().settings, setting)
            if not expected and when_unset:
                return jsonify(error=when_unset), 403
            if not bearer_matches(expected):
                return jsonify(error=f"missing or wrong token: send `Authorization: Bearer <{variable}>`",
                               field="Authorization"), 401
            return view(*args, **kwargs)
        return checked
    return decorate
