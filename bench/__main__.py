"""`python -m bench` (`make bench`): what each path costs, against bare floors from the same run.

It brings up Queue Lab on free ports against the real broker (queues named for this run, deleted
at the end), measures, prints a table and writes bench/results/<time>.json. Timing goals are
checked here, never in tests: machines are noisy, ratios against same-run floors are not.
"""
from __future__ import annotations

import argparse
import os
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
from bench.floors import celery_floor, pika_floors, redis_floors  # noqa: E402
from bench.memory import measure_memory  # noqa: E402
from bench.pipeline import measure_method  # noqa: E402
from bench.report import table, write_results  # noqa: E402
from bench.stats import ratio  # noqa: E402
from bench.status_api import measure_bare, measure_status_api  # noqa: E402
from bench.viewers import measure_viewers  # noqa: E402
from ops.stack import BIN, Stack, delete_queues, wait_until  # noqa: E402
from queue_lab.queues import queue_layout  # noqa: E402


def arguments(argv):
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2000, help="zero-second jobs per method (N)")
    parser.add_argument("--workers", type=int, default=2, help="workers of each kind (W)")
    parser.add_argument("--viewers", type=int, default=100, help="concurrent SSE viewers (K)")
    parser.add_argument("--updates-per-s", type=int, default=200, help="updates/s while K viewers watch")
    parser.add_argument("--viewer-seconds", type=float, default=5)
    parser.add_argument("--status-requests", type=int, default=4000, help="requests per HTTP load run")
    parser.add_argument("--browser-updates", type=int, default=40)
    parser.add_argument("--history", type=int, default=100_000, help="jobs of history for the memory figure")
    parser.add_argument("--page-rows", type=int, default=10_000, help="jobs in the table for the page's smoothness")
    parser.add_argument("--out", default=None, help="results directory (default bench/results)")
    return parser.parse_args(argv)


def stack_in(tmp: Path, name: str) -> Stack:
    folder = tmp / name
    folder.mkdir()
    return Stack(folder, {**QUEUES, "STATUS_API_TOKEN": TOKEN, "RABBITMQ_URL": os.environ["RABBITMQ_URL"],
                          "SSE_KEEPALIVE_S": "5"})


def delete_run_queues() -> None:
    import pika
    connection = pika.BlockingConnection(pika.URLParameters(os.environ["RABBITMQ_URL"]))
    layout = queue_layout(QUEUES["RAW_QUEUE"], QUEUES["CELERY_QUEUE"])
    delete_queues(connection, [*layout.names(), *(name + ".floor" for name in QUEUES.values())])
    connection.close()
    import redis  # and this run's keys in Redis (Celery on Redis, the floor): the Redis is shared
    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    keys = list(client.scan_iter(match=f"*{QUEUES['CELERY_QUEUE']}*"))
    if keys:
        client.delete(*keys)


def step(title: str):
    print(f"… {title}", file=sys.stderr, flush=True)


def run(args) -> dict:
    results: dict = {"parameters": vars(args)}
    with tempfile.TemporaryDirectory(prefix="queue-lab-bench-") as tmp_name:
        tmp = Path(tmp_name)
        try:
            step("floors: bare pika publish / confirm / consume+ack")
            results["floor_pika"] = pika_floors(os.environ["RABBITMQ_URL"], QUEUES["RAW_QUEUE"] + ".floor",
                                                max(1000, args.jobs), args.workers)
            step("floors: bare Redis LPUSH / LPUSH → BRPOP")
            results["floor_redis"] = redis_floors(os.environ["REDIS_URL"], QUEUES["CELERY_QUEUE"] + ".floor",
                                                  max(1000, args.jobs), args.workers)
            step("floors: bare Celery no-op drained by our worker settings")
            floor = stack_in(tmp, "celery-floor")
            try:
                results["floor_celery"] = celery_floor(floor, args.jobs, args.workers, str(tmp / "tally"))
            finally:
                floor.stop()

            step("floors: bare Flask endpoint with a SQLite write, same gunicorn config")
            bare = stack_in(tmp, "bare")
            try:
                bare.start("bare-api", [str(BIN / "gunicorn"), "-c", "api/gunicorn_conf.py",
                                        "bench.bare_app:create_app()"])
                wait_until(lambda: _answers(bare.base_url + "/bare"), 20, what="the bare endpoint")
                results["bare_endpoint"] = measure_bare(bare.base_url, args.status_requests, 16)
            finally:
                bare.stop()

            main = stack_in(tmp, "main")
            try:
                main.start_api()
                step("our status API under the same load")
                results["status_api"] = measure_status_api(main, TOKEN, args.status_requests, 16)
                for i in range(args.workers):
                    main.start_consumer(f"consumer{i}")
                    main.start_celery_worker(f"celery{i}")
                    main.start_celery_worker(f"celery-redis{i}", CELERY_BROKER_KIND="redis")
                results["methods"] = {}
                samples = min(200, args.jobs)
                for method, jobs in (("rabbitmq", args.jobs), ("celery", args.jobs), ("celery_redis", args.jobs),
                                     ("sync", min(args.jobs, 200))):
                    step(f"pipeline: {samples} one-job requests, then {jobs} zero-second jobs by {method}")
                    results["methods"][method] = measure_method(main, method, jobs, samples)
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
        finally:
            delete_run_queues()
    results["ratios"] = ratios(results)
    return results


