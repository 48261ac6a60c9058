# Queue Lab's one image: the API (gunicorn), the raw consumer and the Celery worker all run from it.
# docker-compose.yml gives each service its command; on its own the image runs the API on 8080.
FROM python:3.11.15-slim-bookworm

# Logs reach `docker compose logs` at once; no .pyc files written next to the (read-only) code.
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first, in their own layer: editing the code does not reinstall them.
# Wheels only: every pinned requirement ships one (amd64 and arm64), so no compiler is ever
# installed — and a requirement that would need one fails the build instead of bloating the image.
COPY requirements.txt ./
RUN pip install --no-cache-dir --only-binary=:all: -r requirements.txt

# An unprivileged user. It owns /data (the SQLite volume) and /run/queue-lab (the status token
# volume): a new named volume takes the ownership of the directory it is mounted on.
RUN useradd --system --uid 10001 --user-group --create-home --home-dir /home/queue-lab queue-lab \
 && mkdir -p /data /run/queue-lab \
 && chown queue-lab:queue-lab /data /run/queue-lab

# The code last, owned by root: the app can read it, not change it.
COPY . .

USER queue-lab
EXPOSE 8080

# The API's health: broker reachable and database writable (GET /healthz answers 200, else 503).
# No curl in a slim image: Python's urllib does it; urlopen raises on a 503 or on no answer, so the
# check exits 1 (unhealthy).
# The workers don't serve HTTP: docker-compose.yml overrides this check for them.
HEALTHCHECK --interval=5s --timeout=4s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=3)"]

CMD ["gunicorn", "-c", "api/gunicorn_conf.py", "api:create_app()"]
