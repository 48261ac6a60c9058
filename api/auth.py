"""Shared-secret checks: workers send STATUS_API_TOKEN, the instructor INSTRUCTOR_TOKEN."""
import hmac

from flask import request


def bearer_matches(expected: str) -> bool:
    header = request.headers.get("Authorization", "")
    sent = header[len("Bearer "):] if header.startswith("Bearer ") else ""
    return bool(sent) and bool(expected) and hmac.compare_digest(sent.encode(), expected.encode())
