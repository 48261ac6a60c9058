"""A small real run of the bench (2 rounds of 50 jobs, 5 viewers) against the real broker: proves the
harness works end to end and that every figure and ratio comes out, with its rounds. Its timings are
not judged here."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.broker, pytest.mark.browser]

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.timeout(420)
def test_the_bench_measures_every_figure(tmp_path, broker, chromium_path):
    result = subprocess.run(
        [sys.executable, "-m", "bench", "--rounds", "2", "--round-jobs", "50", "--round-requests", "200",
         "--result-rounds", "2", "--result-jobs", "40", "--workers", "1", "--enqueue-samples", "10", "--viewers", "5", "--updates-per-s", "100",
         "--viewer-seconds", "1", "--browser-updates", "5", "--history", "2000", "--page-rows", "600",
         "--out", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "status API / bare" in result.stdout and "update→browser" in result.stdout
    (path,) = tmp_path.glob("*.json")
    r = json.loads(path.read_text())
    assert set(r["ratios"]) == {"status_api_vs_bare_endpoint", "rabbitmq_vs_bare_pika", "celery_vs_bare_celery",
                                "celery_redis_vs_bare_celery_redis", "delay_cost_vs_pika_publish"}
    assert set(r["result_cost"]) == {"celery_rpc_result_vs_fire_and_forget", "celery_redis_result_vs_fire_and_forget",
                                     "rabbitmq_reply_vs_fire_and_forget"}
    assert "reply by hand / fire-and-forget" in result.stdout
    for name, summary in [*r["ratios"].items(), *r["result_cost"].items()]:
        assert summary["rounds"] == 2 and len(summary["ratios"]) == 2, (name, summary)
        assert summary["min"] <= summary["median"] <= summary["max"], (name, summary)
    for who in ("path", "floor"):  # the raw path's CPU profile, path and floor
        assert r["raw_profile"][who]["machine_ms_per_job"] > 0, r["raw_profile"]
    for method in ("rabbitmq", "celery", "celery_redis", "sync"):
        assert r["enqueue"][method]["p50_ms"] <= r["enqueue"][method]["p95_ms"]
    assert r["browser"]["missed"] == 0 and r["browser"]["p50_ms"] is not None
    assert r["viewers"]["converged"] == 5 and r["viewers"]["all_converged_s"] is not None
    assert r["memory"]["history_jobs"] == 2000 and r["memory"]["total_mb"] > 0
    assert r["page"]["rows_in_page"] >= 500 and r["page"]["frame_gap"]["p50_ms"] is not None


def test_without_its_brokers_the_bench_says_so_in_a_line_each_and_starts_nothing(tmp_path):
    from ops.stack import free_port

    result = subprocess.run(
        [sys.executable, "-m", "bench", "--out", str(tmp_path)], cwd=ROOT, capture_output=True, text=True,
        timeout=60, env={**os.environ, "RABBITMQ_URL": f"amqp://guest:guest@127.0.0.1:{free_port()}/",
                         "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("RabbitMQ is not reachable at amqp://guest:***@127.0.0.1:")
    assert lines[1].startswith("Redis is not reachable at redis://127.0.0.1:") and len(lines) == 2
    assert not list(tmp_path.iterdir())  # no result file: nothing was measured
