"""`python -m ops.make_token FILE...`: write a random token to each FILE unless one is there already.

docker compose runs this once (the `token` service) into a shared volume: the status token that the
API and the workers read through STATUS_API_TOKEN_FILE, and the instructor token the API reads through
INSTRUCTOR_TOKEN_FILE (the instructor reads it with `docker compose exec api cat …`). Nobody types a
secret, and STATUS_API_TOKEN / INSTRUCTOR_TOKEN set in the environment or `.env` still win.
"""
import os
import secrets
import sys


def make_token(path: str) -> None:
    if os.path.exists(path) and open(path).read().strip():
        print(f"token already in {path}")
        return
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        f.write(secrets.token_urlsafe(24) + "\n")
    os.chmod(path, 0o644)  # readable by the non-root user of every container
    print(f"wrote a new token to {path}")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: python -m ops.make_token FILE...")
    for path in sys.argv[1:]:
        make_token(path)
