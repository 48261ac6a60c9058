"""Reading a JSON request body, with a 400 that names the problem when it is not JSON."""
from flask import request

from api.validation import BadField


def json_body():
    body = request.get_json(force=True, silent=True)
    if body is None:
        raise BadField("body", "the request body must be a JSON object (Content-Type: application/json)")
    return body
