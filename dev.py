#!/usr/bin/env python3
"""Bootstrap and run the suite: needs only Python 3.11+.

    python3 dev.py contract [pytest args]   # the contract suite (offline unless --live)
    python3 dev.py test [pytest args]       # every test
    python3 dev.py lint                     # ruff and mypy
    python3 dev.py bench [bench args]       # the benchmark (bench/run.py)

The first run makes .venv and installs the project with its dev and bench extras (the tests
compare against Schemathesis and check the benchmark runs); later runs reinstall only when
pyproject.toml changes.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("FACEDETECT_VENV", ROOT / ".venv"))
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".facedetect-installed"

COMMANDS = {
    "contract": ["-m", "pytest", "tests/contract"],
    "test": ["-m", "pytest"],
    "bench": ["bench/run.py"],
}


def ensure_environment(extras: str) -> None:
    """Create .venv and install the project once per pyproject.toml (and extras) version."""
    if sys.version_info < (3, 11):
        sys.exit(f"Python 3.11+ is needed; this is {sys.version.split()[0]}")
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + extras.encode()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == digest and PYTHON.exists():
        return
    if not PYTHON.exists():
        print(f"dev.py: creating {VENV}", file=sys.stderr)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print(f"dev.py: installing the project with [{extras}] into {VENV}", file=sys.stderr)
    pip = [str(PYTHON), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "-e", f"{ROOT}[{extras}]"], check=True)
    STAMP.write_text(digest)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in (*COMMANDS, "lint"):
        print(__doc__, file=sys.stderr)
        return 2
    command, rest = argv[0], argv[1:]
    ensure_environment("dev,bench")
    os.chdir(ROOT)
    if command == "lint":
        steps = [
            [str(PYTHON), "-m", "ruff", "check", "."],
            [str(PYTHON), "-m", "ruff", "format", "--check", "."],
            [str(PYTHON), "-m", "mypy"],
        ]
        return max(subprocess.run(step, check=False).returncode for step in steps)
    return subprocess.run([str(PYTHON), *COMMANDS[command], *rest], check=False).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
