"""Queue Lab's web app: `create_app()` builds it (gunicorn: `api:create_app()`).

Only the web app lives here; what workers share with it is the `queue_lab` package.
"""
from __future__ import annotations

import dataclasses

from flask import Flask

from api.state import LabState
from queue_lab import PROJECT_ROOT
from queue_lab.settings import Settings


def create_app(test_config: dict | None = None) -> Flask:
    """Defaults, then the environment (queue_lab.settings), then `test_config` on top:
    `{"SETTINGS": {field: value}}` replaces settings, any other key goes into `app.config`."""
    from api import i18n, request_body
    from api.errors import register_error_handlers
    from api.routes import register_routes

    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    settings = Settings.from_env()
    if test_config:
        settings = dataclasses.replace(settings, **test_config.get("SETTINGS", {}))
        app.config.update({k: v for k, v in test_config.items() if k != "SETTINGS"})
    if not settings.status_api_token:
        raise RuntimeError(
            "STATUS_API_TOKEN is not set: workers could not authenticate. `make run` writes a random "
            "one into .env; or export STATUS_API_TOKEN=<something secret> for the API and workers."
        )
    LabState.build(settings).init_app(app)
    request_body.init_app(app)  # every write is JSON: no cross-site form can change anything
    i18n.init_app(app)  # EN / RU / UK: the page, its scripts and the API's error texts
    register_routes(app)
    register_error_handlers(app)
    return app
