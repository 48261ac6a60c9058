"""How cost grows (`python -m bench --scaling`): with more workers, with more jobs, with more history.

1. jobs/s of each queue path with 1, 2 and 4 workers of a kind: 1,000 zero-second jobs (what the
   path itself costs) and 100 jobs of 50 ms (work a worker does: what scaling out is for);
2. created→DONE p50 / p95 with 500, 2,000 and 10,000 zero-second jobs sent at once (2 workers a
   kind), with how long the sending took and when the last one was DONE;
3. the API's memory and the page's queries with 10k, 100k and 1M jobs of history: the delta poll
   (`/api/tasks?since=`), the newest 500 rows, and the summary.
Printed as tables, drawn as PNG charts (matplotlib, from requirements-bench.txt) into docs/bench/.
"""
from __future__ import annotations

import statistics
import time
from pathlib import Path

from bench.memory import measure_memory
from bench.pipeline import measure_throughput
from bench.stats import summary_ms

QUEUED = ("rabbitmq", "celery", "celery_redis")
WORKERS = (1, 2, 4)
SHORT_JOB_S, SHORT_JOBS = 0.05, 100
JOBS = (500, 2000, 10000)
HISTORY = (10_000, 100_000, 1_000_000)
LABELS = {"rabbitmq": "RabbitMQ direct", "celery": "Celery · RabbitMQ", "celery_redis": "Celery · Redis"}


def _timed_get(stack, path: str, times: int = 20) -> dict:
    latencies = []
    for _ in range(times):
        started = time.perf_counter()
        stack.session.get(stack.base_url + path, timeout=120).raise_for_status()
        latencies.append(time.perf_counter() - started)
    return summary_ms(latencies)


def measure_scaling(new_stack, start_workers, charts_dir: str, step) -> dict:
    result = {"workers": {m: {} for m in QUEUED}, "workers_short_jobs": {m: {} for m in QUEUED},
              "jobs": {m: {} for m in QUEUED}, "history": {}}
    for workers in WORKERS:
        stack = new_stack(f"scale-w{workers}")
        try:
            stack.start_api()
            start_workers(stack, workers)
            for method in QUEUED:
                step(f"scaling: {method} with {workers} worker(s)")
                rates = [measure_throughput(stack, method, 1000)["jobs_per_s"] for _ in range(2)]
                result["workers"][method][workers] = statistics.median(rates)
                step(f"scaling: {method} with {workers} worker(s), {SHORT_JOBS} jobs of {SHORT_JOB_S * 1000:.0f} ms")
                result["workers_short_jobs"][method][workers] = measure_throughput(
                    stack, method, SHORT_JOBS, seconds=SHORT_JOB_S)["jobs_per_s"]
        finally:
            stack.stop()
    stack = new_stack("scale-jobs")
    try:
        stack.start_api()
        start_workers(stack, 2)
        for jobs in JOBS:
            for method in QUEUED:
                step(f"scaling: {jobs} jobs by {method}")
                measured = measure_throughput(stack, method, jobs, timeout=1200)
                result["jobs"][method][jobs] = {"p50_ms": measured["end_to_end"]["p50_ms"],
                                                "p95_ms": measured["end_to_end"]["p95_ms"],
                                                "jobs_per_s": measured["jobs_per_s"],
                                                "send_s": measured["send_s"], "all_done_s": measured["window_s"]}
    finally:
        stack.stop()
    for history in HISTORY:
        step(f"scaling: the API with {history:,} jobs of history")
        stack = new_stack(f"history-{history}")
        try:
            memory = measure_memory(stack, history)
            seq = stack.session.get(stack.base_url + "/api/tasks?limit=1", timeout=120).json()["seq"]
            result["history"][history] = {
                "total_mb": memory["total_mb"], "fill_s": memory["fill_s"],
                "delta_poll": _timed_get(stack, f"/api/tasks?since={max(0, seq - 5)}"),
                "newest_500": _timed_get(stack, "/api/tasks?limit=500"),
                "summary": _timed_get(stack, "/api/summary", times=5),
            }
        finally:
            stack.stop()
    result["charts"] = draw_charts(result, Path(charts_dir))
    return result


