"""What every Queue Lab process shares: the job, its states, how it travels and how it is reported.

The web app (`api/`), the raw consumer (`consumer/`) and the Celery worker (`celery_app.py`,
`celery_tasks.py`) all import this package, and it imports none of them — nor Flask, nor Celery —
so a change here is a change for every process, and a change anywhere else is not:

    settings.py          every environment variable, read once
    job_states.py        the statuses and the one state machine (`decide`)
    timed_job.py         the one timed job all three paths run
    queues.py            the queue names and the raw path's topology (work, wait, dead, delay)
    broker_connection.py how a process connects to RabbitMQ (fail fast, named connections)
    api_paths.py         the API addresses workers post to
    status_reporter.py   how a worker reports (batched, kept-alive HTTP)
    worker_heartbeat.py  how a worker announces itself to the workers panel
"""
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
