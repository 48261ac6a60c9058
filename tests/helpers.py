"""Plain helpers and constants the tests share (the fixtures are in conftest.py)."""
from __future__ import annotations

import os
import uuid

import pytest

TOKEN = "test-token"
RABBITMQ_URL = os.environ.get("RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/")
MANAGEMENT_URL = os.environ.get("RABBITMQ_MANAGEMENT_URL", "http://127.0.0.1:15672")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
RUN_ID = uuid.uuid4().hex[:8]  # every queue and vhost a test makes carries it: ours to delete


def missing(what: str) -> None:
    """A missing broker or browser fails under CI and skips on a developer's laptop."""
    if IN_CI:
        pytest.fail(f"{what} (CI=true: integration tests must run)", pytrace=False)
    pytest.skip(what)


def send(page, method: str, seconds: float, count: int = 1):
    """Fill a method's panel on the page and press Send; returns the panel's form."""
    form = page.locator(f'form[data-method="{method}"]')
    form.locator('input[name="seconds"]').fill(str(seconds))
    form.locator('input[name="count"]').fill(str(count))
    form.locator('button[type="submit"]').click()
    return form
