"""The one page students open."""
from flask import Blueprint, render_template

from api.state import lab

bp = Blueprint("page", __name__)


@bp.get("/")
def index():
    # Whether the class-wide buttons start disabled (CLASS_CONTROLS=instructor) until a token is entered.
    return render_template("index.html", class_controls=lab().settings.class_controls)
