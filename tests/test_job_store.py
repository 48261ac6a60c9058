"""The SQLite store: seq stamping, deltas, persistence, and several processes writing at once."""
import pytest

from api.job_store import JobStore, UnknownTask
from queue_lab.job_states import DONE, DUPLICATE, ERROR, IN_PROGRESS, PENDING, REFUSED, RETRYING, Report
from tests.helpers import run_together


@pytest.fixture
def store(tmp_path):
    return JobStore(str(tmp_path / "jobs.sqlite3"))


def test_created_jobs_are_pending_and_share_one_seq(store):
    nums = store.create("celery", 2.5, False, 3)
    rows = [store.get(n) for n in nums]
    assert {r["task_status"] for r in rows} == {PENDING}
    assert len({r["seq"] for r in rows}) == 1
    assert rows[0]["seconds"] == 2.5 and rows[0]["attempt"] == 0


def test_every_change_bumps_seq_and_deltas_return_only_changes(store):
    a, b = store.create("rabbitmq", 1, False, 2)
    seq_after_create = store.current_seq()
    store.advance(a, Report(IN_PROGRESS, "w1", 10, starting=True))
    rows, seq = store.changed_since(seq_after_create, 100)
    assert [r["task_num"] for r in rows] == [a]
    assert seq == store.current_seq() > seq_after_create
    assert store.changed_since(seq, 100) == ([], seq)


def test_a_delta_limit_never_splits_one_write(store):
    nums = store.create("celery", 1, False, 5)  # five rows, one seq
    rows, seq = store.changed_since(0, 2)
    assert sorted(r["task_num"] for r in rows) == nums
    assert seq == store.current_seq()


def test_a_delta_limit_resumes_where_it_stopped(store):
    first = store.create("celery", 1, False, 1)
    second = store.create("celery", 1, False, 1)
    rows, seq = store.changed_since(0, 1)
    assert [r["task_num"] for r in rows] == first
    rows, _ = store.changed_since(seq, 1)
    assert [r["task_num"] for r in rows] == second


def test_refused_reports_change_nothing(store):
    (num,) = store.create("celery", 1, False, 1)
    store.advance(num, Report(DONE, "w1"))
    before = store.get(num)
    decision, row = store.advance(num, Report(IN_PROGRESS, "w1", 50))
    assert decision.outcome == REFUSED
    assert store.get(num) == before == row


def test_unknown_task(store):
    with pytest.raises(UnknownTask):
        store.advance(999, Report(DONE, "w1"))


def test_fail_unsent_marks_only_pending_rows(store):
    a, b = store.create("rabbitmq", 1, False, 2)
    store.advance(a, Report(DONE, "w1"))
    store.fail_unsent([a, b], "broker down")
    assert store.get(a)["task_status"] == DONE
    assert (store.get(b)["task_status"], store.get(b)["error"]) == (ERROR, "broker down")


def test_a_new_store_on_the_same_file_keeps_everything(tmp_path):
    path = str(tmp_path / "jobs.sqlite3")
    (num,) = JobStore(path).create("sync", 1, True, 1)
    assert JobStore(path).get(num)["fail"] is True


def test_summary_per_method(store):
    a, b = store.create("celery", 1, False, 2)
    store.advance(a, Report(DONE, "w1"))
    store.advance(b, Report(ERROR, "w1", message="x"))
    store.create("rabbitmq", 1, False, 1)
    summary = store.summary()
    assert (summary["celery"]["sent"], summary["celery"]["done"], summary["celery"]["failed"]) == (2, 1, 1)
    assert summary["celery"]["mean_run"] is not None
    assert summary["rabbitmq"]["active"] == 1


