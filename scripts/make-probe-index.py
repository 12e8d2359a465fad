#!/usr/bin/env python3
"""Makes a tiny wheel, dockhand_probe 1.0 (`VALUE = 42`), and a PEP 503 simple index of it under
the directory given (ROOT/files/WHEEL, ROOT/simple/dockhand-probe/index.html), with the
standard library only (a wheel is a zip with its metadata): what the Python dependency tests
(tests/e2e_python_deps.rs) and the benchmark (scripts/bench.sh, figure 6) install, offline,
from `python3 -m http.server` on 127.0.0.1.

Usage: scripts/make-probe-index.py ROOT
"""
import base64
import hashlib
import os
import sys
import zipfile

WHEEL = "dockhand_probe-1.0-py3-none-any.whl"


def main(root):
    files = {
        "dockhand_probe/__init__.py": "VALUE = 42\n",
        "dockhand_probe-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: dockhand-probe\nVersion: 1.0\n",
        "dockhand_probe-1.0.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: dockhand-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for name, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(text.encode())}")
    record.append("dockhand_probe-1.0.dist-info/RECORD,,")
    files["dockhand_probe-1.0.dist-info/RECORD"] = "\n".join(record) + "\n"
    os.makedirs(f"{root}/files", exist_ok=True)
    os.makedirs(f"{root}/simple/dockhand-probe", exist_ok=True)
    with zipfile.ZipFile(f"{root}/files/{WHEEL}", "w") as z:
        for name, text in files.items():
            z.writestr(name, text)
    with open(f"{root}/simple/index.html", "w") as f:
        f.write('<html><body><a href="dockhand-probe/">dockhand-probe</a></body></html>\n')
    with open(f"{root}/simple/dockhand-probe/index.html", "w") as f:
        f.write(f'<html><body><a href="../../files/{WHEEL}">{WHEEL}</a></body></html>\n')


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
