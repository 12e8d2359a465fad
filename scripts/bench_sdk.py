#!/usr/bin/env python3
"""scripts/bench_sdk.py IMAGE — the Docker Engine API peer of scripts/bench.sh: runs the one-task
flow's `echo hello` through the Docker SDK for Python (docker-py), the way an API client would:
connect (docker-py asks the daemon for its API version first), create, start, wait, read the
logs, remove. Prints the log like `docker run`; exits with the container's exit code.
Run by bench.sh with the venv it creates (target/bench/venv)."""

import sys

import docker


def main():
    image = sys.argv[1] if len(sys.argv) > 1 else "busybox:latest"
    client = docker.from_env()
    c = client.containers.create(image, ["sh", "-c", "echo hello"])
    try:
        c.start()
        code = c.wait()["StatusCode"]
        sys.stdout.buffer.write(c.logs(stdout=True, stderr=True))
    finally:
        c.remove(force=True, v=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