def scaling_tables(r: dict) -> str:
    head = f"{'method':<20}" + "".join(f"{w:>10}" for w in WORKERS)
    lines = ["jobs/s by workers of a kind: 1,000 zero-second jobs (median of 2)", head]
    for method in QUEUED:
        lines.append(f"{LABELS[method]:<20}" + "".join(f"{r['workers'][method].get(w) or 0:>10.0f}" for w in WORKERS))
    lines += ["", f"jobs/s by workers of a kind: {SHORT_JOBS} jobs of {SHORT_JOB_S * 1000:.0f} ms "
              f"(ideal {1 / SHORT_JOB_S:.0f} a worker)", head]
    for method in QUEUED:
        lines.append(f"{LABELS[method]:<20}" + "".join(
            f"{r['workers_short_jobs'][method].get(w) or 0:>10.1f}" for w in WORKERS))
    lines += ["", "zero-second jobs sent at once, 2 workers a kind: created→DONE p50/p95 ms; sent in / all DONE after s",
              f"{'method':<20}" + "".join(f"{n:>24,}" for n in JOBS)]
    for method in QUEUED:
        cells = [r["jobs"][method].get(n, {}) for n in JOBS]
        lines.append(f"{LABELS[method]:<20}" + "".join(
            f"{c.get('p50_ms') or 0:>7.0f}/{c.get('p95_ms') or 0:<6.0f}{c.get('send_s') or 0:>5.1f}/"
            f"{c.get('all_done_s') or 0:<5.1f}" for c in cells))
    lines += ["", "the API with N jobs of history", f"{'jobs':>10}{'RSS MB':>10}{'delta p50 ms':>14}"
              f"{'newest 500 p50':>16}{'summary p50':>13}"]
    for history, h in r["history"].items():
        lines.append(f"{int(history):>10,}{h['total_mb']:>10.0f}{h['delta_poll']['p50_ms']:>14.1f}"
                     f"{h['newest_500']['p50_ms']:>16.1f}{h['summary']['p50_ms']:>13.1f}")
    return "\n".join(lines)


def draw_charts(r: dict, directory: Path) -> list[str]:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    directory.mkdir(parents=True, exist_ok=True)
    colours = {"rabbitmq": "#b93a00", "celery": "#0b6e4f", "celery_redis": "#9c1c5c"}
    written = []

    figure, (zero, short) = plt.subplots(1, 2, figsize=(10, 4))
    for axes, key, title in ((zero, "workers", "zero-second jobs: the path's own cost"),
                             (short, "workers_short_jobs", f"jobs of {SHORT_JOB_S * 1000:.0f} ms: work to share")):
        for method in QUEUED:
            axes.plot(WORKERS, [r[key][method].get(w) for w in WORKERS], marker="o", color=colours[method],
                      label=LABELS[method])
        if axes is short:
            short.plot(WORKERS, [w / SHORT_JOB_S for w in WORKERS], ":", color="grey",
                       label="ideal (workers ÷ job time)")
        axes.set(xlabel="workers of a kind", ylabel="jobs/s", xticks=WORKERS, title=title, ylim=(0, None))
        axes.grid(alpha=0.3)
    short.legend(fontsize=8)
    written.append(_save(figure, directory / "throughput-by-workers.png"))

    figure, (latency, total) = plt.subplots(1, 2, figsize=(10, 4))
    for method in QUEUED:
        cells = [r["jobs"][method].get(n, {}) for n in JOBS]
        for key, style in (("p50_ms", "-"), ("p95_ms", "--")):
            latency.plot(JOBS, [c.get(key) for c in cells], style, marker="o", color=colours[method],
                         label=f"{LABELS[method]} {key[:3]}")
        total.plot(JOBS, [c.get("all_done_s") for c in cells], marker="o", color=colours[method],
                   label=LABELS[method])
    latency.set(xscale="log", yscale="log", xlabel="zero-second jobs sent at once", ylabel="created → DONE (ms)",
                title="Each job's wait (2 workers a kind)")
    total.set(xscale="log", yscale="log", xlabel="zero-second jobs sent at once", ylabel="s",
              title="Until the last one is DONE")
    for axes in (latency, total):
        axes.grid(alpha=0.3, which="both")
        axes.legend(fontsize=7)
    written.append(_save(figure, directory / "latency-by-jobs.png"))

    figure, (memory, queries) = plt.subplots(1, 2, figsize=(9, 3.8))
    histories = sorted(int(h) for h in r["history"])
    memory.plot(histories, [r["history"][h]["total_mb"] for h in histories], marker="o", color="#1553b6")
    memory.set(xscale="log", xlabel="jobs of history", ylabel="API resident memory (MB)", title="Memory",
               ylim=(0, None))
    for key, label in (("delta_poll", "delta poll"), ("newest_500", "newest 500"), ("summary", "summary")):
        queries.plot(histories, [r["history"][h][key]["p50_ms"] for h in histories], marker="o", label=label)
    queries.set(xscale="log", yscale="log", xlabel="jobs of history", ylabel="p50 (ms)", title="Queries")
    for axes in (memory, queries):
        axes.grid(alpha=0.3, which="both")
    queries.legend(fontsize=8)
    written.append(_save(figure, directory / "history.png"))
    return written


def _save(figure, path: Path) -> str:
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    import matplotlib.pyplot as plt
    plt.close(figure)
    return str(path)
