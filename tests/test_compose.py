"""The deployment: docker-compose.yml and the Dockerfile, proven without a Docker engine.

1. The compose file validates against the Compose Specification's JSON schema.
2. Its structure keeps the promises an instructor relies on: a pinned, healthy, persistent broker;
   workers that scale; a graceful stop; every variable the code reads set for every service.
3. The Dockerfile: pinned base, non-root, dependencies cached before the code, built once.
4. The services really run: each one's own `command` and `environment`, read from the compose file,
   started as local processes against the real RabbitMQ, with only what a test must change
   (host names, a free port, this run's queues, temporary volumes).
"""
from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import jsonschema
import pytest
import requests
import yaml

from ops.stack import BIN, Service, free_port, wait_until
from tests.helpers import RABBITMQ_URL

PROJECT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = PROJECT / "docker-compose.yml"
DOCKERFILE = PROJECT / "Dockerfile"
COMPOSE_SCHEMA = PROJECT / "tests" / "data" / "compose-spec.json"  # vendored: see tests/data/README.md

WORKERS = ("consumer", "celery_worker", "celery_worker_early", "celery_worker_long", "celery_beat", "naive_consumer", "quorum_consumer",
           "consumer_emails", "consumer_long", "celery_worker_redis")
APP_SERVICES = ("api", *WORKERS)  # long-running services built from our image
# The fault lab's worker profiles: the only settings a service may set differently from the rest.
PROFILE_OVERRIDES = {
    "celery_worker_early": {"CELERY_ACK_MODE": "early"},
    "naive_consumer": {"CONSUMER_MODE": "naive", "CONSUMER_HEARTBEAT": "5"},
    "quorum_consumer": {"CONSUMER_QUEUE_TYPE": "quorum"},
    "consumer_emails": {"CONSUMER_BINDS": "direct:email topic:email.*", "CONSUMER_ROUTED_QUEUE": "emails"},
    "consumer_long": {"CONSUMER_BINDS": "direct:report topic:*.long", "CONSUMER_ROUTED_QUEUE": "long"},
    "celery_worker_redis": {"CELERY_BROKER_KIND": "redis"},
}
API_PORT = 8080  # inside the api container


# -- reading the files ---------------------------------------------------------------------------

def load_compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


