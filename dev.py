#!/usr/bin/env python3
"""Bootstrap and run the suite: needs only Python 3.11+.

    python3 dev.py contract [pytest args]   # the contract suite (offline unless --live)
    python3 dev.py test [pytest args]       # every test
    python3 dev.py fast [pytest args]       # every test but the slow outside judges
    python3 dev.py lint                     # ruff, mypy and the layers contract
    python3 dev.py bench [bench args]       # the benchmark (bench/run.py)
    python3 dev.py mutate [module ...]      # mutation testing of the core (mutation/run.py)

Each command installs what it needs into .venv, once per pyproject.toml version: the contract
suite the runtime dependencies only, the tests and lint the dev tools too, the benchmark
Schemathesis besides (and what the tests need, since it times them), mutation testing mutmut.
A path, a node id or -k after `contract` narrows the run.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("FACEDETECT_VENV", ROOT / ".venv"))
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".facedetect-installed"

# The slow tier: the outside judges, and the tests that start the suite or its commands as a
# child process end to end (their markers are registered in pyproject.toml).
SLOW = "hostile or outside or consumer or browser or process"
# command -> (extras it needs, what it runs)
COMMANDS: dict[str, tuple[tuple[str, ...], list[str]]] = {
    "contract": ((), ["-m", "facedetect_contract", "run"]),
    # The tests judge the mutation tool too, so they need its extra. Every test on two workers
    # (the slow tier is live runs and subprocesses: serial, it is over ten minutes on 2 cores).
    "test": (("dev", "mutate"), ["-m", "pytest", "-n", "2"]),
    "fast": (("dev", "mutate"), ["-m", "pytest", "-m", f"not ({SLOW})"]),
    # The bench times the test tiers too, so it needs what the tests need (the mutate extra).
    "bench": (("dev", "bench", "mutate"), ["bench/run.py"]),
    "mutate": (("dev", "mutate"), ["mutation/run.py"]),
}
LINT = [
    ["-m", "ruff", "check", "."],
    ["-m", "ruff", "format", "--check", "."],
    ["-m", "mypy"],
    # The layers contract of pyproject.toml (import-linter): imports point down only.
    [
        "-c",
        "import sys; from importlinter.cli import lint_imports_command as lint; sys.exit(lint())",
        "--no-cache",
    ],
]


def _installed() -> tuple[str, set[str]]:
    """(pyproject digest, extras) of what .venv holds, or ("", set()) when nothing is known."""
    try:
        data = json.loads(STAMP.read_text())
        return str(data["digest"]), set(data["extras"])
    except (OSError, ValueError, KeyError, TypeError):
        return "", set()


def ensure_environment(extras: tuple[str, ...]) -> None:
    """Create .venv and install the project with ``extras``, unless it holds them already."""
    if sys.version_info < (3, 11):
        sys.exit(f"Python 3.11+ is needed; this is {sys.version.split()[0]}")
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    have_digest, have_extras = _installed()
    if PYTHON.exists() and have_digest == digest and set(extras) <= have_extras:
        return
    if not PYTHON.exists():
        print(f"dev.py: creating {VENV}", file=sys.stderr)
        venv.EnvBuilder(with_pip=True).create(VENV)
    # Same pyproject: keep what is there and add; a changed pyproject: install afresh.
    wanted = sorted(set(extras) | (have_extras if have_digest == digest else set()))
    target = f"{ROOT}[{','.join(wanted)}]" if wanted else str(ROOT)
    label = f" with [{','.join(wanted)}]" if wanted else ""
    print(
        f"dev.py: installing the project{label} into {VENV} (a minute or two the first time; "
        "later runs reuse it)",
        file=sys.stderr,
    )
    pip = [str(PYTHON), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    run_saying_progress([*pip, "-e", target], what="installing")
    STAMP.write_text(json.dumps({"digest": digest, "extras": wanted}))


def run_saying_progress(command: list[str], *, what: str, every: float = 15.0) -> None:
    """Run ``command`` (raising on failure), saying every ``every`` seconds that it still runs:
    a quiet pip on a fresh machine is silent for over a minute otherwise."""
    started = time.monotonic()
    process = subprocess.Popen(command)
    while True:
        try:
            code = process.wait(timeout=every)
            break
        except subprocess.TimeoutExpired:
            print(f"dev.py: still {what} ({time.monotonic() - started:.0f} s)", file=sys.stderr)
    if code:
        raise subprocess.CalledProcessError(code, command)
    print(f"dev.py: done {what} in {time.monotonic() - started:.0f} s", file=sys.stderr)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in (*COMMANDS, "lint"):
        print(__doc__, file=sys.stderr)
        return 2
    command, rest = argv[0], argv[1:]
    os.chdir(ROOT)
    if command == "lint":
        ensure_environment(("dev",))
        return max(subprocess.run([str(PYTHON), *step], check=False).returncode for step in LINT)
    extras, run = COMMANDS[command]
    ensure_environment(extras)
    return subprocess.run([str(PYTHON), *run, *rest], check=False).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
