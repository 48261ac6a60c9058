"""The bench's own arithmetic and result file (its measurements are exercised by the smoke run)."""
import json

import pytest

from bench.report import table, write_results
from bench.stats import percentile, rate, ratio, summary_ms


@pytest.mark.parametrize("values, p, expected", [
    ([], 50, None),
    ([7.0], 95, 7.0),
    ([1, 2, 3, 4, 5], 50, 3),
    ([1, 2, 3, 4], 50, 2.5),
    ([1, 2, 3, 4, 5], 0, 1),
    ([1, 2, 3, 4, 5], 100, 5),
    ([5, 1, 4, 2, 3], 75, 4),  # unsorted input
    (list(range(1, 101)), 95, 95.05),
])
def test_percentile_interpolates_between_ranks(values, p, expected):
    assert percentile(values, p) == (None if expected is None else pytest.approx(expected))


def test_summary_ms_reports_milliseconds_and_count():
    assert summary_ms([0.001, 0.002, 0.003]) == {"p50_ms": pytest.approx(2), "p95_ms": pytest.approx(2.9),
                                                  "p99_ms": pytest.approx(2.98), "n": 3}
    assert summary_ms([])["p50_ms"] is None


def test_rate_and_ratio():
    assert rate(100, 2.0) == 50
    assert rate(5, 0) is None
    assert ratio(800, 1000) == 0.8
    assert ratio(None, 1000) is None and ratio(5, 0) is None


def test_results_file_is_json_with_the_machine(tmp_path):
    path = write_results({"status_api": {"ratio": 0.9}}, directory=str(tmp_path))
    document = json.loads(open(path).read())
    assert document["status_api"] == {"ratio": 0.9}
    assert document["machine"]["cpus"] >= 1 and path.endswith(".json")


def test_table_aligns_values_and_shows_missing_as_a_dash():
    text = table([("status API req/s", 3500.0, "", "0.87× bare"), ("browser p95", None, " ms", "")])
    assert "3,500" in text and "0.87× bare" in text and "—" in text
