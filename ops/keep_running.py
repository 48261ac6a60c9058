"""`python -m ops.keep_running CMD...`: run a worker and start it again when it dies.

For `make run`: honcho stops every process as soon as one exits, so a student who kills a worker
(the fault lab's first experiment) would take the whole demo down. Under this wrapper the worker
comes back a second later — as a new process, so the workers panel shows a new id appear while
the old one goes offline. (docker compose does the same with `restart: unless-stopped`.)

A stop signal is not forwarded: honcho signals the whole process group, so the worker already has
it (a second one would make the consumer abandon its running job); we just stop restarting.
"""
import signal
import subprocess
import sys
import time


def describe(returncode: int) -> str:
    if returncode < 0:
        return f"killed by {signal.Signals(-returncode).name}"
    return f"exited with status {returncode}"


def main(argv: list[str]) -> int:
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
