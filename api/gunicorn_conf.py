"""gunicorn settings for the API: `gunicorn -c api/gunicorn_conf.py "api:create_app()"`.

Why gthread: each Server-Sent Events stream holds one thread for as long as a page is open. With
threads, a stream never blocks other requests (and `SSE_MAX_STREAMS` per process, below the thread
count, always leaves threads free). And for gthread workers `timeout` is a liveness heartbeat sent
by the worker's main loop, not a request deadline — so streams are not killed after `timeout` s.
"""
import os

bind = os.environ.get("API_BIND", "0.0.0.0:8080")
workers = int(os.environ.get("API_WORKERS", "2"))
worker_class = "gthread"
threads = int(os.environ.get("API_THREADS", "128"))
timeout = int(os.environ.get("API_TIMEOUT", "30"))
graceful_timeout = 5  # open SSE streams never end by themselves; don't wait long for them on stop
keepalive = 5  # workers keep one HTTP connection each: reuse it between reports
accesslog = os.environ.get("API_ACCESS_LOG") or None  # "-" to log every request (noisy under load)
