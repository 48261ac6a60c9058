"""A small real run of the bench (N=50, K=5) against the real broker: proves the harness works end
to end and that every figure and ratio comes out. Its timings are not judged here."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.broker, pytest.mark.browser]

ROOT = Path(__file__).resolve().parent.parent


def test_the_bench_measures_every_figure(tmp_path, broker, chromium_path):
    result = subprocess.run(
        [sys.executable, "-m", "bench", "--jobs", "50", "--workers", "2", "--viewers", "5",
         "--updates-per-s", "100", "--viewer-seconds", "1", "--status-requests", "300",
         "--browser-updates", "5", "--history", "2000", "--page-rows", "600", "--out", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "status API req/s" in result.stdout and "update→browser" in result.stdout
    (path,) = tmp_path.glob("*.json")
    r = json.loads(path.read_text())
    assert all(value is not None for value in r["ratios"].values()), r["ratios"]
    for method in ("rabbitmq", "celery", "celery_redis", "sync"):
        figures = r["methods"][method]
        assert figures["done"] == 50
        assert figures["enqueue"]["p50_ms"] <= figures["enqueue"]["p95_ms"]
        assert figures["end_to_end"]["p95_ms"] <= figures["end_to_end"]["p99_ms"]
        assert figures["jobs_per_s"] > 0
    assert r["browser"]["missed"] == 0 and r["browser"]["p50_ms"] is not None
    assert r["viewers"]["converged"] == 5 and r["viewers"]["all_converged_s"] is not None
    assert r["memory"]["history_jobs"] == 2000 and r["memory"]["total_mb"] > 0
    assert r["page"]["rows_in_page"] >= 500 and r["page"]["frame_gap"]["p50_ms"] is not None
    for floor in ("floor_pika", "floor_celery", "floor_redis", "bare_endpoint"):
        assert all(v is not None for v in r[floor].values()), r[floor]
