"""The one page students open."""
from flask import Blueprint, make_response, render_template, request

from api.state import lab

bp = Blueprint("page", __name__)

PRESENTER_COOKIE = "present"


@bp.get("/")
def index():
    # Presenter mode (a projector): ?present=1 or 0 switches it and is remembered, like the page's toggle.
    asked = request.args.get("present")
    presenter = (asked if asked in ("0", "1") else request.cookies.get(PRESENTER_COOKIE)) == "1"
    # class_controls: whether the class-wide buttons start disabled until a token is entered.
    settings = lab().settings
    response = make_response(render_template("index.html", class_controls=settings.class_controls,
                                              presenter=presenter,
                                              redis_visibility_timeout_s=settings.redis_visibility_timeout_s))
    if asked in ("0", "1"):
        response.set_cookie(PRESENTER_COOKIE, asked, max_age=365 * 24 * 3600, samesite="Lax")
    return response
