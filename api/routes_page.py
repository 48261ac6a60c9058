"""The one page students open."""
from flask import Blueprint, render_template

page = Blueprint("page", __name__)


@page.get("/")
def index():
    return render_template("index.html")
