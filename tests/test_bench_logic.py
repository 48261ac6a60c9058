"""The bench's own arithmetic and result file (its measurements are exercised by the smoke run)."""
import json

import pytest

from bench.report import compare, table, write_results
from bench.rounds import interleaved, run_to_run, summarize
from bench.scaling import HISTORY, JOBS, QUEUED, scaling_tables
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


# Rounds: the median ratio and its spread -----------------------------------------------------------

def test_a_ratio_is_the_median_of_the_rounds_with_its_spread():
    result = summarize(floors=[100, 200, 100, 100, 50], paths=[50, 80, 60, 40, 30])
    assert result["ratios"] == [0.5, 0.4, 0.6, 0.4, 0.6]
    assert result["median"] == 0.5 and (result["min"], result["max"]) == (0.4, 0.6)
    assert result["spread_pct"] == pytest.approx(40.0) and result["rounds"] == 5
    assert (result["floor_median"], result["path_median"]) == (100, 50)


def test_rounds_with_nothing_measured_are_dropped_not_counted():
    result = summarize(floors=[100, None, 0, 100], paths=[50, 40, 30, None])
    assert (result["rounds"], result["dropped"], result["median"]) == (1, 3, 0.5)
    assert summarize([], [])["median"] is None and summarize([None], [1])["rounds"] == 0


def test_rounds_alternate_the_floor_and_the_path():
    calls = []
    make = lambda name, value: (lambda: calls.append(name) or value)  # noqa: E731
    result = interleaved({"a": (make("A", 10), make("B", 5)), "x": (make("X", 4), make("Y", 2))}, rounds=2)
    assert calls == ["A", "B", "X", "Y", "A", "B", "X", "Y"]
    assert result["a"]["median"] == 0.5 and result["x"]["median"] == 0.5 and result["a"]["rounds"] == 2


def _run(**medians):
    return {"ratios": {name: {"median": m} for name, m in medians.items()}}


def test_runs_are_stable_when_each_lies_within_fifteen_percent_of_their_median():
    result = run_to_run([_run(a=0.5, b=10), _run(a=0.52, b=12), _run(a=0.59, b=7)])
    assert result["a"]["center"] == 0.52 and result["a"]["stable"]
    assert result["a"]["worst_pct"] == pytest.approx(100 * 0.07 / 0.52)
    assert result["b"]["center"] == 10 and not result["b"]["stable"]  # 7 is 30 % under
    assert result["b"]["medians"] == [10, 12, 7]


def test_a_ratio_missing_from_a_run_or_never_measured_is_not_called_stable():
    result = run_to_run([_run(a=0.5, b=None), _run(a=0.5, b=1.0, c=3)])
    assert set(result) == {"a", "b"} and result["a"]["stable"]
    assert result["b"] == {"medians": [None, 1.0], "center": None, "worst_pct": None, "stable": False}


def _result_file(directory, when, **medians):
    document = {"when": when, "ratios": {name: {"median": m} for name, m in medians.items()}}
    (directory / f"{when}.json").write_text(json.dumps(document))


def test_compare_reads_the_last_runs_and_says_which_ratios_were_stable(tmp_path, capsys):
    _result_file(tmp_path, "20260101T000000Z", status_api_vs_bare_endpoint=9.0)  # older: left out
    _result_file(tmp_path, "20260102T000000Z", status_api_vs_bare_endpoint=0.70, rabbitmq_vs_bare_pika=0.50)
    (tmp_path / "20260102T100000Z.json").write_text(json.dumps({"when": "x", "scaling": {}}))  # no ratios
    _result_file(tmp_path, "20260103T000000Z", status_api_vs_bare_endpoint=0.72, rabbitmq_vs_bare_pika=0.30)
    _result_file(tmp_path, "20260104T000000Z", status_api_vs_bare_endpoint=0.66, rabbitmq_vs_bare_pika=0.52)
    assert compare(3, str(tmp_path)) == 0
    out = capsys.readouterr().out
    assert "20260101" not in out and "20260102T100000Z" not in out
    status, raw = (line for line in out.splitlines() if "·" in line)  # HEADLINES order: status first
    assert "0.70 · 0.72 · 0.66" in status and "stable: worst 6 % from 0.70" in status
    assert "0.50 · 0.30 · 0.52" in raw and "NOT stable: worst 40 % from 0.50" in raw


def test_compare_needs_two_runs(tmp_path, capsys):
    _result_file(tmp_path, "20260102T000000Z", status_api_vs_bare_endpoint=0.7)
    assert compare(3, str(tmp_path)) == 1
    assert "found 1" in capsys.readouterr().out


def test_the_scaling_tables_show_every_measure_and_a_dash_never_hides_a_crash():
    workers = {m: {1: 400.0, 2: 380.0, 4: 350.0} for m in QUEUED}
    short = {m: {1: 19.5, 2: 38.0, 4: 71.2} for m in QUEUED}
    jobs = {m: {n: {"p50_ms": 600.0, "p95_ms": 900.0, "send_s": 1.5, "all_done_s": 2.5} for n in JOBS}
            for m in QUEUED}
    jobs["celery_redis"][10000] = {}  # not measured: shown as zeros, not a KeyError
    history = {n: {"total_mb": 140.0, "delta_poll": {"p50_ms": 16.0}, "newest_500": {"p50_ms": 12.0},
                   "summary": {"p50_ms": 2.5}} for n in HISTORY}
    text = scaling_tables({"workers": workers, "workers_short_jobs": short, "jobs": jobs, "history": history})
    lines = text.splitlines()
    assert "ideal 20 a worker" in text
    assert [line for line in lines if line.startswith("Celery · Redis")][1].split()[-3:] == ["19.5", "38.0", "71.2"]
    assert "600/900" in text and "1.5/2.5" in text
    assert any(line.split()[:2] == ["1,000,000", "140"] and line.split()[-1] == "2.5" for line in lines)


def test_the_concurrency_bench_reads_makespan_waits_and_evenness_from_the_rows():
    from bench.concurrency import LONG_S, SHORT_S, jain, shape_figures

    assert jain([1, 1, 1, 1]) == 1 and jain([4, 0, 0, 0]) == 0.25 and jain([]) is None
    rows = [  # two slots: one ran the long job, the other the two short ones, back to back
        {"seconds": LONG_S, "worker_id": "a", "created_at": 0, "started_at": 0, "finished_at": LONG_S},
        {"seconds": SHORT_S, "worker_id": "b", "created_at": 0, "started_at": 0, "finished_at": SHORT_S},
        {"seconds": SHORT_S, "worker_id": "b", "created_at": 0, "started_at": SHORT_S, "finished_at": 2 * SHORT_S},
    ]
    figures = shape_figures(rows, slots=2)
    assert figures["makespan_s"] == LONG_S and figures["floor_s"] == round((LONG_S + 2 * SHORT_S) / 2, 2)
    assert (figures["short_wait_mean_s"], figures["short_wait_max_s"]) == (round(SHORT_S / 2, 2), SHORT_S)
    assert figures["slots_used"] == 2 and figures["jain"] == round(jain([LONG_S, 2 * SHORT_S]), 2)
