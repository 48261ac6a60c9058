"""`python -m ops.keep_running [--after URL] CMD...`: run a worker and start it again when it dies.

For `make run`: honcho stops every process as soon as one exits, so a student who kills a worker
(the fault lab's first experiment) would take the whole demo down. Under this wrapper the worker
comes back a second later — as a new process, so the workers panel shows a new id appear while
the old one goes offline. (docker compose does the same with `restart: unless-stopped`.)

A stop signal is not forwarded: honcho signals the whole process group, so the worker already has
it (a second one would make the consumer abandon its running job); we just stop restarting.

`--after URL` waits, quietly, until that address accepts a connection before the first start: the
Celery worker on Redis waits for a Redis that a laptop may not run, with one line saying so, instead
of filling the terminal with Celery's connection retries between the tutorial lines.
"""
import signal
import socket
import subprocess
import sys
import time
from urllib.parse import urlsplit


def describe(returncode: int) -> str:
    if returncode < 0:
        return f"killed by {signal.Signals(-returncode).name}"
    return f"exited with status {returncode}"


def wait_for(url: str, command: list[str]) -> None:
    parts = urlsplit(url)
    address = (parts.hostname or "localhost", parts.port or {"redis": 6379, "amqp": 5672}.get(parts.scheme, 80))
    said = False
    while True:
        try:
            socket.create_connection(address, timeout=2).close()
            return
        except OSError:
            if not said:
                print(f"[keep_running] waiting for {parts.scheme}://{address[0]}:{address[1]} before starting "
                      f"{' '.join(command)}", flush=True)
                said = True
            time.sleep(5)


def main(argv: list[str]) -> int:
    if argv[:1] == ["--after"]:
        wait_for(argv[1], argv[2:])
        argv = argv[2:]
    stopping = False

    def stop(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while True:
        returncode = subprocess.Popen(argv).wait()
        if stopping or returncode == 0:
            return returncode
        print(f"[keep_running] {' '.join(argv)} {describe(returncode)}; starting it again in 1 s",
              flush=True)
        time.sleep(1)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: python -m ops.keep_running COMMAND [ARGS...]")
    sys.exit(main(sys.argv[1:]))
