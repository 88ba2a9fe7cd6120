"""Child processes a test starts: where the checkout is, the environment of a ``python -m pytest``
child, and SIGINT restored for a child the test interrupts. Shared by the tests that start
children (the CLI's, the session's, live mode's safety tests), so each child is started alike."""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import signal
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import pytest

__all__ = [
    "CHILD_PYTEST_ADDOPTS",
    "ROOT",
    "child_env",
    "default_sigint",
    "read_lines",
    "run_command",
    "serving",
]

ROOT = Path(__file__).resolve().parents[2]  # the checkout


def _checkout_plugins() -> str:
    """The plugin options of the checkout's addopts (pyproject.toml), from
    ``--disable-plugin-autoload`` on: read, not copied, so the two cannot drift apart."""
    addopts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
        "pytest"
    ]["ini_options"]["addopts"]
    return shlex.join(addopts[addopts.index("--disable-plugin-autoload") :])


# For the pytest runs the tests make in folders of their own: autoloaded, each run would load
# Schemathesis' plugin and rewrite all of Hypothesis where bytecode may not be cached (a second a
# run). The entry point itself is the consumer tests' subject (tests/consumer), in a fresh venv.
CHILD_PYTEST_ADDOPTS = _checkout_plugins()


def default_sigint() -> None:
    """``preexec_fn`` of a child a test stops with SIGINT: the default action restored (Python
    then raises KeyboardInterrupt). A shell that started this run in the background, as a CI
    runner may, left SIGINT ignored, and an ignored signal is inherited by every child."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def child_env(**extra: str) -> dict[str, str]:
    """The environment of a ``python -m pytest`` child: this one's, the checkout's plugins."""
    return {**os.environ, "PYTEST_ADDOPTS": CHILD_PYTEST_ADDOPTS, **extra}


def read_lines(process: subprocess.Popen[str], count: int, timeout: float) -> list[str]:
    """The first ``count`` lines ``process`` prints, failing the test past ``timeout`` s.

    Read by a thread: a selector on the pipe cannot see a line already in the reader's buffer
    (serve may print both lines in one write)."""
    assert process.stdout is not None
    stdout = process.stdout
    lines: list[str] = []

    def read() -> None:
        while len(lines) < count and (line := stdout.readline()):
            lines.append(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout)
    if len(lines) < count:
        process.kill()
        pytest.fail(f"serve printed {lines!r} in {timeout} s (status {process.wait()})")
    return lines


@contextlib.contextmanager
def serving(options: Sequence[str], *, cwd: Path, env: Mapping[str, str]) -> Iterator[str]:
    """``facedetect-contract serve --port 0 OPTIONS`` as a child: the API root it prints
    (``http://127.0.0.1:PORT/api/v1``) while it runs; stopped on exit."""
    serve = subprocess.Popen(
        [sys.executable, "-m", "facedetect_contract", "serve", "--port", "0", *options],
        cwd=cwd,
        env=dict(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        serving_line = read_lines(serve, 1, 30)[0]
        found = re.fullmatch(r"serving (http://127\.0\.0\.1:\d+/api/v1)\n", serving_line)
        assert found is not None, serving_line
        yield found.group(1)
    finally:
        serve.terminate()
        serve.communicate(timeout=10)


def run_command(
    words: Sequence[str], *, cwd: Path, env: Mapping[str, str], timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """``facedetect-contract WORDS`` as a child, its output captured, its status returned."""
    return subprocess.run(
        [sys.executable, "-m", "facedetect_contract", *words],
        cwd=cwd,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
