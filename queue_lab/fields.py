"""Checking the fields of a JSON object that came from a stranger: a form, a worker's report, or a
message a student published to our queue by hand. Every refusal is a `BadField` naming the field
and what it must be, in the reader's language where there is one (the API's request; a worker has
none and says it in English, which is what goes into a dead-lettered message's reason header).

One set of checks for every boundary, so "seconds must be a number from 0 to 300" reads the same on
the page, in a 400, and on a message in the dead queue.
"""
from __future__ import annotations

import math
import sys
from typing import Any


def gettext(message: str, **values) -> str:
    """The reader's language in the API (through Flask-Babel, which the web app has loaded); a
    worker has no reader and no Flask (tests/test_layout.py), and says it in English."""
    babel = sys.modules.get("flask_babel")
    if babel is not None:
        return babel.gettext(message, **values)
    return message % values if values else message


class BadField(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def number(body: dict, name: str, low: float, high: float, required: bool = True, default=None):
    """A finite JSON number in [low, high] (never a bool, NaN or infinity)."""
    if name not in body:
        if required:
            raise BadField(name, gettext("%(name)s is required", name=name))
        return default
    value = body[name]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (
            isinstance(value, float) and not math.isfinite(value)):
        raise BadField(name, gettext("%(name)s must be a number from %(low)s to %(high)s, got %(got)s",
                                     name=name, low=_bound(low), high=_bound(high),
                                     got=_shown(value)))
    if not low <= value <= high:
        raise BadField(name, gettext("%(name)s must be from %(low)s to %(high)s, got %(got)s",
                                     name=name, low=_bound(low), high=_bound(high),
                                     got=_shown(value)))
    return value


def whole(body: dict, name: str, low: int, high: int, required: bool = True, default=None):
    value = number(body, name, low, high, required, default)
    if value is not None and value != int(value):
        raise BadField(name, gettext("%(name)s must be a whole number from %(low)s to %(high)s, got %(got)s",
                                     name=name, low=low, high=high, got=_shown(value)))
    return None if value is None else int(value)


def text(body: dict, name: str, required: bool, max_len: int = 2000):
    if name not in body or body[name] is None:
        if required:
            raise BadField(name, gettext("%(name)s is required", name=name))
        return None
    value = body[name]
    if not isinstance(value, str) or (required and not value.strip()):
        raise BadField(name, gettext("%(name)s must be a non-empty string, got %(got)s", name=name,
                                     got=_shown(value)))
    if len(value) > max_len:
        raise BadField(name, gettext("%(name)s must be at most %(most)s characters", name=name, most=max_len))
    return value


def flag(body: dict, name: str) -> bool:
    value = body.get(name, False)
    if not isinstance(value, bool):
        raise BadField(name, gettext("%(name)s must be true or false, got %(got)s", name=name, got=_shown(value)))
    return value


def one_of(body: dict, name: str, allowed: tuple[str, ...], default):
    value = body.get(name, default)
    if value not in allowed:
        raise BadField(name, gettext("%(name)s must be one of %(allowed)s, got %(got)s",
                                     name=name, allowed=", ".join(allowed), got=_shown(value)))
    return value


def json_object(body: Any, allowed: set[str], what: str = "body") -> dict:
    """`body` itself must be an object (not an array, a string or null), with only `allowed` keys."""
    if not isinstance(body, dict):
        if what == "body":
            raise BadField("body", gettext("the request body must be a JSON object"))
        # `what` is a worker's message: a worker has no reader's language, and says it in English
        raise BadField("body", f"{what} must be a JSON object, got {_shown(body)}")
    unknown = sorted(str(key) for key in set(body) - allowed)
    if unknown:
        raise BadField(unknown[0], gettext("unknown field %(field)s; expected %(expected)s",
                                           field=repr(unknown[0]), expected=", ".join(sorted(allowed))))
    return body


def _bound(limit: float) -> str:
    return str(limit) if isinstance(limit, int) else format(limit, "g")  # 9223372036854775807, 0.1


def _shown(value: Any, most: int = 60) -> str:
    """The offending value as the refusal quotes it: short, whatever a stranger sent."""
    shown = repr(value)
    return shown if len(shown) <= most else shown[:most] + "…"
