"""`python -m bench` (`make bench`): what each path costs, against bare floors from the same run.

It brings up Queue Lab on free ports against the real broker (queues named for this run, deleted
at the end), measures, prints a table and writes bench/results/<time>.json. Timing goals are
checked here, never in tests: machines are noisy, ratios against same-run floors are not.

The headline ratios are measured in rounds that alternate each floor with our path (bench/rounds.py):
the median of the rounds' ratios, with its spread. Then what keeping a result costs each
path (bench/result_cost.py). `--scaling` draws how cost grows with workers, jobs and history
(tables, and PNG charts in docs/bench/); `--class-at-once` runs a whole class.
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import time
import uuid
from pathlib import Path

RUN = uuid.uuid4().hex[:8]
TOKEN = f"bench-{RUN}"
QUEUES = {"RAW_QUEUE": f"ql.bench.{RUN}.jobs", "CELERY_QUEUE": f"ql.bench.{RUN}.celery"}
os.environ.update(QUEUES)  # before celery_app is imported: delay() must use this run's queue
os.environ.setdefault("RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")

from bench.browser_latency import measure_browser_latency, measure_page_with_many_rows  # noqa: E402
from bench.cpu import CpuMeter, broker_pid, group_pids  # noqa: E402
from bench.floors import celery_floor, pika_floors, start_celery_floor_workers  # noqa: E402
from bench.memory import measure_memory  # noqa: E402
from bench.pipeline import measure_enqueue, measure_throughput  # noqa: E402
from bench.report import HEADLINES, RESULTS_DIR, compare, table, write_results  # noqa: E402
from bench.result_cost import measure_result_cost, result_cost_rows  # noqa: E402
from bench.rounds import interleaved  # noqa: E402
from bench.status_api import measure_bare, measure_status_api, prepare_status_api  # noqa: E402
from bench.viewers import measure_viewers  # noqa: E402
from ops.stack import BIN, Stack, delete_queues, wait_until  # noqa: E402
from queue_lab.queues import queue_layout  # noqa: E402

QUEUED = ("rabbitmq", "celery", "celery_redis")


def arguments(argv):
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9, help="rounds of floor / path for each headline ratio")
    parser.add_argument("--round-jobs", type=int, default=800, help="zero-second jobs per method per round")
    parser.add_argument("--round-requests", type=int, default=4000, help="status reports per round")
    parser.add_argument("--result-rounds", type=int, default=5, help="rounds of fire-and-forget / with result")
    parser.add_argument("--result-jobs", type=int, default=400, help="zero-second jobs per way per result round")
    parser.add_argument("--workers", type=int, default=2, help="workers of each kind (W)")
    parser.add_argument("--enqueue-samples", type=int, default=200, help="one-job requests per method")
    parser.add_argument("--viewers", type=int, default=100, help="concurrent SSE viewers (K)")
    parser.add_argument("--updates-per-s", type=int, default=200, help="updates/s while K viewers watch")
    parser.add_argument("--viewer-seconds", type=float, default=5)
    parser.add_argument("--browser-updates", type=int, default=40)
    parser.add_argument("--history", type=int, default=100_000, help="jobs of history for the memory figure")
    parser.add_argument("--page-rows", type=int, default=10_000, help="jobs in the table for the page's smoothness")
    parser.add_argument("--scaling", action="store_true", help="also: how cost grows (tables + PNG charts)")
    parser.add_argument("--class-at-once", action="store_true", help="also: 30 students send at once")
    parser.add_argument("--only", choices=("results", "scaling", "class", "concurrency"),
                        help="run only that part (no headline rounds)")
    parser.add_argument("--charts", default=str(Path(__file__).resolve().parent.parent / "docs" / "bench"),
                        help="where --scaling writes its PNG charts")
    parser.add_argument("--out", default=None, help="results directory (default bench/results)")
    parser.add_argument("--compare", type=int, metavar="N",
                        help="measure nothing: are the last N runs' headline ratios within ±15 %% of their median?")
    return parser.parse_args(argv)


def stack_in(tmp: Path, name: str, **env) -> Stack:
    folder = tmp / name
    folder.mkdir()
    # RESULT_EXPIRES_S: the results the bench keeps and never reads (rpc:// queues, Redis keys) go soon
    return Stack(folder, {**QUEUES, "STATUS_API_TOKEN": TOKEN, "RABBITMQ_URL": os.environ["RABBITMQ_URL"],
                          "REDIS_URL": os.environ["REDIS_URL"], "SSE_KEEPALIVE_S": "5", "RESULT_EXPIRES_S": "120",
                          "MAX_WAITING_JOBS": "10000000", **env})  # the bench fills the table on purpose


def start_workers(stack: Stack, workers: int, methods=QUEUED) -> None:
    for i in range(workers):
        if "rabbitmq" in methods:
            stack.start_consumer(f"consumer{i}")
        if "celery" in methods:
            stack.start_celery_worker(f"celery{i}")
        if "celery_redis" in methods:
            stack.start_celery_worker(f"celery-redis{i}", CELERY_BROKER_KIND="redis")


def delete_run_queues() -> None:
    import pika
    import redis

    connection = pika.BlockingConnection(pika.URLParameters(os.environ["RABBITMQ_URL"]))
    layout = queue_layout(QUEUES["RAW_QUEUE"], QUEUES["CELERY_QUEUE"])
    delete_queues(connection, [*layout.names(), *(name + ".floor" for name in QUEUES.values())],
                  exchanges=layout.exchange_names())
    connection.close()
    client = redis.Redis.from_url(os.environ["REDIS_URL"])  # and this run's keys: the Redis is shared
    keys = list(client.scan_iter(match=f"*{QUEUES['CELERY_QUEUE']}*"))
    if keys:
        client.delete(*keys)


def brokers_missing() -> list[str]:
    """What the bench needs before it starts anything: RabbitMQ, and Redis for Celery · Redis.
    One line each, as `make run` says it, instead of a traceback minutes into the run."""
    import pika
    import redis

    from queue_lab.settings import Settings

    settings = Settings.from_env()
    missing = []
    try:
        pika.BlockingConnection(pika.URLParameters(settings.rabbitmq_url)).close()
    except (pika.exceptions.AMQPError, OSError):
        missing.append(settings.broker_hint)
    try:
        redis.Redis.from_url(settings.redis_url, socket_connect_timeout=2, socket_timeout=2).ping()
    except (redis.RedisError, OSError):
        missing.append(settings.redis_hint + " (the bench measures Celery on Redis too)")
    return missing


def step(title: str):
    print(f"… {title}", file=sys.stderr, flush=True)


def _answers(url: str) -> bool:
    import requests
    try:
        return requests.post(url, json={}, timeout=1).status_code == 200
    except requests.RequestException:
        return False


def _medians(samples: list[dict]) -> dict:
    import statistics
    return {key: statistics.median(s[key] for s in samples) for key in samples[0]} if samples else {}


def headline_rounds(tmp: Path, args, main: Stack, profile: dict) -> dict:
    """Every headline ratio, floor and path alternating round by round, with everything they need
    running from the first round to the last (so each round differs only in the moment)."""
    bare = stack_in(tmp, "bare")
    floor = stack_in(tmp, "celery-floor")
    try:
        bare.start("bare-api", [str(BIN / "gunicorn"), "-c", "api/gunicorn_conf.py", "bench.bare_app:create_app()"])
        wait_until(lambda: _answers(bare.base_url + "/bare"), 20, what="the bare endpoint")
        floor_queue = QUEUES["CELERY_QUEUE"] + ".floor"
        for broker in ("rabbitmq", "redis"):
            start_celery_floor_workers(floor, args.workers, floor_queue, broker)
        probes = prepare_status_api(main, TOKEN)
        tallies = {broker: str(tmp / f"tally-{broker}") for broker in ("rabbitmq", "redis")}
        last = {}  # the latest floor figures, for the publish/delay cost ratio
        # The raw path's profile (README "Performance"): CPU per job, by who spends it, path and floor.
        broker = [pid] if (pid := broker_pid()) else []
        workers = [s.pid for s in main.services if s.name.startswith("consumer")]
        path_groups = {"api": group_pids(main.services[0].pid), "consumers": workers, "broker": broker,
                       "bench": [os.getpid()]}
        profile.update(floor=[], path=[])

        def pika_round():
            meter = CpuMeter({"broker": broker, "bench": [os.getpid()]})
            last["pika"] = pika_floors(os.environ["RABBITMQ_URL"], QUEUES["RAW_QUEUE"] + ".floor",
                                       args.round_jobs, args.workers, meter)
            profile["floor"].append(meter.per_job(args.round_jobs))
            return last["pika"]["end_to_end_jobs_per_s"]

        def raw_round():
            with CpuMeter(path_groups) as meter:
                measured = measure_throughput(main, "rabbitmq", args.round_jobs)
            profile["path"].append(meter.per_job(args.round_jobs))
            return measured["jobs_per_s"]

        def celery_round():
            last["celery"] = celery_floor(args.round_jobs, tallies["rabbitmq"], floor_queue)
            return last["celery"]["end_to_end_jobs_per_s"]

        pairs = {
            "status_api_vs_bare_endpoint": (
                lambda: measure_bare(bare.base_url, args.round_requests, 16)["requests_per_s"],
                lambda: measure_status_api(main, TOKEN, args.round_requests, 16, probes)["requests_per_s"]),
            "rabbitmq_vs_bare_pika": (pika_round, raw_round),
            "celery_vs_bare_celery": (celery_round,
                                      lambda: measure_throughput(main, "celery", args.round_jobs)["jobs_per_s"]),
            "celery_redis_vs_bare_celery_redis": (
                lambda: celery_floor(args.round_jobs, tallies["redis"], floor_queue, "redis")["end_to_end_jobs_per_s"],
                lambda: measure_throughput(main, "celery_redis", args.round_jobs)["jobs_per_s"]),
            # a cost ratio: how many bare publishes one delay() costs (publish rate / delay rate)
            "delay_cost_vs_pika_publish": (lambda: last["celery"]["delay_per_s"],
                                           lambda: last["pika"]["publish_per_s"]),
        }
        ratios = interleaved(pairs, args.rounds, on_round=lambda r: step(f"round {r + 1} of {args.rounds}"))
        profile.update(floor=_medians(profile["floor"]), path=_medians(profile["path"]))
        return ratios
    finally:
        bare.stop()
        floor.stop()


def run(args) -> dict:
    results: dict = {"parameters": vars(args)}
    with tempfile.TemporaryDirectory(prefix="queue-lab-bench-") as tmp_name:
        tmp = Path(tmp_name)
        try:
            if args.only is None:
                main = stack_in(tmp, "main")
                try:
                    main.start_api()
                    start_workers(main, args.workers)
                    step(f"headline ratios: {args.rounds} rounds of each floor and our path")
                    results["raw_profile"] = {}
                    results["ratios"] = headline_rounds(tmp, args, main, results["raw_profile"])
                    step(f"what a result costs: {args.result_rounds} rounds of each path without and with one")
                    results["result_cost"] = measure_result_cost(main, args.result_jobs, args.result_rounds, step)
                    results["enqueue"] = {}
                    for method in (*QUEUED, "sync"):
                        step(f"enqueue: {args.enqueue_samples} one-job requests by {method}")
                        results["enqueue"][method] = measure_enqueue(main, method, args.enqueue_samples)
                    step("update → browser latency (headless Chromium)")
                    results["browser"] = measure_browser_latency(main, TOKEN, args.browser_updates)
                    step(f"the page with {args.page_rows} jobs in the table, updates flowing")
                    results["page"] = measure_page_with_many_rows(main, TOKEN, args.page_rows)
                    step(f"{args.viewers} SSE viewers at {args.updates_per_s} updates/s")
                    results["viewers"] = measure_viewers(main, TOKEN, args.viewers, args.updates_per_s,
                                                         args.viewer_seconds)
                finally:
                    main.stop()
                step(f"API memory with {args.history} jobs of history")
                memory = stack_in(tmp, "memory")
                try:
                    results["memory"] = measure_memory(memory, args.history)
                finally:
                    memory.stop()
            if args.only == "results":
                main = stack_in(tmp, "main")
                try:
                    main.start_api()
                    start_workers(main, args.workers)
                    step(f"what a result costs: {args.result_rounds} rounds of each path without and with one")
                    results["result_cost"] = measure_result_cost(main, args.result_jobs, args.result_rounds, step)
                finally:
                    main.stop()
            if args.scaling or args.only == "scaling":
                from bench.scaling import measure_scaling
                results["scaling"] = measure_scaling(lambda name, **env: stack_in(tmp, name, **env), start_workers,
                                                     args.charts, step)
            if args.scaling or args.only == "concurrency":  # part of how cost grows: four slots, four ways
                from bench.concurrency import measure_concurrency
                results["concurrency"] = measure_concurrency(lambda name: stack_in(tmp, name), step)
            if args.class_at_once or args.only == "class":
                from bench.classroom import measure_class_at_once
                step("a class at once: 30 students × 50 one-second jobs, 30 viewers")
                results["class_at_once"] = measure_class_at_once(stack_in(tmp, "class"), TOKEN, start_workers)
        finally:
            delete_run_queues()
    return results


def _pair(*values, fmt="{:.0f}") -> str | None:
    """"a / b" for the table, or None (shown as a dash) when a figure is missing."""
    return None if None in values else " / ".join(fmt.format(v) for v in values)


def _median(summary: dict) -> str | None:
    if summary.get("median") is None:
        return None
    return (f"{summary['median']:.2f}× [{summary['min']:.2f}–{summary['max']:.2f}, "
            f"n={summary['rounds']}]")


def rows_for(r: dict) -> list[tuple]:
    rows = []
    for key, label in HEADLINES.items():
        s = r["ratios"][key]
        rows.append((label, _median(s), "", None if s.get("floor_median") is None else
                     f"floor {s['floor_median']:,.0f} / ours {s['path_median']:,.0f} (medians)"))
    if r.get("result_cost"):
        rows += result_cost_rows(r["result_cost"], _median)
    p = r.get("raw_profile") or {}
    if p.get("path") and p.get("floor"):
        rows.append(("RabbitMQ path: CPU per job (machine)", p["path"]["machine_ms_per_job"], " ms",
                     f"API {p['path']['api_ms_per_job']:.2f} · consumers {p['path']['consumers_ms_per_job']:.2f} · "
                     f"broker {p['path']['broker_ms_per_job']:.2f} ms; machine {p['path']['busy_pct']:.0f}% busy"))
        rows.append(("pika floor: CPU per job (machine)", p["floor"]["machine_ms_per_job"], " ms",
                     f"broker {p['floor']['broker_ms_per_job']:.2f} ms; machine {p['floor']['busy_pct']:.0f}% busy"))
    for method, e in r["enqueue"].items():
        rows.append((f"{method}: enqueue p50 / p95", _pair(e["p50_ms"], e["p95_ms"], fmt="{:.1f}"), " ms",
                     "one job per POST /api/tasks, 4 clients"))
    b, v, mem = r["browser"], r["viewers"], r["memory"]
    rows += [
        ("update→browser p50 / p95", _pair(b["p50_ms"], b["p95_ms"]), " ms", f"goal ≤ 100 / ≤ 250; {b['missed']} missed"),
        (f"{v['viewers']} viewers: all converged", None if v["all_converged_s"] is None else v["all_converged_s"] * 1000,
         " ms", f"goal ≤ 1000; {v['fell_back_to_polling']} polled; {v['updates_per_s_sent']:.0f} updates/s"),
        ("submit p95 while watched", v["submit_latency"]["p95_ms"], " ms", "goal < 100"),
        (f"page, {r['page']['jobs_in_table']} jobs: frame p50 / p95", _pair(r["page"]["frame_gap"]["p50_ms"],
         r["page"]["frame_gap"]["p95_ms"]), " ms", f"{r['page']['rows_in_page']} rows in the DOM; "
         f"{r['page']['long_frames_over_50ms']} frames > 50 ms; loaded in {r['page']['load_s']:.1f} s"),
        (f"API RSS, {mem['history_jobs']} jobs", mem["total_mb"], " MB", f"goal < 150; {mem['processes']} processes"),
    ]
    return rows


def main(argv=None) -> int:
    args = arguments(argv)
    # `kill` stops the bench like Ctrl-C: the finally blocks stop every process it started
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if args.compare:
        return compare(args.compare, args.out or RESULTS_DIR)
    missing = brokers_missing()
    if missing:
        print("\n".join(missing), file=sys.stderr)
        return 2
    started = time.perf_counter()
    results = run(args)
    results["took_s"] = time.perf_counter() - started
    if "ratios" in results:
        print(table(rows_for(results)))
    elif "result_cost" in results:
        print(table(result_cost_rows(results["result_cost"], _median)))
    if "scaling" in results:
        from bench.scaling import scaling_tables
        print("\n" + scaling_tables(results["scaling"]))
    if "concurrency" in results:
        from bench.concurrency import concurrency_rows
        print("\n" + table(concurrency_rows(results["concurrency"])))
    if "class_at_once" in results:
        from bench.classroom import class_table
        print("\n" + class_table(results["class_at_once"]))
    path = write_results(results, args.out or RESULTS_DIR)
    print(f"\nresults: {path}  ({results['took_s']:.0f} s)")
    if "ratios" in results:
        print('stable from run to run? after three runs: make bench BENCH_ARGS="--compare 3"')
    return 0


if __name__ == "__main__":
    sys.exit(main())
