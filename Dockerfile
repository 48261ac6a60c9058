# Queue Lab's one image: the API (gunicorn), the raw consumer and the Celery worker all run from it.
# docker-compose.yml gives each service its command; on its own the image runs the API on 8080.
# docker-compose.yml builds it once (the `token` service) and every other service uses it.
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

# The code last, owned by root: the app can read it, not change it. The translations' .po files are
# the source; the .mo files the API reads are compiled here (never committed).
COPY . .
RUN pybabel -q compile -d translations

USER queue-lab
EXPOSE 8080

# No HEALTHCHECK here: this one image also runs the workers, which serve no HTTP, so a check of the
# API's port would call a healthy `docker run … python -m consumer` "unhealthy". docker-compose.yml
# gives the API service its own check (GET /livez).

CMD ["gunicorn", "-c", "api/gunicorn_conf.py", "api:create_app()"]
