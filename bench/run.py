"""The benchmark: this suite beside Schemathesis on the same OpenAPI document, in one run.

    python3 dev.py bench                  # every section but --full, 500 cases a side (minutes)
    python3 dev.py bench --cases 200 --offline-reps 5 --repeat 1
    python3 dev.py bench --quick          # smoke run: section 1, 20 cases, 3 repetitions
    python3 dev.py bench --only offline --json-only    # section 1 alone, only the JSON line
    python3 dev.py bench --only double    # section 6 alone (any section's JSON key)
    python3 dev.py bench --full           # section 5 also times every test with -n 2 (long)
    python3 dev.py bench --profile prof.txt   # pyinstrument profile of this suite's section 1

bench/README.md says how to read each figure and why each target is what it is. Sections (each a
set of figures and a ratio), one module each; its docstring says what it measures and how:

1. ``offline.py``: checked cases in-process, this suite beside Schemathesis against the same fake,
   valid and invalid, ``--offline-reps`` repetitions (one seed each, the same on both sides),
   judged on the median ratio; and the cost of validating one recorded response.
2. ``http.py``: as many cases over HTTP to the stub server on 127.0.0.1, this suite's client
   beside ``schemathesis run``, each a child process timed from outside.
3. ``live.py``: ``pytest --live`` against the stub at 300 ms latency and 5 QPS, the whole process'
   wall time against the rate-limit floor, with and without the requests answered 429; and its
   start-up on its own (``--collect-only``, and the whole process minus the in-run duration).
   ``multi_model.py`` (JSON key ``multi_model_live``): ``facedetect-contract live`` with every
   packaged model side by side against one stub at the same latency, the whole process' wall time
   against the largest per-model floor (requests / that model's documented QPS).
4. ``suite.py``: ``python -m pytest tests/contract`` serial and ``-n 2``: wall time, peak memory,
   examples per property test; the fastest of ``--repeat`` runs kept.
5. ``tiers.py``: the fast tier (dev.py's ``fast``) serial and ``-n 2``: wall time, exit code,
   passed count; with ``--full`` also every test with ``-n 2``. Skipped under ``--quick``.
6. ``double.py``: the doubles' own cost, in-process (a few seconds, so in the default run): the
   documented request ``--double-calls`` times through the fake's respx mock (``mock_endpoint``,
   the ``facedetect_mock`` fixture) and through a bare respx route answering the same bytes, one
   client, interleaved in ``--double-rounds`` rounds, judged on the median ratio; then the stub
   server's answers per second to one keep-alive client for ``--stub-seconds`` (no target).
   Skipped under ``--quick``.

``common.py`` holds what they share (the Hypothesis harness, ``Tally``, ``ratio`` and ``spread``,
``run_child`` and its process-tree sampler, pytest's summary counts), ``targets.py`` the targets,
the verdicts, ``all_met`` and the table. This module is the entry point: the flags, running each
section (a crash becomes its ``status: error``) and printing.

Reading it: a ratio above 1 favours this suite in sections 1 and 2 (offline: Schemathesis' seconds
/ ours; http: ours / theirs in cases per second); live is wall / floor, so lower is better, and in
section 6 too (the fake's cost per call over a bare respx route's). A failing run (non-zero exit)
misses its target whatever its time; a section not run leaves its targets not measured. The table
ends with ``all targets met: yes|no|not judged`` (yes only when every target was measured and met;
no when a measured target is missed or a section errored; not judged when some were not measured).
Timings are noisy: each target is judged within one run, and counts as met only when it holds run
after run (three consecutive runs).

The last line of stdout is one JSON object holding every figure (``--json-only`` prints only it),
with ``targets``, ``verdict`` (the table's yes, no or not judged), ``all_met`` (true only for
yes) and ``not_measured``, so CI can keep a history; the exit status is 1
when a section crashed (its ``status: error`` says why). Only loopback traffic; every server
started is stopped; every loop and child is bounded. The only key sent is the sentinel
``sk-bench-sentinel``: no real key is read or printed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# Run as a script, Python puts bench/ first on sys.path, where http.py would shadow the standard
# library's http (httpx and http.server import it): the modules are imported as the package
# ``bench`` of the checkout instead, which also serves a checkout that is not installed.
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != HERE]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import warm_pytest
from bench.double import CALLS as DOUBLE_CALLS
from bench.double import ROUNDS as DOUBLE_ROUNDS
from bench.double import STUB_MAX_SECONDS, STUB_SECONDS, section_double
from bench.http import http_client_main, section_http
from bench.live import section_live
from bench.multi_model import section_multi_model_live
from bench.offline import (
    QUICK_VALIDATION_BUDGET,
    VALIDATION_BUDGET,
    profile_offline,
    section_offline,
)
from bench.suite import section_suite
from bench.targets import (
    SECTIONS,
    all_met,
    errored,
    not_measured,
    run_verdict,
    table,
    targets,
)
from bench.tiers import section_tiers

OFFLINE_REPS, QUICK_OFFLINE_REPS = 5, 3  # section 1's repetitions; the median is judged
# Each section's --skip-* flag (its argparse dest): --only SECTION sets every other one.
SKIP_FLAGS = {
    "offline": "skip_offline",
    "http": "skip_http",
    "live": "skip_live",
    "multi_model_live": "skip_multi_model",
    "suite": "skip_suite",
    "tiers": "skip_tiers",
    "double": "skip_double",
}


def _guarded(function: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """A section's figures; a crash becomes ``status: error`` so the other sections still report."""
    try:
        return function()
    except Exception as exc:  # a benchmark reports what broke and carries on
        return {"status": "error", "reason": f"{type(exc).__name__}: {exc}"[:500]}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--cases", type=int, default=None, help="cases per side and kind (500; 20 with --quick)"
    )
    parser.add_argument(
        "--offline-reps",
        type=int,
        default=None,
        help=f"repetitions of section 1, the median judged (default {OFFLINE_REPS}, "
        f"{QUICK_OFFLINE_REPS} with --quick)",
    )
    parser.add_argument(
        "--repeat", type=int, default=2, help="runs per side in section 4; the fastest kept"
    )
    parser.add_argument(
        "--profile", metavar="PATH", help="write a pyinstrument profile of section 1 (ours) to PATH"
    )
    parser.add_argument("--quick", action="store_true", help="section 1 only, 20 cases")
    parser.add_argument("--skip-offline", action="store_true", help="skip section 1")
    parser.add_argument("--skip-http", action="store_true", help="skip section 2")
    parser.add_argument(
        "--skip-live", action="store_true", help="skip section 3's single-model live runs"
    )
    parser.add_argument(
        "--skip-multi-model",
        action="store_true",
        help="skip section 3's live run of every packaged model side by side",
    )
    parser.add_argument(
        "--only",
        choices=SECTIONS,
        metavar="SECTION",
        help=f"run this section alone, every other skipped (one of {', '.join(SECTIONS)})",
    )
    parser.add_argument("--skip-suite", action="store_true", help="skip section 4")
    parser.add_argument("--skip-tiers", action="store_true", help="skip section 5")
    parser.add_argument("--skip-double", action="store_true", help="skip section 6")
    parser.add_argument(
        "--double-calls",
        type=int,
        default=DOUBLE_CALLS,
        help=f"section 6: calls a side, the fake and bare respx (default {DOUBLE_CALLS})",
    )
    parser.add_argument(
        "--double-rounds",
        type=int,
        default=DOUBLE_ROUNDS,
        help=f"section 6: interleaved rounds the calls are split into, the median ratio judged "
        f"(default {DOUBLE_ROUNDS})",
    )
    parser.add_argument(
        "--stub-seconds",
        type=float,
        default=STUB_SECONDS,
        help=f"section 6: seconds the stub answers one client (default {STUB_SECONDS})",
    )
    parser.add_argument(
        "--full", action="store_true", help="section 5 also times every test with -n 2 (long)"
    )
    parser.add_argument("--json-only", action="store_true", help="print only the JSON line")
    parser.add_argument("--http-client", metavar="BASE_URL", help=argparse.SUPPRESS)
    parser.add_argument("--valid", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--invalid", type=int, default=0, help=argparse.SUPPRESS)
    return parser


def _check_double_options(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Section 6's options: a usage error (exit 2) naming the option and what it takes."""
    if not 1 <= args.double_rounds <= args.double_calls:
        parser.error(
            "--double-rounds takes a whole number >= 1 and --double-calls one >= the rounds "
            f"(got {args.double_rounds} rounds of {args.double_calls} calls)"
        )
    if not 0 < args.stub_seconds <= STUB_MAX_SECONDS:
        parser.error(
            f"--stub-seconds takes a number of seconds above 0 and at most {STUB_MAX_SECONDS:g} "
            f"(got {args.stub_seconds:g})"
        )


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.http_client:
        return http_client_main(args.http_client, args.valid, args.invalid)
    if args.offline_reps is None:
        args.offline_reps = QUICK_OFFLINE_REPS if args.quick else OFFLINE_REPS
    if args.cases is None:
        args.cases = 20 if args.quick else 500
    if args.cases < 1 or args.repeat < 1 or args.offline_reps < 1:
        parser.error("--cases, --repeat and --offline-reps take a whole number >= 1")
    _check_double_options(parser, args)
    if args.only is not None:
        for section, flag in SKIP_FLAGS.items():
            setattr(args, flag, section != args.only)
    cases = args.cases
    if args.profile:
        return profile_offline(cases, Path(args.profile))
    repeat = 1 if args.quick else args.repeat
    why = "--quick" if args.quick else f"--only {args.only}" if args.only else "--skip-*"
    skipped = {"status": "skipped", "reason": why}
    started = time.perf_counter()
    report: dict[str, Any] = {
        "benchmark": "facedetect-contract",
        "version": 2,
        "quick": args.quick,
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
        },
    }
    pytest_children = not (args.skip_live and args.skip_suite and args.skip_tiers)
    if not args.quick and pytest_children:
        report["warmup"] = _guarded(warm_pytest)
    # --quick is a smoke run: each validation figure timed for 50 ms, not 300.
    budget = QUICK_VALIDATION_BUDGET if args.quick else VALIDATION_BUDGET
    report["offline"] = (
        {"status": "skipped", "reason": why if args.only else "--skip-offline"}
        if args.skip_offline
        else _guarded(lambda: section_offline(cases, args.offline_reps, budget))
    )
    report["http"] = (
        skipped if args.quick or args.skip_http else _guarded(lambda: section_http(cases))
    )
    report["live"] = skipped if args.quick or args.skip_live else _guarded(section_live)
    report["multi_model_live"] = (
        skipped if args.quick or args.skip_multi_model else _guarded(section_multi_model_live)
    )
    report["suite"] = (
        skipped if args.quick or args.skip_suite else _guarded(lambda: section_suite(repeat))
    )
    report["tiers"] = (
        skipped
        if args.quick or args.skip_tiers
        else _guarded(lambda: section_tiers(full=args.full))
    )
    report["double"] = (
        skipped
        if args.quick or args.skip_double
        else _guarded(
            lambda: section_double(args.double_calls, args.double_rounds, args.stub_seconds)
        )
    )
    report["targets"] = targets(report)
    report["verdict"] = run_verdict(report)
    report["all_met"] = all_met(report)
    report["not_measured"] = not_measured(report["targets"])
    report["seconds"] = round(time.perf_counter() - started, 1)
    if not args.json_only:
        print(table(report))
    print(json.dumps(report, sort_keys=True))
    return 1 if errored(report) else 0


if __name__ == "__main__":
    sys.exit(main())
