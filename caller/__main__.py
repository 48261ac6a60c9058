"""`python -m caller --method celery --seconds 3`: send Queue Lab's job from a program that never
imports `celery_tasks` or `celery_app` — Celery's `send_task("process_task", args=…)` by name, or the
same call as a pika publish. Both are "a name and arguments on a queue".

It first registers each job with the API (`POST /api/tasks` with `"publish": false`: the row is
written PENDING and its number handed out, nothing published), because the workers run only jobs
the table holds; then it sends each one itself, to the queue and with the arguments the API named.
The broker's password comes from this program's own settings (RABBITMQ_URL, REDIS_URL): the API
never hands it out.
"""
from __future__ import annotations

import argparse
import json
import sys

import requests

from queue_lab.settings import Settings

METHODS = ("celery", "celery_redis", "rabbitmq")


def register(api: str, method: str, seconds: float, count: int, owner: str | None) -> list[dict]:
    """The rows, PENDING, and what to send for each: {task_num, queue, task + args | body}."""
    body = {"method": method, "seconds": seconds, "count": count, "publish": False}
    if owner:
        body["owner"] = owner
    answer = requests.post(f"{api}/api/tasks", json=body, timeout=10)
    if answer.status_code != 201:
        error = answer.json().get("error") if answer.headers.get("Content-Type", "").startswith("application/json") else None
        raise SystemExit(f"the API refused the jobs ({answer.status_code}): {error or answer.text[:300]}")
    return answer.json()["messages"]


def send_by_name(settings: Settings, method: str, messages: list[dict]) -> None:
    """Celery's way, by name only: this Celery() has no tasks of its own."""
    from celery import Celery

    broker = settings.redis_url if method == "celery_redis" else settings.rabbitmq_url
    client = Celery(broker=broker)
    try:
        for message in messages:
            client.send_task(message["task"], args=message["args"], queue=message["queue"])
            print(f"#{message['task_num']}: send_task({message['task']!r}, args={message['args']!r}, "
                  f"queue={message['queue']!r})")
    finally:
        client.close()


def publish(settings: Settings, messages: list[dict]) -> None:
    """The same call by hand: a persistent JSON message on the raw path's queue, with a confirm."""
    import pika

    connection = pika.BlockingConnection(pika.URLParameters(settings.rabbitmq_url))
    try:
        channel = connection.channel()
        channel.confirm_delivery()  # the broker says it has the message, or this raises
        for message in messages:
            channel.basic_publish("", message["queue"], json.dumps(message["body"]).encode(),
                                  pika.BasicProperties(content_type="application/json", delivery_mode=2),
                                  mandatory=True)
            print(f"#{message['task_num']}: basic_publish('', {message['queue']!r}, {json.dumps(message['body'])})")
    finally:
        connection.close()


def main(argv: list[str] | None = None) -> int:
    settings = Settings.from_env()
    parser = argparse.ArgumentParser(prog="python -m caller", description=__doc__.split("\n\n")[0])
    parser.add_argument("--method", choices=METHODS, default="celery",
                        help="celery / celery_redis: send_task by name; rabbitmq: a pika publish")
    parser.add_argument("--seconds", type=float, default=3.0, help="how long each job works (default 3)")
    parser.add_argument("--count", type=int, default=1, help="how many jobs (default 1)")
    parser.add_argument("--owner", help="the name the table shows in its 'by' column")
    parser.add_argument("--api", default=settings.status_api_url, help=f"the API (default {settings.status_api_url})")
    args = parser.parse_args(argv)
    messages = register(args.api.rstrip("/"), args.method, args.seconds, args.count, args.owner)
    if args.method == "rabbitmq":
        publish(settings, messages)
    else:
        send_by_name(settings, args.method, messages)
    return 0


if __name__ == "__main__":
    sys.exit(main())