def summary_by_scan(store) -> dict:
    """The summary the slow way (the query /api/summary ran before the totals): the reference."""
    rows = store.db.connection().execute(
        """SELECT method, COUNT(*), SUM(task_status = 'DONE'), SUM(task_status IN ('ERROR', 'LOST')),
                  SUM(task_status IN ('PENDING', 'SCHEDULED', 'IN_PROGRESS', 'RETRYING')),
                  AVG(started_at - created_at),
                  AVG(CASE WHEN task_status = 'DONE' THEN finished_at - started_at END)
           FROM jobs GROUP BY method""").fetchall()
    return {m: {"sent": sent, "done": done, "failed": failed, "active": active, "mean_wait": wait, "mean_run": run}
            for m, sent, done, failed, active, wait, run in rows}


def assert_same_summary(store):
    kept, scanned = store.summary(), summary_by_scan(store)
    assert kept.keys() == scanned.keys()
    for method, expected in scanned.items():
        for key, value in expected.items():
            assert kept[method][key] == pytest.approx(value, abs=1e-6), (method, key, kept[method], expected)


def test_the_summary_kept_by_triggers_matches_a_scan_through_every_kind_of_change(store, monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr("api.job_store.time.time", lambda: clock[0])

    def later(seconds):
        clock[0] += seconds

    a, b, c, d = store.create("celery", 1, False, 4)
    (r,) = store.create("rabbitmq", 1, False, 1)
    assert_same_summary(store)
    later(0.5)
    store.advance(a, Report(IN_PROGRESS, "w1", 0, starting=True, run_id="a"))
    store.advance(r, Report(IN_PROGRESS, "w2", 0, starting=True, run_id="r"))
    later(1.25)
    store.advance(a, Report(IN_PROGRESS, "w1", 50, run_id="a"))  # progress only: the totals stay
    store.advance(a, Report(DONE, "w1", run_id="a"))
    store.advance(b, Report(ERROR, "w1", message="boom"))
    assert_same_summary(store)
    store.advance(r, Report(IN_PROGRESS, "w2", 0, starting=True, run_id="r2"))  # redelivered: attempt 2
    later(1)
    assert r in store.sweep_lost(silent_for_s=0.5)  # a silent running job: LOST
    assert_same_summary(store)
    later(10)
    store.advance(c, Report(IN_PROGRESS, "w3", 0, starting=True, run_id="c"))  # a LOST job comes back
    store.advance(c, Report(DONE, "w3", run_id="c"))
    assert_same_summary(store)
    later(100)
    assert store.prune(older_than_s=50) > 0
    assert_same_summary(store)
    store.create("sync", 0, False, 2)
    store.reset()
    assert store.summary() == {} == summary_by_scan(store)
    store.create("celery_redis", 0, False, 3)
    assert_same_summary(store)


def test_a_database_from_before_the_totals_gets_them_from_its_jobs(tmp_path):
    path = str(tmp_path / "old.sqlite3")
    old = JobStore(path)
    a, _ = old.create("celery", 1, False, 2)
    old.advance(a, Report(IN_PROGRESS, "w1", 0, starting=True))
    old.advance(a, Report(DONE, "w1"))
    connection = old.db.connection()  # as an earlier version left it: no totals, no triggers
    for trigger in ("jobs_totals_insert", "jobs_totals_delete", "jobs_totals_update"):
        connection.execute(f"DROP TRIGGER {trigger}")
    connection.execute("DROP TABLE method_totals")
    old.db.connection().execute("UPDATE jobs SET task_status = 'LOST' WHERE task_status = 'PENDING'")
    reopened = JobStore(path)
    assert reopened.summary()["celery"]["failed"] == 1
    assert_same_summary(reopened)
    JobStore(path)  # a second process starting: fills nothing twice
    assert_same_summary(reopened)


def _report_progress(path, nums, worker, steps):
    store = JobStore(path)  # a connection of this process's own
    for step in range(1, steps + 1):
        for num in nums:
            store.advance(num, Report(IN_PROGRESS, worker, float(step)))


def test_several_processes_writing_at_once_lose_nothing(tmp_path):
    path = str(tmp_path / "jobs.sqlite3")
    store = JobStore(path)
    workers = 4
    nums = {w: store.create("rabbitmq", 1, False, 5) for w in range(workers)}
    for w, mine in nums.items():
        for num in mine:
            store.advance(num, Report(IN_PROGRESS, f"w{w}", 0, starting=True))
    seq_before = store.current_seq()
    run_together(_report_progress, [(path, nums[w], f"w{w}", 20) for w in range(workers)], tmp_path)
    rows = [store.get(n) for mine in nums.values() for n in mine]
    assert {r["progress"] for r in rows} == {20.0}
    # Every applied write took its own seq: 4 workers × 5 jobs × 20 steps, no seq reused or lost.
    assert store.current_seq() - seq_before == workers * 5 * 20
    assert_same_summary(store)


def test_a_job_that_starts_again_after_done_keeps_its_result_and_counts_the_rerun(store):
    (num,) = store.create("rabbitmq", 1, False, 1)
    store.advance(num, Report(IN_PROGRESS, "w1", 0, starting=True, run_id="a"))
    store.advance(num, Report(DONE, "w1", run_id="a"))
    decision, row = store.advance(num, Report(IN_PROGRESS, "w1", 0, starting=True, run_id="b"))
    assert decision.outcome == REFUSED
    assert (row["task_status"], row["attempt"], row["reruns"]) == (DONE, 1, 1)
    assert "ran again after DONE" in store.history(num)[-1]["detail"]


def test_sweeper_marks_silent_running_jobs_lost_and_a_redelivery_revives_them(store):
    (num,) = store.create("celery", 1, False, 1)
    store.advance(num, Report(IN_PROGRESS, "w1", 10, starting=True, run_id="a"))
    assert store.sweep_lost(silent_for_s=0) == [num]
    assert store.get(num)["task_status"] == "LOST" and "no report from w1" in store.get(num)["error"]
    _, row = store.advance(num, Report(IN_PROGRESS, "w2", 0, starting=True, run_id="b"))
    assert (row["task_status"], row["attempt"], row["error"]) == (IN_PROGRESS, 2, None)
    assert [e["task_status"] for e in store.history(num)] == ["PENDING", "IN_PROGRESS", "LOST", "IN_PROGRESS"]


def test_prune_forgets_only_old_finished_jobs(store):
    done, running = store.create("celery", 1, False, 2)
    store.advance(done, Report(DONE, "w1"))
    store.advance(running, Report(IN_PROGRESS, "w1", 1))
    assert store.prune(older_than_s=-1) == 1
    assert store.get(running)["task_status"] == IN_PROGRESS
    with pytest.raises(UnknownTask):
        store.get(done)


def test_a_database_from_the_first_version_opens_and_gains_the_new_columns(tmp_path):
    import sqlite3
    path = str(tmp_path / "old.sqlite3")
    old = sqlite3.connect(path)
    old.executescript("""
        CREATE TABLE jobs (task_num INTEGER PRIMARY KEY AUTOINCREMENT, method TEXT NOT NULL,
            seconds REAL NOT NULL, fail INTEGER NOT NULL DEFAULT 0, task_status TEXT NOT NULL,
            progress REAL NOT NULL DEFAULT 0, worker_id TEXT, run_id TEXT,
            attempt INTEGER NOT NULL DEFAULT 0, celery_id TEXT, error TEXT, created_at REAL NOT NULL,
            started_at REAL, finished_at REAL, seq INTEGER NOT NULL);
        CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
        INSERT INTO counters VALUES ('seq', 1);
        INSERT INTO jobs (method, seconds, task_status, created_at, seq) VALUES ('celery', 1, 'DONE', 1, 1);
    """)
    old.close()
    store = JobStore(path)
    assert store.get(1)["task_status"] == DONE and store.get(1)["reruns"] == 0
    (num,) = store.create("rabbitmq", 1, False, 1, delay_s=5)
    assert store.get(num)["due_at"] is not None


# A worker sends a report again when the answer to it was lost (a timeout after the API applied it):
# every report must then change nothing. Each case: the reports before it, then the one sent twice.
RUN = "run-1"
SENT_TWICE = {
    PENDING: ([], Report(PENDING, "w1")),
    "IN_PROGRESS (start)": ([], Report(IN_PROGRESS, "w1", 0, starting=True, run_id=RUN)),
    "IN_PROGRESS (progress)": ([Report(IN_PROGRESS, "w1", 0, starting=True, run_id=RUN)],
                               Report(IN_PROGRESS, "w1", 40, run_id=RUN)),
    RETRYING: ([Report(IN_PROGRESS, "w1", 0, starting=True, run_id=RUN)],
               Report(RETRYING, "w1", 50, "flaky", run_id=RUN, retry_in_s=2)),
    DONE: ([Report(IN_PROGRESS, "w1", 0, starting=True, run_id=RUN)], Report(DONE, "w1", 100, run_id=RUN)),
    ERROR: ([Report(IN_PROGRESS, "w1", 0, starting=True, run_id=RUN)],
            Report(ERROR, "w1", 50, "failed on purpose", run_id=RUN)),
}


@pytest.mark.parametrize("case", SENT_TWICE)
def test_every_report_is_safe_to_apply_twice(store, case):
    before, report = SENT_TWICE[case]
    (num,) = store.create("rabbitmq", 1, False, 1)
    for earlier in before:
        store.advance(num, earlier)
    store.advance(num, report)
    once, story = store.get(num), store.history(num)
    decision, _ = store.advance(num, report)
    assert decision.outcome == DUPLICATE, decision.reason
    assert store.get(num) == once  # not a column moved, not even seq: nothing to show the page
    assert store.history(num) == story


def test_a_redis_that_restarted_empty_loses_only_the_jobs_waiting_in_it(store):
    """A Redis that keeps nothing on disk forgets its lists when it restarts: the Celery · Redis jobs
    sent before that and still waiting are LOST with the reason; others are untouched."""
    import time as clock

    waiting = store.create("celery_redis", 1, False, 2)
    running, = store.create("celery_redis", 1, False, 1)
    store.advance(running, Report(IN_PROGRESS, "w1", 0, starting=True, run_id="r"))
    on_rabbitmq, = store.create("celery", 1, False, 1)
    restarted = clock.time() + 5  # as if Redis started after all of them were sent
    lost = store.sweep_redis_restart(restarted)
    assert sorted(lost) == sorted(waiting)
    assert all("Redis restarted" in store.get(num)["error"] for num in waiting)
    assert store.get(running)["task_status"] == IN_PROGRESS and store.get(on_rabbitmq)["task_status"] == PENDING
    later, = store.create("celery_redis", 1, False, 1)
    assert store.sweep_redis_restart(clock.time() - 60) == []  # sent after the restart: still there
    assert store.get(later)["task_status"] == PENDING
    # …and a job that shows up after all (an RDB snapshot kept it) comes back on its row
    store.advance(waiting[0], Report(IN_PROGRESS, "w2", 0, starting=True, run_id="r2"))
    assert store.get(waiting[0])["task_status"] == IN_PROGRESS


def _open_store(path):
    JobStore(path)  # what a gunicorn worker would die of at boot, if it raised


def test_processes_opening_a_new_database_together_all_start(tmp_path):
    """gunicorn boots its workers together, and compose gives them a fresh volume: each one turns
    the new file to WAL and creates the schema at the same moment. Switching to WAL needs an
    exclusive lock, and SQLite answers "database is locked" at once rather than wait (its busy
    timeout does not cover that deadlock), so a worker failed to boot and took the API down."""
    for attempt in range(15):
        path = str(tmp_path / f"fresh-{attempt}.sqlite3")
        run_together(_open_store, [(path,)] * 4, tmp_path, timeout=30)
        assert JobStore(path).create("celery", 0, False, 1) == [1]  # and the file works
