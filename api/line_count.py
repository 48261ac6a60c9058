"""How many lines each method needed for retries, counted from the source at run time.

The code between `# [retries: begin]` and `# [retries: end]` markers is counted, without blank
lines, comments and docstrings, so the number on the page can never drift from the code.
"""
from __future__ import annotations

from queue_lab import PROJECT_ROOT

BEGIN, END = "# [retries: begin]", "# [retries: end]"


def marked_lines(*relative_paths: str) -> int:
    total = 0
    for path in relative_paths:
        inside = in_docstring = False
        with open(PROJECT_ROOT / path) as f:
            for raw in f:
                line = raw.strip()
                if line.startswith(BEGIN):
                    inside = True
                elif line.startswith(END):
                    inside = False
                elif inside and line.startswith(('"""', "'''")):
                    if not (len(line) > 3 and line.endswith(line[:3])):
                        in_docstring = not in_docstring
                elif inside and in_docstring and line.endswith(('"""', "'''")):
                    in_docstring = False
                elif inside and not in_docstring and line and not line.startswith("#"):
                    total += 1
    return total


def retry_lines() -> dict[str, int]:
    return {
        "celery": marked_lines("celery_tasks.py"),
        "rabbitmq": marked_lines("consumer/job_thread.py", "queue_lab/queues.py"),
    }
