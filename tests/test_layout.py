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


def runtime_distributions() -> set[str]:
    """requirements.txt and everything it pulls in (with the extras it names), from the installed
    metadata: what `pip install -r requirements.txt` — the Dockerfile — puts in the image."""
    from importlib import metadata

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    lines = (PROJECT_ROOT / "requirements.txt").read_text().splitlines()
    todo = [Requirement(line) for line in lines if line.strip() and not line.startswith("#")]
    seen: set[str] = set()
    while todo:
        req = todo.pop()
        name = canonicalize_name(req.name)
        key = f"{name}[{','.join(sorted(req.extras))}]"
        if key in seen:
            continue
        seen.update({key, name})
        for dependency in map(Requirement, metadata.requires(req.name) or []):
            extras = req.extras or {""}
            if dependency.marker is None or any(dependency.marker.evaluate({"extra": e}) for e in extras):
                todo.append(dependency)
    return {key for key in seen if "[" not in key}


ONLY_THE_RUNTIME = """
import importlib.abc, json, re, sys
from importlib import metadata
canonicalize_name = lambda name: re.sub(r"[-_.]+", "-", name).lower()  # PEP 503, without importing packaging
allowed = set(json.loads(sys.argv[1]))
owners = metadata.packages_distributions()

class OnlyTheRuntime(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        dists = owners.get(name.split(".")[0])
        if dists and not {canonicalize_name(d) for d in dists} & allowed:
            raise ModuleNotFoundError(f"No module named {name!r} in the image: {dists} is not in "
                                      "requirements.txt", name=name)
        return None

sys.meta_path.insert(0, OnlyTheRuntime())
"""


def test_the_runtime_requirements_bring_every_module_the_product_loads():
    """The image installs only requirements.txt, while this venv also holds the test tools: a module
    only they bring (kombu's Redis transport imports `packaging`) works here and fails in the
    container. So the product — with both of Celery's transports — is imported with every other
    distribution hidden, as in the image (optional imports then take their fallbacks, as there)."""
    import json

    allowed = json.dumps(sorted(runtime_distributions()))
    product = ("import api.routes, api.errors, api.i18n, api.job_dispatch, consumer.__main__, celery_app, "
               "celery_tasks, kombu.transport.pyamqp, kombu.transport.redis")
    loaded = subprocess.run([sys.executable, "-c", ONLY_THE_RUNTIME + product, allowed], cwd=PROJECT_ROOT,
                            capture_output=True, text=True, timeout=60)
    assert loaded.returncode == 0, loaded.stderr[-1500:]
    hidden = subprocess.run([sys.executable, "-c", ONLY_THE_RUNTIME + "import pytest", allowed],
                            cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60)
    assert "'pytest' in the image" in hidden.stderr  # the test tools really are hidden
