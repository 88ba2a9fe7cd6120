"""Mutation testing of the suite's core: does each module's own test file catch a change to it?

    python3 dev.py mutate [MODULE ...]           # the modules of mutation/scope.toml (all of them)
    python3 dev.py mutate --list MODULE          # its mutants, with their ids, nothing run
    python3 dev.py mutate --show ID              # one mutant as a diff
    python3 dev.py mutate --workers 2 --report reports/mutation

Each worker is a copy of the checkout (``git ls-files``: tracked and untracked files, not
ignored ones) and a process that forks a pytest run per mutant (mutation/worker.py). First the
module's tests run once unmutated under coverage, with each test's lines under its node id;
then each mutant runs against the tests that execute its lines, with ``CI=true``, stopping at
the first failure. A mutant is *killed* when a test fails (or the run times out, or the tests
no longer import), *survived* when they all pass, *not covered* when no test runs its lines
(a survivor too), *equivalent* when mutation/equivalents/MODULE.toml lists it with a reason.

    score = killed / (mutants - equivalents)

The run prints a table, the survivors, and writes reports/mutation/summary.md and one JSON file
per module; it exits 1 when a module is below its target, 2 on a usage error.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import hashlib
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mutation.operators import Mutant, module_stem, mutants_of
from mutation.worker import SCOPE_FILE

EQUIVALENTS_DIR = "mutation/equivalents"  # one file per module: MODULE.toml
CACHE_DIR = ".mutation-cache"  # one file per module: runs of two modules never clash
WORKER = Path(__file__).resolve().with_name("worker.py")
KILLED = ("killed", "timeout")


class UsageError(Exception):
    """A bad argument or a malformed scope or equivalents file (the message names it)."""


@dataclass(frozen=True)
class Scope:
    name: str
    path: str
    tests: tuple[str, ...]
    target: float


@dataclass(frozen=True)
class Equivalent:
    id: str
    change: str
    reason: str


def load_scopes(root: Path) -> dict[str, Scope]:
    path = root / SCOPE_FILE
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"{path}: {exc}") from None
    preimport = data.get("preimport", [])
    if not (isinstance(preimport, list) and all(isinstance(n, str) for n in preimport)):
        raise UsageError(
            f"{path}: field 'preimport' is not a list of module names (what each worker imports "
            "once before it forks a run per mutant; leave it out for the worker's default)"
        )
    scopes = {}
    for name, table in (data.get("modules") or {}).items():
        where = f"{path}: [modules.{name}]"
        for key, kind in (("path", str), ("tests", list), ("target", int | float)):
            if not isinstance(table.get(key), kind):
                raise UsageError(f"{where}: field {key!r} is missing or not a {kind}")
        missing = [p for p in [table["path"], *table["tests"]] if not (root / p).exists()]
        if missing:
            raise UsageError(f"{where}: no such file {missing}; fix the path")
        scopes[name] = Scope(name, table["path"], tuple(table["tests"]), float(table["target"]))
    if not scopes:
        raise UsageError(f"{path}: no [modules.NAME] table")
    return scopes


def load_equivalents(root: Path) -> dict[str, Equivalent]:
    found: dict[str, Equivalent] = {}
    for path in sorted((root / EQUIVALENTS_DIR).glob("*.toml")):
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise UsageError(f"{path}: {exc}") from None
        for i, entry in enumerate(data.get("equivalent", [])):
            for key in ("id", "change", "reason"):
                if not isinstance(entry.get(key), str) or not entry[key].strip():
                    raise UsageError(
                        f"{path}: [[equivalent]] {i}: field {key!r} is missing or empty; an "
                        "equivalent mutant is listed with its id, the change, and why no test "
                        "can tell it apart"
                    )
            if entry["id"] in found:
                raise UsageError(f"{path}: [[equivalent]] {i}: id {entry['id']} is listed twice")
            found[entry["id"]] = Equivalent(entry["id"], entry["change"], entry["reason"])
    return found


# --- the workers -----------------------------------------------------------------------------


def project_files(root: Path) -> list[str]:
    out = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=root,
        capture_output=True,
        check=True,
    ).stdout
    return sorted(p for p in out.decode().split("\0") if p and (root / p).is_file())


def tree_digest(root: Path, files: list[str], leave_out: str) -> str:
    """A digest of everything the tests could read, the mutated module apart."""
    digest = hashlib.sha256()
    for name in files:
        if name != leave_out:
            digest.update(name.encode() + b"\0" + (root / name).read_bytes() + b"\0")
    return digest.hexdigest()


class WorkerProcess:
    def __init__(self, copy: Path) -> None:
        self.copy = copy
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
        env["PYTHONPATH"] = str(copy)
        self.process = subprocess.Popen(
            [sys.executable, str(WORKER), str(copy)],
            cwd=copy,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        ready = self._read()
        if ready.get("status") != "ready":
            raise RuntimeError(f"a mutation worker did not start: {ready}")
        self.imported: list[str] = ready.get("imported", [])  # what it imported before forking

    def _read(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"a mutation worker ended (exit {self.process.wait()})")
        return dict(json.loads(line))

    def ask(self, request: dict[str, Any]) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        return self._read()

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


@contextlib.contextmanager
def workers(root: Path, count: int, files: list[str]) -> Iterator[list[WorkerProcess]]:
    base = Path(tempfile.mkdtemp(prefix="facedetect-mutation-"))
    started: list[WorkerProcess] = []
    try:
        for i in range(count):
            copy = base / f"worker-{i}"
            for name in files:
                target = copy / name
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(root / name, target)
            started.append(WorkerProcess(copy))
        yield started
    finally:
        for worker in started:
            worker.close()
        shutil.rmtree(base, ignore_errors=True)


# --- one module ------------------------------------------------------------------------------


@dataclass
class Result:
    mutant: Mutant
    status: str  # killed, timeout, survived, not-covered, equivalent, error
    killer: str | None = None
    seconds: float = 0.0
    tests: int = 0
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        data = self.mutant.to_dict() | {"status": self.status, "seconds": round(self.seconds, 3)}
        if self.killer:
            data["killer"] = self.killer
        if self.reason:
            data["reason"] = self.reason
        data["tests"] = self.tests
        return data


@dataclass
class ModuleReport:
    scope: Scope
    results: list[Result] = field(default_factory=list)
    stale_equivalents: list[Equivalent] = field(default_factory=list)
    baseline_seconds: float = 0.0
    seconds: float = 0.0
    partial: bool = False  # a subset of the mutants (--limit, --survivors): not the module's score

    def count(self, *statuses: str) -> int:
        return sum(1 for r in self.results if r.status in statuses)

    @property
    def considered(self) -> int:
        return len(self.results) - self.count("equivalent")

    @property
    def score(self) -> float:
        return 100.0 * self.count(*KILLED) / self.considered if self.considered else 100.0

    @property
    def met(self) -> bool:
        return self.score >= self.scope.target and not self.count("error")

    def survivors(self) -> list[Result]:
        return [r for r in self.results if r.status in ("survived", "not-covered", "error")]

    def to_dict(self) -> dict[str, Any]:
        return {
            "module": self.scope.name,
            "path": self.scope.path,
            "tests": list(self.scope.tests),
            "target": self.scope.target,
            "mutants": len(self.results),
            "killed": self.count("killed"),
            "timeout": self.count("timeout"),
            "survived": self.count("survived"),
            "not_covered": self.count("not-covered"),
            "equivalent": self.count("equivalent"),
            "error": self.count("error"),
            "score": round(self.score, 1),
            "met": self.met,
            "partial": self.partial,
            "seconds": round(self.seconds, 1),
            "stale_equivalents": [e.id for e in self.stale_equivalents],
            "results": [r.to_dict() for r in self.results],
        }


def _selection(mutant: Mutant, lines: dict[str, list[str]], scope: Scope) -> list[str] | None:
    """The tests to run for a mutant; None when no test executes its lines."""
    contexts: set[str] = set()
    for line in range(mutant.line, mutant.end + 1):
        contexts.update(lines.get(str(line), ()))
    if not contexts:
        return None
    if "" in contexts:  # the code runs when the module is imported: every test may see it
        return list(scope.tests)
    return sorted(contexts)


def _coverage(scope: Scope, worker: WorkerProcess) -> tuple[dict[str, list[str]], float]:
    """The module's lines each test runs ("" for import time), and the tests' time unmutated."""
    coverage = worker.ask(
        {"op": "coverage", "path": scope.path, "tests": list(scope.tests), "timeout": 1800}
    )
    if coverage["status"] != "passed":
        raise UsageError(
            f"the tests of {scope.name} ({', '.join(scope.tests)}) fail with no mutant: fix "
            f"them first\n{coverage.get('detail', '')}"
        )
    if not coverage["lines"]:
        raise UsageError(
            f"{scope.path}: the coverage pass saw none of its lines run; is the copy's package "
            "the one imported?"
        )
    return coverage["lines"], float(coverage["seconds"])


def run_module(
    root: Path,
    scope: Scope,
    pool: list[WorkerProcess],
    *,
    equivalents: dict[str, Equivalent],
    cache: dict[str, Any],
    files: list[str],
    limit: int | None = None,
    only: set[str] | None = None,
) -> ModuleReport:
    started = time.monotonic()
    report = ModuleReport(scope)
    # The workers' copy, not the checkout: the tree the mutants run in was copied at the start,
    # and an edit to the checkout during a long run must not mix with it (nor key the cache).
    tree = pool[0].copy
    mutants = mutants_of(tree, scope.path)
    if limit is not None:
        mutants = mutants[:limit]
    if only is not None:
        mutants = [m for m in mutants if m.id in only]
    report.partial = limit is not None or only is not None
    ids = {m.id for m in mutants}
    report.stale_equivalents = [
        e
        for e in equivalents.values()
        if e.id.startswith(f"{module_stem(scope.path)}-") and e.id not in ids
    ]
    lines, report.baseline_seconds = _coverage(scope, pool[0])
    timeout = max(20.0, 3 * report.baseline_seconds + 10)
    digest = tree_digest(tree, files, scope.path)
    todo: queue.Queue[tuple[Mutant, list[str], str]] = queue.Queue()
    results: dict[str, Result] = {}
    for mutant in mutants:
        if mutant.id in equivalents:
            results[mutant.id] = Result(mutant, "equivalent", reason=equivalents[mutant.id].reason)
            continue
        tests = _selection(mutant, lines, scope)
        if tests is None:
            results[mutant.id] = Result(mutant, "not-covered", reason="no test runs this line")
            continue
        key = hashlib.sha256((digest + mutant.source).encode()).hexdigest()
        if key in cache:
            results[mutant.id] = Result(mutant, **cache[key])
            continue
        todo.put((mutant, tests, key))
    total, lock = todo.qsize(), threading.Lock()
    done = Counter[str]()

    def drain(worker: WorkerProcess) -> None:
        while True:
            try:
                mutant, tests, key = todo.get_nowait()
            except queue.Empty:
                return
            answer = worker.ask(
                {
                    "op": "run",
                    "path": scope.path,
                    "source": mutant.source,
                    "tests": tests,
                    "timeout": timeout,
                }
            )
            result = Result(
                mutant, answer["status"], answer.get("killer"), answer["seconds"], len(tests)
            )
            with lock:
                results[mutant.id] = result
                if result.status != "error":
                    cache[key] = {"status": result.status, "killer": result.killer,
                                  "seconds": result.seconds, "tests": result.tests}  # fmt: skip
                done[result.status] += 1
                finished = sum(done.values())
                if finished % 50 == 0 or finished == total:
                    print(
                        f"  {scope.name}: {finished}/{total} run, {done['survived']} survived, "
                        f"{time.monotonic() - started:.0f} s",
                        file=sys.stderr,
                        flush=True,
                    )

    threads = [threading.Thread(target=drain, args=(w,)) for w in pool]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    report.results = [results[m.id] for m in mutants]
    report.seconds = time.monotonic() - started
    return report


# --- output ----------------------------------------------------------------------------------


def table(reports: list[ModuleReport]) -> str:
    rows = [
        "| module | mutants | killed | survived | not covered | equivalent | score | target "
        "| met |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in reports:
        rows.append(
            f"| {r.scope.name} | {len(r.results)} | {r.count(*KILLED)} | {r.count('survived')} "
            f"| {r.count('not-covered')} | {r.count('equivalent')} | {r.score:.1f} % "
            f"| {r.scope.target:g} % | {'partial run' if r.partial else 'yes' if r.met else 'NO'} |"
        )
    return "\n".join(rows)


def summary(reports: list[ModuleReport]) -> str:
    parts = ["# Mutation testing", "", table(reports), ""]
    for r in reports:
        parts.append(f"## {r.scope.name}: {len(r.survivors())} survivor(s), {r.seconds:.0f} s")
        parts.append("")
        for result in r.survivors():
            parts.append(f"- `{result.mutant.id}` {result.status}: {result.mutant.describe()}")
        for stale in r.stale_equivalents:
            parts.append(f"- stale equivalent `{stale.id}` ({stale.change}): matches no mutant")
        parts.append("")
    return "\n".join(parts)


def write_reports(reports: list[ModuleReport], directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for r in reports:
        (directory / f"{r.scope.name}.json").write_text(json.dumps(r.to_dict(), indent=1) + "\n")
    (directory / "summary.md").write_text(summary(reports))


def show(root: Path, mutant_id: str, scopes: dict[str, Scope]) -> str:
    stem = mutant_id.rsplit("-", 1)[0]
    for scope in scopes.values():
        if module_stem(scope.path) == stem:
            for mutant in mutants_of(root, scope.path):
                if mutant.id == mutant_id:
                    original = (root / scope.path).read_text().splitlines(keepends=True)
                    changed = mutant.source.splitlines(keepends=True)
                    diff = difflib.unified_diff(original, changed, scope.path, scope.path)
                    return f"{mutant.describe()}\n" + "".join(diff)
    raise UsageError(f"no mutant {mutant_id} (ids come from --list; code may have moved on)")


def _last_survivors(directory: Path, scope: Scope) -> set[str]:
    path = directory / f"{scope.name}.json"
    try:
        results = json.loads(path.read_text())["results"]
    except (OSError, ValueError, KeyError) as exc:
        raise UsageError(f"--survivors needs the last report {path}: {exc}") from None
    return {r["id"] for r in results if r["status"] in ("survived", "not-covered", "error")}


def main(argv: list[str]) -> int:  # one command, read top to bottom
    parser = argparse.ArgumentParser(prog="dev.py mutate", description=__doc__.split("\n")[0])
    parser.add_argument("modules", nargs="*", help="names from mutation/scope.toml (default: all)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--list", action="store_true", help="list the mutants, run nothing")
    parser.add_argument("--show", metavar="ID", help="print one mutant as a diff")
    parser.add_argument("--report", type=Path, help="default: ROOT/reports/mutation")
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)  # the tests' toy
    parser.add_argument("--limit", type=int, help="only the first N mutants of each module")
    parser.add_argument("--no-cache", action="store_true", help="run every mutant again")
    parser.add_argument(
        "--survivors",
        action="store_true",
        help="only the mutants the last report (--report) lists as surviving: a quick re-check "
        "while closing gaps; the score printed is of those alone",
    )
    args = parser.parse_args(argv)
    root = args.root.resolve()
    args.report = args.report or root / "reports" / "mutation"
    try:
        scopes = load_scopes(root)
        equivalents = load_equivalents(root)
        unknown = [m for m in args.modules if m not in scopes]
        if unknown:
            raise UsageError(f"unknown module(s) {unknown}; choose from {sorted(scopes)}")
        chosen = [scopes[m] for m in args.modules] or list(scopes.values())
        if args.show:
            print(show(root, args.show, scopes))
            return 0
        if args.list:
            for scope in chosen:
                for mutant in mutants_of(root, scope.path):
                    mark = " (equivalent)" if mutant.id in equivalents else ""
                    print(f"{mutant.id}{mark} {mutant.describe()}")
            return 0
        if not hasattr(os, "fork"):
            raise UsageError(
                "mutation testing forks a pytest run per mutant: run it on Linux or macOS"
            )
        files = project_files(root)
        reports = []
        with workers(root, max(1, args.workers), files) as pool:
            for scope in chosen:
                print(f"mutate: {scope.name} ({scope.path})", file=sys.stderr, flush=True)
                cache_file = root / CACHE_DIR / f"{scope.name}.json"
                cache: dict[str, Any] = {}
                if not args.no_cache:
                    with contextlib.suppress(OSError, ValueError):
                        cache = json.loads(cache_file.read_text())
                only = _last_survivors(args.report, scope) if args.survivors else None
                reports.append(
                    run_module(
                        root,
                        scope,
                        pool,
                        equivalents=equivalents,
                        cache=cache,
                        files=files,
                        limit=args.limit,
                        only=only,
                    )
                )
                cache_file.parent.mkdir(exist_ok=True)
                cache_file.write_text(json.dumps(cache))
    except UsageError as exc:
        print(f"dev.py mutate: {exc}", file=sys.stderr)
        return 2
    write_reports(reports, args.report)
    print(table(reports))
    for r in reports:
        for result in r.survivors():
            print(f"{result.status:>11} {result.mutant.id} {result.mutant.describe()}")
    print("MUTATION " + json.dumps({r.scope.name: round(r.score, 1) for r in reports}))
    print(f"reports: {args.report / 'summary.md'}")
    return 0 if all(r.met for r in reports) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
