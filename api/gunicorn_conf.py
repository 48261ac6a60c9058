"""gunicorn settings for the API: `gunicorn -c api/gunicorn_conf.py "api:create_app()"`.

Why gthread: each Server-Sent Events stream holds one thread for as long as a page is open. With
threads, a stream never blocks other requests (and `SSE_MAX_STREAMS` per process, below the thread
count, always leaves threads free). And for gthread workers `timeout` is a liveness heartbeat sent
by the worker's main loop, not a request deadline — so streams are not killed after `timeout` s.
The values come from the environment through queue_lab.settings, like every other setting.
"""
from queue_lab.settings import Settings

_settings = Settings.from_env()

bind = _settings.api_bind
workers = _settings.api_workers
worker_class = "gthread"
threads = _settings.api_threads
timeout = _settings.api_timeout
graceful_timeout = 5  # open SSE streams never end by themselves; don't wait long for them on stop
keepalive = 5  # workers keep one HTTP connection each: reuse it between reports
accesslog = _settings.api_access_log or None  # "-" to log every request (noisy under load)
