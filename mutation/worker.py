"""One worker: a copy of the checkout, and a process that forks a pytest run per mutant.

    python mutation/worker.py COPY     # JSON lines on stdin, one JSON answer per line on stdout

The worker imports the third-party libraries the tests use once (``PREIMPORT``, or the list
``preimport`` of mutation/scope.toml; its ready line names what it imported); for each request it
writes
the mutated module into its copy, forks, and the child runs pytest in-process (so a mutant
costs the tests' own time, not an interpreter's start). The child imports the project afresh
from the copy, so it sees the mutant and nothing of the worker's state. Requests:

    {"op": "coverage", "path": P, "tests": [...]}          -> {"status", "lines", "seconds"}
    {"op": "run", "path": P, "source": S, "tests": [...], "timeout": T}
                                                           -> {"status", "killer", "seconds"}

``status`` is "passed" or "failed" for coverage, and "survived", "killed" or "timeout" for a
mutant. The module is restored after every run; its modification time only ever moves forward,
so no cached bytecode of another version can be taken for it.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import time
import tomllib
import traceback
from pathlib import Path
from typing import Any

CHILD_ENV = {"CI": "true"}  # the suite's ci profile: derandomized, no example database
PYTEST_ARGS = [
    "-x", "-q", "-p", "no:cacheprovider", "--no-header",
    # The worker imported httpx (so anyio) and respx before pytest marked its plugins for
    # assertion rewriting: only their own asserts lose the rewrite, the tests' keep it.
    "-W", "ignore::pytest.PytestAssertRewriteWarning",
]  # fmt: skip
# What the worker imports once, unless mutation/scope.toml's ``preimport`` names the list.
PREIMPORT = (
    "pytest", "_pytest.pytester", "hypothesis", "hypothesis.strategies", "httpx", "respx",
    "jsonschema", "referencing", "jsonschema_rs", "PIL.Image", "coverage",
)  # fmt: skip
SCOPE_FILE = "mutation/scope.toml"


def preimport_of(copy: Path) -> tuple[str, ...]:
    """The scope file's ``preimport`` (the driver checked it), else ``PREIMPORT``."""
    try:
        data = tomllib.loads((copy / SCOPE_FILE).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return PREIMPORT
    return tuple(data.get("preimport", PREIMPORT))


class _Killer:
    """A pytest plugin in the child: the first test that failed (the one that killed it)."""

    def __init__(self) -> None:
        self.first: str | None = None

    def pytest_runtest_logreport(self, report: Any) -> None:
        if report.failed and self.first is None:
            self.first = report.nodeid

    def pytest_collectreport(self, report: Any) -> None:
        if report.failed and self.first is None:
            self.first = f"collecting {report.nodeid or 'the tests'}"


class _Contexts:
    """A pytest plugin in the coverage child: each test's lines under its own node id."""

    def __init__(self, cov: Any) -> None:
        self.cov = cov

    def pytest_runtest_setup(self, item: Any) -> None:
        self.cov.switch_context(item.nodeid)

    def pytest_runtest_teardown(self, item: Any) -> None:
        self.cov.switch_context(item.nodeid)


class Worker:
    def __init__(self, copy: Path) -> None:
        self.copy = copy
        self._mtime = time.time()

    def _write(self, path: str, source: str) -> None:
        target = self.copy / path
        target.write_text(source, encoding="utf-8")
        self._mtime = max(self._mtime + 2, time.time() + 2)  # never an mtime seen before
        os.utime(target, (self._mtime, self._mtime))

    def _fork(self, body: Any, timeout: float) -> tuple[str, dict[str, Any], float]:
        """Run ``body()`` (returning a JSON-able dict) in a child; (how it ended, its dict, s)."""
        result = self.copy / ".mutation-result.json"
        with contextlib.suppress(FileNotFoundError):
            result.unlink()
        started = time.monotonic()
        pid = os.fork()
        if pid == 0:  # the child: never returns
            code = 3
            try:
                log = os.open(
                    self.copy / ".mutation-log.txt", os.O_WRONLY | os.O_CREAT | os.O_TRUNC
                )
                os.dup2(log, 1)
                os.dup2(log, 2)
                os.environ.update(CHILD_ENV)
                answer = body()
                result.write_text(json.dumps(answer))
                code = 0
            except BaseException:
                traceback.print_exc()
                sys.stderr.flush()
            finally:
                os._exit(code)
        deadline = started + timeout
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                return "timeout", {}, time.monotonic() - started
            time.sleep(0.01)
        seconds = time.monotonic() - started
        try:
            return "done", json.loads(result.read_text()), seconds
        except (OSError, ValueError):
            return "crashed", {"exit": os.waitstatus_to_exitcode(status)}, seconds

    def coverage(self, path: str, tests: list[str], timeout: float) -> dict[str, Any]:
        target = str(self.copy / path)

        def body() -> dict[str, Any]:
            import coverage
            import pytest

            cov = coverage.Coverage(data_file=None, include=[target], branch=False)
            cov.start()
            code = pytest.main([*tests, *PYTEST_ARGS[1:]], plugins=[_Contexts(cov)])
            cov.stop()
            data = cov.get_data()
            lines = {
                str(line): sorted(contexts)
                for line, contexts in (data.contexts_by_lineno(target) or {}).items()
            }
            return {"exit": int(code), "lines": lines}

        how, answer, seconds = self._fork(body, timeout)
        passed = how == "done" and answer.get("exit") == 0
        return {
            "status": "passed" if passed else "failed",
            "lines": answer.get("lines", {}),
            "seconds": seconds,
            "detail": self._log_tail() if not passed else "",
        }

    def run(self, path: str, source: str, tests: list[str], timeout: float) -> dict[str, Any]:
        original = (self.copy / path).read_text(encoding="utf-8")
        self._write(path, source)
        try:

            def body() -> dict[str, Any]:
                import pytest

                killer = _Killer()
                code = pytest.main([*tests, *PYTEST_ARGS], plugins=[killer])
                return {"exit": int(code), "killer": killer.first}

            how, answer, seconds = self._fork(body, timeout)
            broken, tail = None, ""
            # A usage error, or a crash of the run itself (a plugin's hook imports the module
            # at start-up): killed when the mutant alone makes the module fail to import.
            if how == "crashed" or (how == "done" and answer.get("exit") in (3, 4, 5)):
                tail = self._log_tail()  # the import check below writes the log anew
                broken = self._import_error(path, timeout)
        finally:
            self._write(path, original)
        if broken:  # the mutant breaks the module's import: pytest could not even start on it
            return {"status": "killed", "killer": broken, "seconds": seconds}
        if how == "timeout":
            return {
                "status": "timeout",
                "killer": f"no end within {timeout:.0f} s",
                "seconds": seconds,
            }
        if how == "crashed":  # the harness failed, not a test: never counted as a kill
            return {"status": "error", "killer": tail or self._log_tail(), "seconds": seconds}
        exit_code = answer["exit"]
        if exit_code == 0:
            return {"status": "survived", "killer": None, "seconds": seconds}
        if exit_code in (4, 5):  # a usage error or no tests: the selection is wrong, not a kill
            return {"status": "error", "killer": tail or self._log_tail(), "seconds": seconds}
        return {
            "status": "killed",
            "killer": answer.get("killer") or f"exit {exit_code}",
            "seconds": seconds,
        }

    def _import_error(self, path: str, timeout: float) -> str | None:
        """Why the module at ``path`` (as it is now written) fails to import, or None.

        A run that ended in a usage error (a plugin importing the module at start-up raised)
        is a kill when the mutant alone makes the import fail; otherwise the selection is wrong.
        """
        module = path.removesuffix(".py").replace("/", ".").removesuffix(".__init__")

        def body() -> dict[str, Any]:
            import importlib

            try:
                importlib.import_module(module)
            except ModuleNotFoundError as exc:
                if exc.name == module:  # not importable here at all: no verdict on the mutant
                    return {"error": None}
                return {"error": f"import of {module} fails: {type(exc).__name__}: {exc}"}
            except Exception as exc:  # any other error of the import is what the mutant did
                return {"error": f"import of {module} fails: {type(exc).__name__}: {exc}"}
            return {"error": None}

        how, answer, _ = self._fork(body, timeout)
        if how != "done":
            return None
        error = answer.get("error")
        return str(error) if error else None

    def _log_tail(self) -> str:
        try:
            text = (self.copy / ".mutation-log.txt").read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-40:])


def main(argv: list[str]) -> int:
    copy = Path(argv[0]).resolve()
    os.chdir(copy)
    here = str(Path(__file__).resolve().parent)  # run as a script: keep mutation/ off the path
    sys.path[:] = [entry for entry in sys.path if entry != here]
    sys.path.insert(0, str(copy))
    imported = []
    for name in preimport_of(copy):
        with contextlib.suppress(ImportError):
            __import__(name)
            imported.append(name)
    if any(name.startswith("facedetect_contract") for name in sys.modules):
        print(json.dumps({"status": "error", "detail": "the worker imported the project"}))
        return 1
    worker = Worker(copy)
    print(json.dumps({"status": "ready", "pid": os.getpid(), "imported": imported}), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        if request["op"] == "coverage":
            answer = worker.coverage(request["path"], request["tests"], request["timeout"])
        else:
            answer = worker.run(
                request["path"], request["source"], request["tests"], request["timeout"]
            )
        print(json.dumps(answer), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
