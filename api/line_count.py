"""What each method needed for a lesson, counted and quoted from the source at run time.

A lesson's code is marked where it lives, between `# [<lesson>: begin]` and `# [<lesson>: end]`
comments (for example `# [retries: begin]`); in a file both paths share, `# [<lesson>/celery: begin]`
or `# [<lesson>/rabbitmq: begin]` says whose a block is. The page shows, for each path, how many lines that is —
without blank lines, comments and docstrings — and the marked code itself side by side, so neither
the number nor the quote can drift from the code that runs.
"""
from __future__ import annotations

from dataclasses import dataclass

from queue_lab import PROJECT_ROOT

# Where each lesson's code lives, per path: the files its markers are in.
LESSONS: dict[str, dict[str, tuple[str, ...]]] = {
    "retries": {"celery": ("celery_tasks.py",),
                "rabbitmq": ("consumer/job_thread.py", "queue_lab/queues.py")},
    "results": {"celery": ("celery_app.py", "api/job_dispatch.py", "api/celery_results.py"),
                "rabbitmq": ("api/routes/tasks.py", "api/raw_publisher.py", "consumer/job_thread.py",
                             "api/job_store.py")},
    "canvas": {"celery": ("api/canvas.py", "celery_tasks.py"),
               "rabbitmq": ("api/canvas.py", "api/job_store.py", "api/routes/status_reports.py")},
    "exchanges": {"celery": ("celery_app.py", "api/job_dispatch.py"),
                  "rabbitmq": ("api/raw_publisher.py", "consumer/__main__.py", "queue_lab/routing.py")},
    "rate-limits": {"celery": ("api/fault_actions.py",),
                    "rabbitmq": ("api/raw_publisher.py", "consumer/__main__.py", "consumer/job_thread.py",
                                 "queue_lab/rate_limit.py")},
}


@dataclass(frozen=True)
class Excerpt:
    """One file's marked lines, as written (comments kept: they say why), and how many count."""

    path: str
    text: str
    lines: int


def _counts(line: str, in_docstring: bool) -> tuple[bool, bool]:
    """(does this stripped line count, are we inside a docstring after it)."""
    if line.startswith(('"""', "'''")):
        closes_here = len(line) > 3 and line.endswith(line[:3])
        return False, in_docstring if closes_here else not in_docstring
    if in_docstring:
        return False, not line.endswith(('"""', "'''"))
    return bool(line) and not line.startswith("#"), False


def excerpt(lesson: str, path: str, method: str | None = None) -> Excerpt:
    """The lines of `path` between the lesson's markers (the lesson's own, and `method`'s); the blocks
    joined by a "⋮" line."""
    names = (lesson,) if method is None else (lesson, f"{lesson}/{method}")
    begins = tuple(f"# [{name}: begin]" for name in names)
    ends = tuple(f"# [{name}: end]" for name in names)
    blocks: list[list[str]] = []
    inside = in_docstring = False
    counted = 0
    with open(PROJECT_ROOT / path) as f:
        for raw in f:
            line = raw.strip()
            if line.startswith(begins):
                inside, in_docstring = True, False
                blocks.append([])
            elif line.startswith(ends):
                inside = False
            elif inside:
                blocks[-1].append(raw.rstrip())
                counts, in_docstring = _counts(line, in_docstring)
                counted += counts
    return Excerpt(path, "\n⋮\n".join(_dedent(block) for block in blocks if block), counted)


def _dedent(block: list[str]) -> str:
    indent = min((len(line) - len(line.lstrip()) for line in block if line.strip()), default=0)
    return "\n".join(line[indent:] for line in block)


def lesson_code(lesson: str) -> dict[str, list[Excerpt]]:
    """Per path ("celery", "rabbitmq"): the lesson's excerpts, file by file."""
    return {method: [excerpt(lesson, path, method) for path in paths] for method, paths in LESSONS[lesson].items()}

