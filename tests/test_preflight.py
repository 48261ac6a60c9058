"""`make run`'s checks before it starts anything (ops/preflight.py), and where the API's port comes
from: API_PORT moves the API and tells the workers, as it moves the published port under compose."""
from __future__ import annotations

import os
import socket

import pytest

from ops import preflight
from ops.stack import free_port
from queue_lab.settings import Settings


@pytest.fixture
def environ(monkeypatch):
    """A private copy of the environment: preflight.main() writes what it merged into it."""
    copy = {k: v for k, v in os.environ.items() if k not in ("API_PORT", "API_BIND", "STATUS_API_URL")}
    monkeypatch.setattr(os, "environ", copy)
    return copy


def test_api_port_moves_the_api_and_the_workers_reports(environ):
    environ["API_PORT"] = "8093"
    settings = Settings.from_env()
    assert (settings.api_bind, settings.status_api_url) == ("0.0.0.0:8093", "http://localhost:8093")
    environ.update(API_BIND="127.0.0.1:9000", STATUS_API_URL="http://api.example:9000/")
    settings = Settings.from_env()  # explicit addresses win: workers on other machines need them
    assert (settings.api_bind, settings.status_api_url) == ("127.0.0.1:9000", "http://api.example:9000")


def test_without_api_port_the_page_is_on_8080(environ):
    settings = Settings.from_env()
    assert (settings.api_bind, settings.status_api_url) == ("0.0.0.0:8080", "http://localhost:8080")


@pytest.fixture
def listener():
    port = free_port()
    with socket.socket() as sock:
        sock.bind(("0.0.0.0", port))
        sock.listen()
        yield port


def test_a_taken_port_is_found_and_a_free_one_is_not(environ, listener):
    environ["API_PORT"] = str(listener)
    assert preflight.api_port_taken(Settings.from_env())
    environ["API_PORT"] = str(free_port())
    assert not preflight.api_port_taken(Settings.from_env())


def test_make_run_on_a_taken_port_stops_with_one_line_saying_how_to_move(environ, listener, tmp_path,
                                                                          monkeypatch, capsys):
    monkeypatch.setattr(preflight, "ENV_FILE", str(tmp_path / ".env"))
    monkeypatch.setattr(preflight, "RUN_ENV_FILE", str(tmp_path / "var" / "run.env"))
    environ["API_PORT"] = str(listener)  # the shell wins over .env's API_PORT=8080
    assert preflight.main() == 1
    err = capsys.readouterr().err.strip()
    assert err == (f"Port {listener} is taken (another program, or a Queue Lab already running, listens "
                   f"there): run `API_PORT={listener + 1} make run`, or set API_PORT in .env.")
    assert f"API_PORT={listener}\n" in (tmp_path / "var" / "run.env").read_text()


def test_an_older_env_file_that_spells_the_address_out_is_named_when_it_overrides_api_port(
        environ, tmp_path, monkeypatch, capsys, listener):
    (tmp_path / ".env").write_text(f"STATUS_API_TOKEN=t\nAPI_BIND=0.0.0.0:{listener}\n")
    monkeypatch.setattr(preflight, "ENV_FILE", str(tmp_path / ".env"))
    monkeypatch.setattr(preflight, "RUN_ENV_FILE", str(tmp_path / "run.env"))
    environ["API_PORT"] = "8093"
    assert preflight.main() == 1  # and the bind it kept is taken
    err = capsys.readouterr().err
    assert f"note: API_BIND=0.0.0.0:{listener} wins over API_PORT=8093" in err
    assert "change API_BIND and STATUS_API_URL" in err


def test_the_commands_beside_make_run_expect_its_port_taken(environ, listener, tmp_path, monkeypatch, capsys, broker):
    """`make consumer` while `make run` serves the page: the port is taken by the demo itself."""
    monkeypatch.setattr(preflight, "ENV_FILE", str(tmp_path / ".env"))
    monkeypatch.setattr(preflight, "RUN_ENV_FILE", str(tmp_path / "var" / "run.env"))
    monkeypatch.setattr(preflight, "enable_local_management_plugin", lambda settings: None)  # not this test's
    environ["API_PORT"] = str(listener)
    assert preflight.main(["--beside-run"]) == 0
    assert "is taken" not in capsys.readouterr().err
