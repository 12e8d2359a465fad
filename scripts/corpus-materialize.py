#!/usr/bin/env python3
"""Lays out the corpus directory from git snapshots of its source repositories.

The corpus flows are not committed (see tests/corpus/README.md); tests/corpus/SOURCES.tsv says
where each was read. Given snapshots of those repositories (bare git directories, as the search
tool's `fetch` leaves them at MIRRORS/OWNER+NAME/repo), this writes every flow to
OUT/flows/SOURCE/NAME.yaml, byte for byte from `git show COMMIT:PATH`, and checks its SHA-256.
No network. Usage:

    python3 scripts/corpus-materialize.py OUT [MIRRORS]    (MIRRORS defaults to /work/.mirror)
"""

import csv
import hashlib
import os
import subprocess
import sys


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    mirrors = sys.argv[2] if len(sys.argv) > 2 else "/work/.mirror"
    manifest = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "corpus", "SOURCES.tsv")
    with open(manifest, newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    missing, bad, written = set(), [], 0
    for row in rows:
        git = os.path.join(mirrors, row["repository"].replace("/", "+", 1), "repo")
        if not os.path.isdir(git):
            missing.add(row["repository"])
            continue
        got = subprocess.run(
            ["git", "-C", git, "show", f"{row['commit']}:{row['path_in_repository']}"],
            capture_output=True,
        )
        if got.returncode != 0:
            bad.append(f"{row['path']}: git show failed: {got.stderr.decode().strip()}")
            continue
        if hashlib.sha256(got.stdout).hexdigest() != row["sha256"]:
            bad.append(f"{row['path']}: sha256 differs from SOURCES.tsv")
            continue
        dest = os.path.join(out, row["path"])
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        with open(dest, "wb") as f:
            f.write(got.stdout)
        written += 1
    for r in sorted(missing):
        print(f"no snapshot of {r} under {mirrors} (fetch github:{r} first)", file=sys.stderr)
    for b in bad:
        print(b, file=sys.stderr)
    print(f"{written} of {len(rows)} flows written to {out}")
    sys.exit(0 if written == len(rows) else 1)


if __name__ == "__main__":
    main()
