"""`python -m ops.preflight`: what `make run` checks before starting anything.

`--beside-run` is for the commands that run beside `make run` (`make consumer`, `make celery-worker`,
`make reset`, `make kill-worker`): the API's port being taken is then expected — it is the running
demo — so step 2 is skipped.

1. `.env` exists (copied from .env.example) and holds a STATUS_API_TOKEN — a random one unless the
   environment or `.env` already has one, which wins. Nobody has to invent a secret by hand.
   The environment wins over `.env`: var/run.env, which honcho reads, is written that way.
2. The API's port is free; if not (another program, or a Queue Lab already running), one line
   saying how to move it (API_PORT), instead of gunicorn's traceback and honcho stopping everything.
3. RabbitMQ answers at RABBITMQ_URL; if not, one clear message naming the ways to start it.
4. The management API answers (the queue panel); on a local broker, enable its plugin if needed.
"""
from __future__ import annotations

import os
import secrets
import shutil
import socket
import sys

import pika
import pika.exceptions

from queue_lab import PROJECT_ROOT
from queue_lab.broker_connection import connection_parameters
from queue_lab.settings import Settings

ENV_FILE = os.path.join(PROJECT_ROOT, ".env")
# honcho lets its env file override the environment; we want the opposite, so we hand it a file
# where every value already set in the environment replaces the one from .env.
RUN_ENV_FILE = os.path.join(PROJECT_ROOT, "var", "run.env")


def ensure_env_file() -> None:
    if not os.path.exists(ENV_FILE):
        shutil.copy(os.path.join(PROJECT_ROOT, ".env.example"), ENV_FILE)
        print("created .env from .env.example")
    with open(ENV_FILE) as f:
        has_token = any(line.strip().startswith("STATUS_API_TOKEN=") and line.strip() != "STATUS_API_TOKEN="
                        for line in f)
    if os.environ.get("STATUS_API_TOKEN") or has_token:
        return
    with open(ENV_FILE, "a") as f:
        f.write(f"STATUS_API_TOKEN={secrets.token_urlsafe(24)}\n")
    print("wrote a random STATUS_API_TOKEN into .env (workers and API share it)")


def env_file_values() -> dict[str, str]:
    values = {}
    with open(ENV_FILE) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                key, value = line.split("=", 1)
                values[key.strip()] = value.strip()
    return values


def api_port_taken(settings: Settings) -> bool:
    """Whether something listens on API_BIND already (a port in TIME_WAIT counts as free, as it
    does for gunicorn, which sets SO_REUSEADDR too)."""
    host, port = settings.api_bind.rsplit(":", 1)
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host or "0.0.0.0", int(port)))
        except OSError:
            return True
    return False


def broker_reachable(settings: Settings) -> bool:
    try:
        pika.BlockingConnection(connection_parameters(settings)).close()
        return True
    except (pika.exceptions.AMQPError, OSError):
        return False


def enable_local_management_plugin(settings: Settings) -> None:
    """The queue panel reads RabbitMQ's management API; a fresh local broker has it disabled."""
    import subprocess
    from urllib.parse import urlsplit

    from queue_lab.management_api import ManagementAPI

    url = settings.management_url
    if ManagementAPI.from_settings(settings).answers():
        return
    if urlsplit(url).hostname not in ("localhost", "127.0.0.1") or not shutil.which("rabbitmq-plugins"):
        print(f"note: the queue panel needs RabbitMQ's management API at {url} (not answering)")
        return
    print("enabling rabbitmq_management for the queue panel (rabbitmq-plugins enable rabbitmq_management)")
    result = subprocess.run(["rabbitmq-plugins", "enable", "rabbitmq_management"], capture_output=True,
                            text=True, timeout=120)
    if result.returncode != 0:
        print(f"note: could not enable it ({result.stderr.strip()[:200]}); the queue panel will say so")


def main(argv: list[str] | None = None) -> int:
    beside_run = "--beside-run" in (sys.argv[1:] if argv is None else argv)
    ensure_env_file()
    merged = {key: os.environ.get(key, value) for key, value in env_file_values().items()}
    os.makedirs(os.path.dirname(RUN_ENV_FILE), exist_ok=True)
    with open(RUN_ENV_FILE, "w") as f:
        f.writelines(f"{key}={value}\n" for key, value in merged.items())
    os.environ.update(merged)
    settings = Settings.from_env()
    port = int(settings.api_bind.rsplit(":", 1)[-1])
    if os.environ.get("API_PORT", str(port)) != str(port):  # an older .env spells the address out
        print(f"note: API_BIND={settings.api_bind} wins over API_PORT={os.environ['API_PORT']}; to use "
              "API_PORT, delete the API_BIND and STATUS_API_URL lines from .env", file=sys.stderr)
    if not beside_run and api_port_taken(settings):
        move = ("change API_BIND and STATUS_API_URL (set in .env or your shell)" if "API_BIND" in os.environ
                else f"run `API_PORT={port + 1} make run`, or set API_PORT in .env")
        print(f"\n  Port {port} is taken (another program, or a Queue Lab already running, listens there): "
              f"{move}.\n", file=sys.stderr)
        return 1
    if not broker_reachable(settings):
        print(f"\n  {settings.broker_hint}.\n", file=sys.stderr)
        return 1
    enable_local_management_plugin(settings)
    if not beside_run:
        print(f"\n  Queue Lab: open http://localhost:{port}/   (Ctrl-C stops everything)\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