def _answers(url: str) -> bool:
    import requests
    try:
        return requests.post(url, json={}, timeout=1).status_code == 200
    except requests.RequestException:
        return False


def ratios(r: dict) -> dict:
    methods = r["methods"]
    return {
        "status_api_vs_bare_endpoint": ratio(r["status_api"]["requests_per_s"],
                                             r["bare_endpoint"]["requests_per_s"]),
        "rabbitmq_vs_bare_pika": ratio(methods["rabbitmq"]["jobs_per_s"],
                                       r["floor_pika"]["end_to_end_jobs_per_s"]),
        "celery_vs_bare_celery": ratio(methods["celery"]["jobs_per_s"],
                                       r["floor_celery"]["end_to_end_jobs_per_s"]),
        "celery_redis_vs_bare_redis": ratio(methods["celery_redis"]["jobs_per_s"],
                                            r["floor_redis"]["end_to_end_jobs_per_s"]),
        "delay_cost_vs_pika_publish": ratio(r["floor_pika"]["publish_per_s"], r["floor_celery"]["delay_per_s"]),
        "delay_cost_vs_confirmed_publish": ratio(r["floor_pika"]["publish_confirmed_per_s"],
                                                 r["floor_celery"]["delay_per_s"]),
    }


def _pair(*values, fmt="{:.0f}") -> str | None:
    """"a / b" for the table, or None (shown as a dash) when a figure is missing."""
    return None if None in values else " / ".join(fmt.format(v) for v in values)


def rows_for(r: dict) -> list[tuple]:
    q, m, x = r["ratios"], r["methods"], lambda v, goal: None if v is None else f"{v:.2f}× {goal}"
    rows = [
        ("floor: pika publish /s", r["floor_pika"]["publish_per_s"], "", "bare, no confirm"),
        ("floor: pika publish+confirm /s", r["floor_pika"]["publish_confirmed_per_s"], "", "a confirm per message"),
        ("floor: pika end-to-end jobs/s", r["floor_pika"]["end_to_end_jobs_per_s"], "", "confirmed publish → consume → ack, prefetch 1"),
        ("floor: Redis LPUSH /s", r["floor_redis"]["lpush_per_s"], "", "bare, one client"),
        ("floor: Redis end-to-end jobs/s", r["floor_redis"]["end_to_end_jobs_per_s"], "", "LPUSH → BRPOP, no ack"),
        ("floor: Celery delay() /s", r["floor_celery"]["delay_per_s"], "", "no-op task"),
        ("floor: Celery end-to-end jobs/s", r["floor_celery"]["end_to_end_jobs_per_s"], "", "same worker settings"),
        ("floor: bare endpoint req/s", r["bare_endpoint"]["requests_per_s"], "", "Flask + SQLite write, same gunicorn"),
        ("status API req/s", r["status_api"]["requests_per_s"], "", x(q["status_api_vs_bare_endpoint"], "bare (goal ≥ 0.8)")),
    ]
    for method in ("rabbitmq", "celery", "celery_redis", "sync"):
        s = m[method]
        goal = {"rabbitmq": x(q["rabbitmq_vs_bare_pika"], "floor (goal ≥ 0.5)"),
                "celery": x(q["celery_vs_bare_celery"], "floor (goal ≥ 0.5)"),
                "celery_redis": x(q["celery_redis_vs_bare_redis"], "Redis floor")}.get(method)
        rows += [
            (f"{method}: enqueue p50 / p95", _pair(s["enqueue"]["p50_ms"], s["enqueue"]["p95_ms"], fmt="{:.1f}"),
             " ms", "one job per POST /api/tasks, 4 clients"),
            (f"{method}: created→DONE p50/p95/p99", _pair(*(s["end_to_end"][f"p{p}_ms"] for p in (50, 95, 99))),
             " ms", f"{s['jobs']} jobs sent in batches of 500"),
            (f"{method}: jobs/s", s["jobs_per_s"], "", goal or f"{s['done']} jobs"),
            (f"{method}: status reports/s", s["status_reports_per_s"], "", "2 per zero-second job"),
        ]
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
        ("Celery delay() cost vs pika publish", q["delay_cost_vs_pika_publish"], "×", "how many raw publishes one delay() costs"),
    ]
    return rows


def main(argv=None) -> int:
    args = arguments(argv)
    started = time.perf_counter()
    results = run(args)
    results["took_s"] = time.perf_counter() - started
    print(table(rows_for(results)))
    path = write_results(results, args.out) if args.out else write_results(results)
    print(f"\nresults: {path}  ({results['took_s']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
