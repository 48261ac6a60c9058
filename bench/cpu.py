"""Where the CPU goes: machine-wide busy time and per-process CPU time over a measurement, from /proc.

On a 2-core machine a path that keeps both cores busy is CPU-bound, whatever its design: the honest
profile of a gap to a floor is then "CPU per job, and who spends it" — the broker, the API (its
status reports), the workers, the bench's own client.
"""
from __future__ import annotations

import os
import subprocess

TICK = os.sysconf("SC_CLK_TCK")


def machine_jiffies() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs since boot (/proc/stat's first line)."""
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def process_seconds(pid: int) -> float:
    """User + system CPU seconds of one process (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK
    except (OSError, IndexError, ValueError):
        return 0.0


def group_pids(leader: int) -> list[int]:
    """A process and its descendants (gunicorn's workers, a Celery worker's pool)."""
    found, todo = [], [leader]
    while todo:
        pid = todo.pop()
        found.append(pid)
        children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
        todo += [int(c) for c in children]
    return found


def broker_pid() -> int | None:
    """RabbitMQ's Erlang VM on this machine (beam.smp), if it runs here."""
    out = subprocess.run(["pgrep", "-f", "beam.smp.*rabbit"], capture_output=True, text=True).stdout.split()
    return int(out[0]) if out else None


class CpuMeter:
    """Snapshot → measure → `per_job(jobs)`: CPU ms per job by group, and the machine's busy share."""

    def __init__(self, groups: dict[str, list[int]]):
        self.groups = groups

    def __enter__(self):
        self._busy, self._total = machine_jiffies()
        self._seconds = {name: {pid: process_seconds(pid) for pid in pids} for name, pids in self.groups.items()}
        return self

    def __exit__(self, *exc):
        busy, total = machine_jiffies()
        self.busy_share = (busy - self._busy) / max(1, total - self._total)
        self.machine_s = (busy - self._busy) / TICK
        self.spent = {name: sum(max(0.0, process_seconds(pid) - before) for pid, before in pids.items())
                      for name, pids in self._seconds.items()}
        return False

    def per_job(self, jobs: int) -> dict:
        jobs = max(1, jobs)
        return {"busy_pct": 100 * self.busy_share, "machine_ms_per_job": 1000 * self.machine_s / jobs,
                **{f"{name}_ms_per_job": 1000 * seconds / jobs for name, seconds in self.spent.items()}}
