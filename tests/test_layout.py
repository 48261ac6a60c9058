"""The folders are the architecture: these tests keep the boundaries where the README draws them."""
from __future__ import annotations

import pkgutil
import subprocess
import sys

import queue_lab
from queue_lab import PROJECT_ROOT


def modules_loaded_by(code: str) -> set[str]:
    """The modules a fresh interpreter has loaded after running `code` in the project root."""
    out = subprocess.run([sys.executable, "-c", f"{code}\nimport sys\nprint('\\n'.join(sys.modules))"],
                         cwd=PROJECT_ROOT, capture_output=True, text=True, check=True, timeout=60)
    return set(out.stdout.split())


def top_level(modules: set[str]) -> set[str]:
    return {name.split(".")[0] for name in modules}


def test_no_worker_imports_the_web_app():
    loaded = top_level(modules_loaded_by("import consumer.__main__, celery_tasks"))
    assert "flask" not in loaded
    assert "api" not in loaded
    assert "queue_lab" in loaded  # what they share instead


def test_the_shared_core_imports_neither_flask_nor_celery():
    names = [f"queue_lab.{m.name}" for m in pkgutil.iter_modules(queue_lab.__path__)]
    assert "queue_lab.timed_job" in names
    loaded = top_level(modules_loaded_by("import " + ", ".join(names)))
    assert not loaded & {"flask", "celery", "kombu", "api", "consumer", "ops"}


def test_the_bench_does_not_import_the_tests():
    loaded = top_level(modules_loaded_by("import bench.__main__"))
    assert "tests" not in loaded
