"""A second program calls the job by name (caller/): registered with the API first (the row PENDING,
nothing published), then sent by Celery's `send_task("process_task", …)` or by a pika publish, from a
process that never imports celery_tasks or celery_app — and the real workers run it to DONE like any
job of the page, with its result on the row."""
from __future__ import annotations

import re
import subprocess
import sys

import pytest

from queue_lab import PROJECT_ROOT

pytestmark = pytest.mark.broker

# Runs the caller in a fresh interpreter, then says whether the task's code was ever imported.
RUN_AND_CHECK_IMPORTS = """
import sys
from caller.__main__ import main
main(sys.argv[1:])
print("imported:", sorted(m for m in ("celery_tasks", "celery_app") if m in sys.modules))
"""


def call(stack, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", RUN_AND_CHECK_IMPORTS, *args], env=stack.env, cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("method, sent_as", [("celery", "send_task('process_task'"),
                                             ("rabbitmq", "basic_publish('', ")])
def test_a_job_called_by_name_from_another_program_ends_done_in_the_table(stack, method, sent_as):
    stack.start_api()
    stack.start_consumer() if method == "rabbitmq" else stack.start_celery_worker()
    done = call(stack, "--method", method, "--seconds", "0.3", "--count", "2", "--owner", "script")
    assert done.returncode == 0, done.stderr
    nums = [int(n) for n in re.findall(r"^#(\d+): ", done.stdout, re.M)]
    assert len(nums) == 2 and done.stdout.count(sent_as) == 2, done.stdout
    assert "imported: []" in done.stdout  # a name and arguments on a queue: none of the task's code
    rows = stack.wait_finished(nums, 30)
    for num in nums:
        assert rows[num]["task_status"] == "DONE" and rows[num]["owner"] == "script", rows[num]
        assert rows[num]["result"] == num * (num + 1) // 2


def test_what_the_api_refuses_the_caller_says_and_sends_nothing(stack):
    stack.start_api()
    refused = call(stack, "--method", "celery", "--seconds", "9999")
    assert refused.returncode == 1 and "400" in refused.stderr and "seconds" in refused.stderr, refused.stderr
    assert stack.session.get(stack.base_url + "/api/tasks", timeout=5).json()["tasks"] == []
