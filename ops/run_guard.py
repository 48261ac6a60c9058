"""Every process of a test run, found and stopped: `python -m ops.run_guard SECONDS -- command ...`.

`make test` must end by itself, in minutes. pytest-timeout stops one test that hangs; this stops a
run that hangs *between* or *after* tests (a child waiting on a lock it inherited, a thread that
never ends), which pytest-timeout does not see. At the deadline it says so, asks the run for every
thread's stack (SIGUSR1: tests/conftest.py registers faulthandler for it), lists the processes
still alive, stops them all and exits 124: a clear failure in minutes, not a silent stop at CI's limit.

Processes are found by a mark in their environment rather than by parentage or process group: every
process the run starts inherits `QUEUE_LAB_RUN`, so a worker started in a session of its own, or a
Celery pool process re-parented to init after its parent died, is found all the same. The tests'
own end-of-session check (tests/conftest.py) uses the same mark.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

MARK = "QUEUE_LAB_RUN"


def marked_processes(value: str) -> dict[int, str]:
    """pid → command line of every live process but this one whose environment has MARK=value."""
    needle = f"{MARK}={value}".encode()
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if needle not in (entry / "environ").read_bytes().split(b"\0"):
                continue
            if (entry / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
                continue  # a zombie has ended; only its parent's wait is missing
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            found[int(entry.name)] = command.strip()
        except (OSError, IndexError):  # it ended while we looked
            continue
    return found


def stop_processes(pids: list[int], grace: float = 3.0) -> None:
    """SIGTERM, then SIGKILL what is still there after `grace` seconds; our own children are reaped."""
    for signum in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            try:
                os.kill(pid, signum)
            except (ProcessLookupError, PermissionError):
                pass
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            alive = [pid for pid in pids if _alive(pid)]
            if not alive:
                return
            time.sleep(0.05)


def _alive(pid: int) -> bool:
    try:
        if os.waitpid(pid, os.WNOHANG) != (0, 0):
            return False  # our child, and reaped now
    except ChildProcessError:
        pass  # not our child: look at /proc
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--":
        print("usage: python -m ops.run_guard SECONDS -- command [args...]", file=sys.stderr)
        return 2
    limit, mark = float(argv[0]), uuid.uuid4().hex
    run = subprocess.Popen(argv[2:], env={**os.environ, MARK: mark})
    for signum in (signal.SIGINT, signal.SIGTERM):  # Ctrl-C reaches the run, which stops itself
        signal.signal(signum, lambda sig, _frame: run.send_signal(sig))
    try:
        returncode = run.wait(limit)
    except subprocess.TimeoutExpired:
        print(f"\n[run_guard] the run did not end within {limit:g} s: it hangs. Every thread's stack "
              "of the test process, then what is still alive:", file=sys.stderr, flush=True)
        run.send_signal(signal.SIGUSR1)
        time.sleep(2)
        returncode = 124
    left = marked_processes(mark)
    if left:
        print("[run_guard] still running:\n  " + "\n  ".join(f"{pid}: {cmd}" for pid, cmd in sorted(left.items())),
              file=sys.stderr, flush=True)
        stop_processes([run.pid, *left])
        print("[run_guard] stopped them.", file=sys.stderr, flush=True)
        returncode = returncode or 1
    if returncode == 124:
        print(f"[run_guard] FAILED: the run hung past {limit:g} s.", file=sys.stderr, flush=True)
    return returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