@pytest.fixture(scope="module")
def compose() -> dict:
    return load_compose()


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments dropped."""
    logical, current = [], ""
    for line in DOCKERFILE.read_text().splitlines():
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            current += line.rstrip()[:-1] + " "
            continue
        logical.append(current + line)
        current = ""
    return [(text.split(None, 1)[0].upper(), text.split(None, 1)[1].strip()) for text in logical]


def image_env() -> dict[str, str]:
    """The ENV the image sets, so local processes see what a container would."""
    env = {}
    for instruction, args in dockerfile_instructions():
        if instruction == "ENV":
            env.update(pair.split("=", 1) for pair in shlex.split(args))
    return env


# Reads of the environment in our code: os.environ.get("X"), os.environ["X"], os.getenv("X"), and
# the settings helpers _int("X", ...) / _float("X", ...) / _text("X", ...) / _choice("X", ...).
ENV_READ = re.compile(
    r"""(?:os\.environ\.get\(|os\.environ\[|os\.getenv\(|(?<![\w.])_(?:int|float|text|choice)\()\s*"""
    r"""["']([A-Z][A-Z0-9_]*)["']""")


def variables_the_code_reads() -> set[str]:
    sources = [*PROJECT.glob("queue_lab/**/*.py"), *PROJECT.glob("api/**/*.py"),
               *PROJECT.glob("consumer/**/*.py"), *PROJECT.glob("*.py")]
    return {name for path in sources for name in ENV_READ.findall(path.read_text())}


# Compose interpolation: $$ is a literal $, ${NAME:-default} (unset or empty), ${NAME-default}
# (unset), ${NAME} and $NAME.
INTERPOLATION = re.compile(
    r"\$(?:(?P<escaped>\$)|\{(?P<braced>\w+)(?:(?P<sep>:?-)(?P<default>[^}]*))?\}|(?P<named>\w+))")


def interpolate(node, variables: dict[str, str]):
    """The compose file as Compose would see it, given `variables` (the shell and .env)."""
    if isinstance(node, dict):
        return {key: interpolate(value, variables) for key, value in node.items()}
    if isinstance(node, list):
        return [interpolate(item, variables) for item in node]
    if not isinstance(node, str):
        return node
    out, i = [], 0
    while i < len(node):
        braced = node.startswith("${", i)
        match = INTERPOLATION.match(node, i) if node[i] == "$" else None
        if match is None:
            out.append(node[i])
            i += 1
        elif match["escaped"]:
            out.append("$")
            i = match.end()
        elif not braced:
            out.append(variables.get(match["named"]) or "")
            i = match.end()
        else:  # ${NAME…}: find its closing brace, defaults may nest ${A:-${B:-x}}
            depth, end = 0, i
            for end in range(i, len(node)):
                depth += {"{": 1, "}": -1}.get(node[end], 0)
                if depth == 0 and node[end] == "}":
                    break
            name, sep, default = re.fullmatch(r"(\w+)(?:(:?-)(.*))?", node[i + 2:end], re.S).groups()
            value = variables.get(name)
            unset = sep == ":-" and not value or sep == "-" and value is None
            out.append(interpolate(default, variables) if unset else value or "")
            i = end + 1
    return "".join(out)


def environment_of(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {key: "" if value is None else str(value) for key, value in env.items()}


def volume_mounts(service: dict) -> list[tuple[str, str, bool]]:
    """(source, target, read_only) of each short-syntax volume."""
    mounts = []
    for spec in service.get("volumes", []):
        source, target, *mode = spec.split(":")
        mounts.append((source, target, mode == ["ro"]))
    return mounts


def duration_s(value: str) -> float:
    units = {"h": 3600, "m": 60, "s": 1, "ms": 0.001, "us": 1e-6}
    parts = re.findall(r"(\d+(?:\.\d+)?)(h|ms|us|m|s)", value)
    assert parts and "".join(n + u for n, u in parts) == value, f"not a duration: {value!r}"
    return sum(float(n) * units[u] for n, u in parts)


# -- 1. the Compose Specification ----------------------------------------------------------------

def test_the_compose_file_validates_against_the_compose_specification(compose):
    schema = json.loads(COMPOSE_SCHEMA.read_text())
    errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(compose), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)


def test_the_schema_check_catches_a_mistake(compose):
    """The validation above is not vacuous: a misspelt key fails it."""
    schema = json.loads(COMPOSE_SCHEMA.read_text())
    broken = {**compose, "services": {**compose["services"],
                                      "api": {**compose["services"]["api"], "restrat": "always"}}}
    assert not jsonschema.Draft7Validator(schema).is_valid(broken)


def test_no_obsolete_version_key(compose):
    assert "version" not in compose


def test_every_variable_has_a_working_default():
    """Nothing in the file needs a variable to be set: a fresh machine needs no .env."""
    text = "\n".join(line for line in COMPOSE_FILE.read_text().splitlines()
                     if not line.lstrip().startswith("#"))
    bare = [m.group(0) for m in INTERPOLATION.finditer(text)
            if not m["escaped"] and m["sep"] is None]
    assert not bare, f"variables without a default: {bare}"


# -- 2. structure --------------------------------------------------------------------------------

def test_rabbitmq_is_pinned_healthy_and_keeps_its_data(compose, services):
    rmq = services["rmq"]
    match = re.fullmatch(r"rabbitmq:(\d+)\.(\d+)\.(\d+)-management", rmq["image"])
    assert match, f"rmq must pin an exact x.y.z-management tag, not {rmq['image']!r}"
    # 4.3 refuses transient non-exclusive queues by default (see the comment in the file).
    assert (int(match[1]), int(match[2])) < (4, 3)
    assert "rabbitmq-diagnostics" in rmq["healthcheck"]["test"]
    assert "ping" in rmq["healthcheck"]["test"]
    assert rmq["hostname"] == "rmq"  # its data lives under its node name, rabbit@<hostname>
    assert {"5672:5672", "15672:15672"} <= set(interpolate(rmq, {})["ports"])  # the usual defaults
    assert {"25672:5672", "25673:15672"} <= set(
        interpolate(rmq, {"AMQP_PORT": "25672", "MANAGEMENT_PORT": "25673"})["ports"])
    env = environment_of(interpolate(rmq, {}))
    assert env["RABBITMQ_DEFAULT_USER"] == "guest" and env["RABBITMQ_DEFAULT_PASS"] == "guest"
    assert environment_of(interpolate(rmq, {"RABBITMQ_USER": "u", "RABBITMQ_PASSWORD": "p"})) == {
        "RABBITMQ_DEFAULT_USER": "u", "RABBITMQ_DEFAULT_PASS": "p"}
    (source, target, _), = volume_mounts(rmq)
    assert target == "/var/lib/rabbitmq" and source in compose["volumes"]


OUR_IMAGE = "queue-lab:local"


def test_every_pulled_image_is_pinned(services):
    for name, service in services.items():
        if "build" in service or service["image"] == OUR_IMAGE:  # built here, not pulled
            continue
        image = service["image"]
        assert ":" in image and not image.endswith(":latest"), f"{name}: pin {image!r}"
        assert re.search(r":\d+\.\d+\.\d+", image), f"{name}: pin an exact version, not {image!r}"


def test_our_image_is_built_once_and_never_pulled(services):
    """One `build:` (the token service, which starts first): seven would build seven copies."""
    ours = {name for name, s in services.items() if s["image"] == OUR_IMAGE}
    assert ours == {*APP_SERVICES, "token"}
    assert [name for name, s in services.items() if "build" in s and s["image"] == OUR_IMAGE] == ["token"]
    assert services["redis"]["build"] == "ops/redis"  # the Redis lesson's own small image
    assert all(services[name]["pull_policy"] == "never" for name in APP_SERVICES)


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_wait_for_a_healthy_broker_and_the_token(services, name):
    depends_on = services[name]["depends_on"]
    assert depends_on["rmq"] == {"condition": "service_healthy"}
    assert depends_on["token"] == {"condition": "service_completed_successfully"}


@pytest.mark.parametrize("name", WORKERS)
def test_workers_wait_for_a_healthy_api(services, name):
    assert services[name]["depends_on"]["api"] == {"condition": "service_healthy"}


def test_only_the_api_has_a_health_check(services):
    """`service_healthy` on api needs one; the image has none, since it also runs the workers, and a
    check of the API's port would call a healthy `docker run … python -m consumer` unhealthy."""
    check = " ".join(services["api"]["healthcheck"]["test"])
    assert f"http://127.0.0.1:{API_PORT}/livez" in check and "urllib.request" in check and "curl" not in check
    assert not any(instruction == "HEALTHCHECK" for instruction, _ in dockerfile_instructions())


@pytest.mark.parametrize("name", WORKERS)
def test_workers_scale(services, name):
    """`docker compose up -d --scale NAME=3` needs no fixed name, host port or hostname."""
    for key in ("container_name", "ports", "hostname"):
        assert key not in services[name], f"{name} cannot scale with a {key}"


@pytest.mark.parametrize("name", WORKERS)
def test_workers_have_no_health_check(services, name):
    assert "healthcheck" not in services[name]


@pytest.mark.parametrize("name", [*APP_SERVICES, "rmq"])
def test_long_running_services_restart_after_a_crash(services, name):
    assert services[name]["restart"] == "unless-stopped"


def test_the_token_service_runs_once(services):
    assert services["token"]["restart"] == "no"
    assert services["token"]["command"][:3] == ["python", "-m", "ops.make_token"]


@pytest.mark.parametrize("name", APP_SERVICES)
def test_a_graceful_stop_has_a_deadline(services, name):
    grace = duration_s(services[name]["stop_grace_period"])
    assert 5 <= grace <= 120  # time to finish a short job; longer ones are redelivered


def test_flower_only_with_the_monitoring_profile(services):
    flower = services["flower"]
    assert flower["profiles"] == ["monitoring"]
    assert interpolate(flower, {})["ports"] == ["5555:5555"]
    assert interpolate(flower, {"FLOWER_PORT": "5600"})["ports"] == ["5600:5555"]
    assert flower["tmpfs"] == ["/data"]  # the image's VOLUME: no anonymous volume left after `down`
    assert any(arg.startswith("--broker=amqp://") and "@rmq:5672/" in arg
               for arg in flower["command"])
    assert any(arg.startswith("--broker_api=http://") and "@rmq:15672/api/" in arg
               for arg in flower["command"])
    assert {name: s["profiles"] for name, s in services.items() if "profiles" in s} == {
        "flower": ["monitoring"], "redis": ["redis"], "celery_worker_redis": ["redis"]}


def test_the_database_is_on_a_named_volume(compose, services):
    path = environment_of(services["api"])["DATABASE_PATH"]
    mounts = {target: source for source, target, _ in volume_mounts(services["api"])}
    directory = str(Path(path).parent)
    assert directory in mounts, f"{path} is not on a volume: `down`/`up` would lose the table"
    assert mounts[directory] in compose["volumes"]  # a named volume, not a host path


@pytest.mark.parametrize("name", APP_SERVICES)
def test_every_service_reads_the_tokens_the_token_service_writes(services, name):
    status_path, instructor_path = services["token"]["command"][3:]
    token_dir = str(Path(status_path).parent)
    assert str(Path(instructor_path).parent) == token_dir
    token_volume = {t: s for s, t, _ in volume_mounts(services["token"])}[token_dir]
    env = environment_of(services[name])
    assert (env["STATUS_API_TOKEN_FILE"], env["INSTRUCTOR_TOKEN_FILE"]) == (status_path, instructor_path)
    assert env["STATUS_API_TOKEN"] == "${STATUS_API_TOKEN:-}"  # one set in the shell or .env wins
    assert env["INSTRUCTOR_TOKEN"] == "${INSTRUCTOR_TOKEN:-}"
    assert env["CLASS_CONTROLS"] == "${CLASS_CONTROLS:-instructor}"  # a class: the instructor's controls
    assert (token_volume, token_dir, True) in volume_mounts(services[name])  # read-only


def test_every_service_gets_the_same_settings_but_its_profile(services):
    first = environment_of(services["api"])
    for name in (*APP_SERVICES, "token"):
        overrides = PROFILE_OVERRIDES.get(name, {})
        assert environment_of(services[name]) == {**first, **overrides}, name
        assert all(first.get(key) != value for key, value in overrides.items()), name  # each one a difference


def test_the_scan_finds_the_variables_we_know():
    """The next test is only as good as this scan: it must see every kind of read."""
    assert {"RABBITMQ_URL", "STATUS_API_TOKEN_FILE", "CONSUMER_PREFETCH", "BROKER_TIMEOUT",
            "API_BIND", "SSE_MAX_STREAMS", "WORKER_FORGET_S"} <= variables_the_code_reads()


@pytest.mark.parametrize("name", APP_SERVICES)
def test_every_variable_the_code_reads_is_set(services, name):
    missing = variables_the_code_reads() - set(environment_of(services[name]))
    assert not missing, f"{name} does not set {sorted(missing)} (add them to x-queue-lab-env)"


def test_the_api_port_is_the_same_everywhere(services):
    env = environment_of(services["api"])
    assert env["API_BIND"].rsplit(":", 1)[1] == str(API_PORT)
    assert urlsplit(env["STATUS_API_URL"]).port == API_PORT
    assert interpolate(services["api"], {})["ports"] == [f"8080:{API_PORT}"]
    assert interpolate(services["api"], {"API_PORT": "18080"})["ports"] == [f"18080:{API_PORT}"]


def test_the_management_link_follows_the_published_port(services):
    link = lambda variables: environment_of(interpolate(services["api"], variables))[  # noqa: E731
        "RABBITMQ_MANAGEMENT_PUBLIC_URL"]
    assert link({}) == "http://localhost:15672"
    assert link({"MANAGEMENT_PORT": "25673"}) == "http://localhost:25673"
    assert link({"RABBITMQ_MANAGEMENT_PUBLIC_URL": "http://teacher:15672"}) == "http://teacher:15672"


def test_docker_compose_accepts_the_file_where_it_is_installed():
    """An extra: this machine has no Docker engine, and `docker compose` may be missing too."""
    try:
        subprocess.run(["docker", "compose", "version"], capture_output=True, timeout=30,
                       check=True)
    except (OSError, subprocess.SubprocessError):
        pytest.skip("`docker compose` is not installed here (the schema test above still ran)")
    result = subprocess.run(["docker", "compose", "--profile", "monitoring", "config", "--quiet"],
                            cwd=PROJECT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


# -- 3. the Dockerfile ---------------------------------------------------------------------------

def test_the_base_image_is_pinned_and_slim():
    (base,) = [args for instruction, args in dockerfile_instructions() if instruction == "FROM"]
    assert re.fullmatch(r"python:3\.\d+\.\d+-slim-\w+", base), base


def test_the_image_runs_as_a_non_root_user():
    users = [args for instruction, args in dockerfile_instructions() if instruction == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")


def test_dependencies_are_installed_before_the_code_is_copied():
    """Editing the code must not reinstall the dependencies (layer cache)."""
    steps = dockerfile_instructions()
    copy_requirements = next(i for i, (ins, args) in enumerate(steps)
                             if ins == "COPY" and args.split()[0] == "requirements.txt")
    install = next(i for i, (ins, args) in enumerate(steps)
                   if ins == "RUN" and "pip install" in args and "-r requirements.txt" in args)
    copy_code = next(i for i, (ins, args) in enumerate(steps)
                     if ins == "COPY" and args.split()[0] == ".")
    assert copy_requirements < install < copy_code
    assert "--no-cache-dir" in steps[install][1]


def test_python_output_is_unbuffered():
    assert image_env()["PYTHONUNBUFFERED"] == "1"


def test_the_build_context_leaves_out_local_files():
    ignored = set((PROJECT / ".dockerignore").read_text().split())
    assert {".venv", "var", ".git", "test-artifacts", ".env"} <= ignored
    assert ignored & {"__pycache__", "**/__pycache__"}


# -- 4. the services, run from the compose file -----------------------------------------------

class LocalStack:
    """The compose services as local processes: what a container would get, on this machine."""

    def __init__(self, tmp: Path, queues: dict[str, str]):
        broker = urlsplit(RABBITMQ_URL)
        self.compose = interpolate(load_compose(), {
            "RABBITMQ_USER": broker.username or "guest",
            "RABBITMQ_PASSWORD": broker.password or "guest",
        })
        self.tmp = tmp
        self.broker = broker
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.queues = queues
        self.services: list[Service] = []

    # What only a test can give: the service host names → this machine, the volumes → temporary
    # directories, a free port for the API, and queue names unique to this run.
    def localize(self, value: str, mounts) -> str:
        broker = f"{self.broker.hostname}:{self.broker.port or 5672}"
        value = re.sub(r"(?<=[@/])rmq:5672\b", broker, value)
        value = re.sub(r"(?<=[@/])rmq(?=:)", self.broker.hostname, value)
        value = re.sub(rf"(?<=//)api:{API_PORT}\b", f"127.0.0.1:{self.port}", value)
        for source, target, _ in mounts:
            if value == target or value.startswith(target + "/"):
                value = str(self.tmp / "volumes" / source) + value[len(target):]
        return value

    def environment(self, name: str) -> dict[str, str]:
        service = self.compose["services"][name]
        mounts = volume_mounts(service)
        for source, _, _ in mounts:
            (self.tmp / "volumes" / source).mkdir(parents=True, exist_ok=True)
        env = {key: self.localize(value, mounts) for key, value in environment_of(service).items()}
        assert env["API_BIND"] == f"0.0.0.0:{API_PORT}"
        return {
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "HOME": os.environ.get("HOME", str(self.tmp)),
            "LANG": "C.UTF-8",
            "HOSTNAME": socket.gethostname(),
            **image_env(),
            **env,
            "API_BIND": f"127.0.0.1:{self.port}",
            **self.queues,
        }

    def command(self, name: str, env: dict[str, str]) -> list[str]:
        service = self.compose["services"][name]
        argv = [self.localize(arg, volume_mounts(service)) for arg in service["command"]]
        argv[0] = shutil.which(argv[0], path=env["PATH"]) or argv[0]
        return argv

    def run_once(self, name: str) -> subprocess.CompletedProcess:
        env = self.environment(name)
        return subprocess.run(self.command(name, env), cwd=PROJECT, env=env, capture_output=True,
                              text=True, timeout=60)

    def start(self, name: str, edit=lambda argv: argv) -> Service:
        env = self.environment(name)
        service = Service(name, edit(self.command(name, env)), env, self.tmp)
        self.services.append(service)
        return service

    def get(self, path: str) -> requests.Response:
        return requests.get(self.base_url + path, timeout=5)

    def healthy(self) -> bool:
        try:
            return self.get("/healthz").status_code == 200
        except requests.RequestException:
            return False

    def stop(self) -> None:
        for service in reversed(self.services):
            service.stop()

    def logs(self) -> str:
        return "\n".join(f"----- {s.name} -----\n{s.log()[-3000:]}" for s in self.services)


def unique_celery_node(argv: list[str]) -> list[str]:
    """On the shared broker a Celery node name must be unique (its remote-control queue is
    exclusive to one connection): `--hostname=celery@%h` becomes this run's own name."""
    node = f"qltest-{uuid.uuid4().hex[:8]}"
    renamed = [re.sub(r"^--hostname=[\w.-]+@", f"--hostname={node}@", arg) for arg in argv]
    assert renamed != argv, f"expected --hostname=NAME@%h in {argv}"
    return renamed


@pytest.mark.broker
def test_the_compose_services_start_and_serve_with_their_own_commands_and_settings(tmp_path,
                                                                                   queues):
    stack = LocalStack(tmp_path, queues)
    try:
        # `token` first, for real: it writes the token the others read via STATUS_API_TOKEN_FILE.
        made = stack.run_once("token")
        assert made.returncode == 0, made.stdout + made.stderr
        token_file = Path(stack.environment("api")["STATUS_API_TOKEN_FILE"])
        token = token_file.read_text().strip()
        assert len(token) >= 20
        assert stack.environment("api")["STATUS_API_TOKEN"] == ""  # so the file is what counts
        assert stack.run_once("token").returncode == 0
        assert token_file.read_text().strip() == token  # a restart keeps the token

        assert stack.environment("consumer")["STATUS_API_URL"] == stack.base_url
        stack.start("api")
        wait_until(stack.healthy, 30, 0.2, what=f"GET {stack.base_url}/healthz to answer 200")
        assert stack.get("/healthz").json()["ok"] is True

        consumer = stack.start("consumer")
        wait_until(lambda: "waiting for messages" in consumer.log(), 30,
                   what=f"the consumer to consume (log: {consumer.log_path})")
        celery = stack.start("celery_worker", edit=unique_celery_node)
        wait_until(lambda: " ready." in celery.log(), 60,
                   what=f"the Celery worker to be ready (log: {celery.log_path})")

        nums = []
        for method in ("celery", "rabbitmq"):
            response = requests.post(stack.base_url + "/api/tasks", timeout=30,
                                     json={"method": method, "seconds": 0.5, "count": 1})
            assert response.status_code == 202, response.text
            nums += response.json()["task_nums"]

        def finished():
            rows = [r for r in stack.get("/api/tasks?limit=2000").json()["tasks"]
                    if r["task_num"] in nums]
            done = len(rows) == 2 and all(r["task_status"] == "DONE" for r in rows)
            return rows if done else None

        rows = wait_until(finished, 40, 0.2, what=f"jobs {nums} to reach DONE")
        assert {r["method"] for r in rows} == {"celery", "rabbitmq"}
        # Both workers reported with the token they read from the token file.
        assert all(r["worker_id"] and r["progress"] == 100 for r in rows)

        def both_kinds_online():
            workers = stack.get("/api/workers").json()["workers"]
            return {w["kind"] for w in workers if w["online"]} >= {"consumer", "celery"}

        wait_until(both_kinds_online, 30, 0.5, what="both workers' heartbeats in /api/workers")
    except BaseException:
        stack.stop()
        print(stack.logs())
        raise
    stack.stop()
