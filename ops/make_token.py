"""`python -m ops.make_token FILE`: write a random status token to FILE unless one is there already.

docker compose runs this once (the `token` service) into a shared volume; the API and the workers
read it through STATUS_API_TOKEN_FILE. Nobody types a secret, and a STATUS_API_TOKEN set in the
environment or `.env` still wins.
"""
import os
import secrets
import sys


def main(path: str) -> int:
    if os.path.exists(path) and open(path).read().strip():
        print(f"status token already in {path}")
        return 0
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        f.write(secrets.token_urlsafe(24) + "\n")
    os.chmod(path, 0o644)  # readable by the workers' non-root user in every container
    print(f"wrote a new status token to {path}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m ops.make_token FILE")
    sys.exit(main(sys.argv[1]))
