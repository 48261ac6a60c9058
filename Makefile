# Queue Lab — `make run` starts the demo, `make test` runs every test. Both set themselves up.
VENV ?= .venv
PY := $(VENV)/bin/python
export PATH := $(abspath $(VENV))/bin:$(PATH)

.PHONY: run consumer consumer-routed celery-worker celery-worker-long call-by-name reset kill-worker bench test compose-test venv dev-venv browser catalogs clean

$(VENV)/.runtime: requirements.txt
	@test -x $(PY) || python3 -m venv $(VENV) || \
	  (apt-get update -qq && apt-get install -y -qq python3-venv && python3 -m venv $(VENV))
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	@touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	@touch $@

# The translations (EN / RU / UK): the .po files are the source; the .mo files the API reads are
# compiled here, by the install step, and never committed.
MO := $(patsubst %.po,%.mo,$(wildcard translations/*/LC_MESSAGES/messages.po))
translations/%/LC_MESSAGES/messages.mo: translations/%/LC_MESSAGES/messages.po $(VENV)/.runtime
	@$(VENV)/bin/pybabel -q compile -i $< -o $@ -l $*

venv: $(VENV)/.runtime $(MO)
dev-venv: $(VENV)/.dev $(MO)

$(VENV)/.bench: $(VENV)/.dev requirements-bench.txt
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-bench.txt
	@touch $@

## After changing a text in api/, templates/ or static/: extract every message again and add the new
## ones to translations/ru and translations/uk (empty: tests/test_i18n.py fails until they are translated).
catalogs: dev-venv
	$(VENV)/bin/pybabel -q extract -F babel.cfg -k lazy_gettext -o translations/messages.pot --no-location \
	  --add-comments=TRANSLATORS: --project="Queue Lab" --copyright-holder="Queue Lab" .
	$(VENV)/bin/pybabel -q update -i translations/messages.pot -d translations --no-fuzzy-matching --ignore-obsolete

## The demo on http://localhost:8080: API (gunicorn), one raw consumer, one Celery worker.
run: venv
	@$(PY) -m ops.preflight
	honcho start -e var/run.env

## One more worker beside `make run` (another terminal), with the same settings: scale out by hand.
consumer: venv
	@$(PY) -m ops.preflight --beside-run >/dev/null
	honcho run -e var/run.env python -m consumer

celery-worker: venv
	@$(PY) -m ops.preflight --beside-run >/dev/null
	honcho run -e var/run.env celery -A celery_app worker --loglevel=INFO --hostname=celery-$$$$@%h

## One more worker on the long lane (the routes lesson): it consumes only <CELERY_QUEUE>.long (-Q).
celery-worker-long: venv
	@$(PY) -m ops.preflight --beside-run >/dev/null
	honcho run -e var/run.env sh -c 'celery -A celery_app worker --loglevel=INFO --hostname=celery-long-$$$$@%h -Q $${CELERY_QUEUE:-queue_lab.celery}.long'

## One more consumer that binds a queue of its own (the exchanges lesson, docs/exchanges.md):
##   make consumer-routed BINDS='topic:report.*' NAME=reports
BINDS ?= topic:report.*
NAME ?=
consumer-routed: venv
	@$(PY) -m ops.preflight --beside-run >/dev/null
	honcho run -e var/run.env env CONSUMER_BINDS='$(BINDS)' CONSUMER_ROUTED_QUEUE='$(NAME)' python -m consumer

## Class reset: purge Queue Lab's queues and clear the status table.
reset: venv
	@$(PY) -m ops.preflight --beside-run >/dev/null
	honcho run -e var/run.env flask --app api reset

## A job sent by a second program that knows only a name and arguments (caller/, docs/call-by-name.md):
## METHOD=celery|celery_redis (send_task by name) or rabbitmq (a pika publish), SECONDS, COUNT.
METHOD ?= celery
SECONDS ?= 3
COUNT ?= 1
call-by-name: venv
	@$(PY) -m ops.preflight --beside-run >/dev/null
	honcho run -e var/run.env python -m caller --method $(METHOD) --seconds $(SECONDS) --count $(COUNT)

## Fault lab: SIGKILL the worker running job TASK (e.g. make kill-worker TASK=12); WHOLE=1 kills a
## Celery worker's main process too, as `docker kill` would (the Redis visibility-timeout lesson).
kill-worker: venv
	@$(PY) -m ops.preflight --beside-run >/dev/null
	honcho run -e var/run.env flask --app api kill-worker $(TASK) $(if $(WHOLE),--whole)

## Debian's Chromium for the browser tests (Playwright drives it; it never downloads a browser).
browser:
	@command -v chromium >/dev/null || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver)

## Unit, integration (real RabbitMQ, real processes) and browser tests. The run guard ends a run
## that hangs (between or after tests) at TEST_DEADLINE_S with what was still alive, and fails it.
TEST_DEADLINE_S ?= 1200
test: dev-venv browser
	$(PY) -m ops.run_guard $(TEST_DEADLINE_S) -- $(PY) -m pytest $(PYTEST_ARGS)

## The instructor's path in real containers: docker compose up, scale, kill, reset, outage, Flower.
## Needs Docker with Compose v2 (here: ../shared/tools/docker-lab/setup . first). Not part of `test`.
compose-test: dev-venv
	$(PY) -m ops.run_guard 2400 -- $(PY) -m pytest -m compose tests/compose -p no:cacheprovider -s --timeout=1800

## What each path costs, against bare floors measured in the same run: each headline ratio in rounds
## (median and spread), then what a result costs, then the single figures (table + bench/results/*.json). About 4½ minutes.
## More: make bench BENCH_ARGS="--scaling --class-at-once" (the curves, PNG charts in docs/bench/, a
## whole class at once); only those: BENCH_ARGS="--only scaling" or "--only class".
bench: $(VENV)/.bench $(MO) browser
	$(PY) -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var test-artifacts $(MO)
