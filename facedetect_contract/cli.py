"""The command line: ``facedetect-contract COMMAND`` (also ``python -m facedetect_contract``).

``serve`` runs the stub server in the foreground, for the benchmark and for poking at the fake
with curl; ``openapi`` prints, writes or checks ``contracts/face-detect/openapi.json``, the one
generated contract file; ``run`` runs the packaged suite with pytest; ``live`` runs a live
session without pytest (``facedetect_contract.session``: the same plan, checks, reports and exit
status as ``run --live``); ``history`` and ``annotations`` read what live runs wrote.
``--version``, on its own or after any command, prints the package's version and the contracts'
(``Contracts.version``, the digest a history records). ``--contracts DIR`` and ``--model NAME``
(a packaged folder by its model's name; ``run``, ``live``, ``serve``, ``openapi``) choose the
contracts everything reads, once, at this surface (``session.contracts_option``,
``model_option``); default: the packaged face-detect contracts. ``serve`` and ``openapi`` take
several (one stub, one document); ``run`` and ``live`` one, and refuse several.

Exit status, the same numbers as pytest's so that a CI step reads every command alike:

====  =======================================================================================
0     done: served until stopped, printed, written, or ``openapi --check`` found it current
1     a check failed: ``openapi --check`` found ``openapi.json`` stale or missing
4     usage error, on stderr naming the option, file, line or field and the fix: a bad
      option or value (argparse's own errors included), an input that cannot be read or is
      malformed (a history record, a report, a contracts folder), a path that is refused
      (``openapi --write`` into an installed package), a port that cannot be bound
====  =======================================================================================

``live`` exits as ``run --live`` does: 0 the run checked something and found nothing breaking, 1
not (drift, errors of the run, nothing judged), 2 interrupted (Ctrl-C or SIGTERM; the reports say
"interrupted"), 4 usage error, said before anything is sent. It is its own command, not a flag of
``run``: every word after ``run`` is pytest's.

``run`` exits with pytest's own status (0 passed, 1 failed, 2 interrupted, 3 internal error,
4 usage error, 5 no test ran); its ``--help`` shows the suite's options first, read from the
plugin's option group, and ``--help-pytest`` pytest's whole help.
"""

from __future__ import annotations

import argparse
import functools
import logging
import math
import shutil
import signal
import sys
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, NoReturn, cast

from . import __version__
from .contracts.loader import CONTRACT_DIR, ContractFileError, Contracts, load_contracts
from .contracts.openapi import OPENAPI_FILE, OpenAPIWriteError, render_openapi, write_openapi
from .contracts.questions import default_readings
from .core import inert
from .core.data import PACKAGE_DIR, packaged_or_checkout
from .doubles.faults import Fault, parse_fault, spec_forms
from .doubles.images import DOWNLOAD_DEADLINE, is_loopback_host
from .doubles.server import DEFAULT_PREFIX, StubServer

if TYPE_CHECKING:
    import pytest

__all__ = ["USAGE_ERROR", "main", "pytest_arguments", "suite_dir"]

PROG = "facedetect-contract"
USAGE_ERROR = 4  # pytest.ExitCode.USAGE_ERROR, without importing pytest for every command
INTERRUPTED = 2  # pytest.ExitCode.INTERRUPTED: `live` stopped as `run --live` would be


def _write_hint(contracts: Contracts) -> str:
    """How to refresh the document of ``contracts``' folder (``--contracts`` when it is not the
    packaged face-detect folder)."""
    chosen = "" if contracts.directory == CONTRACT_DIR else f" --contracts {contracts.directory}"
    return f"run `python -m facedetect_contract openapi{chosen} --write` and commit the result"


_HOUR = 3600.0
# `run`'s own words for the plugin's options: alias -> the plugin's option.
_ALIASES = {"--base-url": "--dashscope-base-url"}
_HELP_PYTEST = "--help-pytest"
_OLD_CONTRACTS = ("--contracts-dir",)  # openapi's and history's spelling before --contracts


class _Parser(argparse.ArgumentParser):
    """argparse with pytest's usage-error status: every bad usage of every command exits 4,
    its message (the user's words shown escaped) naming where to read the options."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(
            USAGE_ERROR,
            inert.terminal(f"{self.prog}: error: {message}")
            + f"\n(`{self.prog} --help` lists the options)\n",
        )


def _version_text() -> str:
    contracts = load_contracts()
    return f"{PROG} {__version__}\ncontracts {contracts.version} ({contracts.directory})"


class _Version(argparse.Action):
    """``--version``: the package's and the contracts' versions (read only when asked)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        kwargs.setdefault("help", "print the package's and the contracts' versions and exit")
        super().__init__(option_strings, dest=argparse.SUPPRESS, nargs=0, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *args: object, **kwargs: object) -> None:
        print(_version_text())
        parser.exit(0)


def _add_contracts_option(
    parser: argparse.ArgumentParser, *aliases: str, models: bool = True
) -> None:
    """``--contracts DIR`` and ``--model NAME`` (declared once, in the session module), and any
    older spelling."""
    from .session import contracts_option, model_option  # noqa: PLC0415  # light: lazy imports

    flags, attrs = contracts_option()
    parser.add_argument(*flags, *aliases, **attrs)
    if models:
        flags, attrs = model_option()
        parser.add_argument(*flags, **attrs)


def _contracts(args: argparse.Namespace) -> Contracts:
    """The one model ``--contracts`` (relative to the current folder) or ``--model`` chose,
    else the packaged ones; ``SessionError`` (a usage error) naming the option, the value and
    the fix, several models included (this command takes one)."""
    from .session import one_contracts_of  # noqa: PLC0415

    return one_contracts_of(
        args.facedetect_contracts,
        getattr(args, "facedetect_models", None),
        here=Path.cwd(),
        command=f"{PROG} {args.command}",
    )


def _all_contracts(args: argparse.Namespace) -> list[Contracts]:
    """Every model ``--contracts`` and ``--model`` chose (``serve``, ``openapi``), in order,
    else the packaged ones."""
    from .session import chosen_contracts_of  # noqa: PLC0415

    return chosen_contracts_of(args.facedetect_contracts, args.facedetect_models, here=Path.cwd())


def _number(
    *, minimum: float, inclusive: bool, maximum: float = math.inf
) -> Callable[[str], float]:
    bound = f">= {minimum:g}" if inclusive else f"> {minimum:g}"
    if maximum < math.inf:
        bound += f" and <= {maximum:g}"

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        too_small = value < minimum or (not inclusive and value == minimum)
        if not math.isfinite(value) or too_small or value > maximum:
            raise argparse.ArgumentTypeError(f"takes a number {bound}, not {text!r}")
        return value

    return parse


def _count(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"takes a whole number >= 0, not {text!r}")
    return int(text)


def _positive_count(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"takes a whole number >= 1, not {text!r}")
    return int(text)


def _port(text: str) -> int:
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"takes 0..65535 (0 picks a free port), not {text!r}")
    return int(text)


def _add_double_options(parser: argparse.ArgumentParser, contracts: Contracts) -> None:
    """``serve``'s ``--failure-shape``, ``--reading`` and ``--fault``: what the stub plays, and
    how it fails."""
    shapes = {k.shape: k.description for k in contracts.profile.answers if k.shape}
    parser.add_argument(
        "--failure-shape",
        metavar="SHAPE",
        default=None,
        help="how a failed portrait check is answered (shorthand for its --reading), one of the "
        "contracts' shapes (default: the double's default reading): "
        + "; ".join(f"{shape} = {text}" for shape, text in shapes.items()),
    )
    parser.add_argument(
        "--reading",
        metavar="QUESTION=READING",
        action="append",
        default=[],
        help="the reading of an open question the stub plays (contracts' questions.json; "
        "repeatable), such as failure-details=empty; the others play their defaults",
    )
    parser.add_argument(
        "--fault",
        metavar="SPEC",
        action="append",
        default=[],
        help="a fault on the endpoint's requests, in order (repeatable; docs/faults.md): "
        + "; ".join(spec_forms(contracts)),
    )


def _parser(*, live_options: bool = False) -> argparse.ArgumentParser:
    """The commands' parser; ``live``'s options only when ``live`` runs (declaring them imports
    the live machinery, which no other command needs)."""
    contracts = load_contracts()
    profile = contracts.profile
    key_env = profile.api_key_env
    parser = _Parser(
        prog=PROG,
        description="Contract tooling for DashScope's EMO face-detect endpoint.",
        epilog="Exit status: 0 done, 1 a check failed, 4 usage error (`run`: pytest's; `live`: "
        "`run --live`'s).",
    )
    parser.add_argument("--version", action=_Version)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser(
        "serve",
        help="run the stub server (the contract-faithful fake over HTTP) until Ctrl-C",
        description="Serve POST PREFIX/services/aigc/image2video/face-detect on loopback. "
        f"Accepted key: the value of $KEY_ENV (default {key_env}); it is never printed.",
    )
    serve.add_argument("--version", action=_Version)
    serve.add_argument("--port", type=_port, default=8000, help="TCP port; 0 picks a free one")
    serve.add_argument("--host", default="127.0.0.1", help="bind address (loopback only)")
    serve.add_argument(
        "--allow-remote-bind",
        action="store_true",
        help="allow a non-loopback --host (the stub then answers other machines)",
    )
    serve.add_argument(
        "--prefix", default=DEFAULT_PREFIX, help="API root path, such as /qwen/api/v1"
    )
    serve.add_argument(
        "--latency",
        metavar="MS",
        type=_number(minimum=0, inclusive=True, maximum=_HOUR * 1000),
        default=0.0,
        help="sleep this many milliseconds before each answer",
    )
    serve.add_argument(
        "--qps",
        type=_number(minimum=0, inclusive=False),
        default=None,
        help="answer 429 Throttling.RateQuota beyond this many requests per rolling second",
    )
    serve.add_argument(
        "--throttle-first",
        metavar="N",
        type=_count,
        default=0,
        help="answer the first N requests 429 with Retry-After: 1",
    )
    _add_double_options(serve, contracts)
    serve.add_argument(
        "--key-env",
        metavar="NAME",
        default=None,
        help=f"environment variable holding the accepted key (default the contracts' own, "
        f"{key_env})",
    )
    serve.add_argument(
        "--allow-remote-images",
        action="store_true",
        help="download image URLs from any host, not only loopback",
    )
    serve.add_argument(
        "--image-deadline",
        metavar="SECONDS",
        type=_number(minimum=0, inclusive=False, maximum=_HOUR),
        default=DOWNLOAD_DEADLINE,
        help="each image download's overall deadline, redirects included; past it the answer "
        f"is InvalidURL.Timeout (default {DOWNLOAD_DEADLINE:g})",
    )
    serve.add_argument(
        "--images-dir", metavar="DIR", type=Path, default=None, help="serve DIR under /images/"
    )
    serve.add_argument(
        "--catalog",
        action="store_true",
        help="answer image URLs from the fake's offline catalogue (the documented example "
        "images, and a deterministic answer for any other URL) instead of downloading them, "
        "so tools over HTTP see every kind of answer",
    )
    serve.set_defaults(run=_serve, parser=serve)

    openapi = commands.add_parser(
        "openapi",
        help=f"print, write or check contracts/face-detect/{OPENAPI_FILE}",
        description=f"The OpenAPI document generated from the schema contracts. Without a "
        f"flag it is printed; --write refreshes {OPENAPI_FILE} or writes PATH; --check exits 1 "
        "when it is stale.",
    )
    openapi.add_argument("--version", action=_Version)
    action = openapi.add_mutually_exclusive_group()
    action.add_argument(
        "--write",
        metavar="PATH",
        nargs="?",
        type=Path,
        const=True,  # --write without a path: the contracts' own file
        default=None,
        help=f"write the document to PATH (a file, or a folder for {OPENAPI_FILE}); without "
        f"PATH, refresh the contracts' own {OPENAPI_FILE} (in a source checkout only). "
        "Never into an installed package.",
    )
    action.add_argument("--check", action="store_true", help=f"exit 1 when {OPENAPI_FILE} is stale")
    openapi.set_defaults(run=_openapi, parser=openapi)

    annotate = commands.add_parser(
        "annotations",
        help="print a JSON drift report's findings as GitHub Actions annotations",
        description="Prints one ::error:: line per breaking finding and one ::warning:: line "
        "per additive finding (and per error of the run), so a CI job shows them without "
        "failing on additive ones. Exit status 0, or 4 when the report cannot be read.",
    )
    annotate.add_argument("--version", action=_Version)
    annotate.add_argument("report", type=Path, help="a report written by --drift-report *.json")
    annotate.set_defaults(run=_annotations, parser=annotate)

    history = commands.add_parser(
        "history",
        help="summarise a live history (--history FILE): findings over the nights, open "
        "questions and the contract change of any that settled, latency trends",
        description="Reads a history written by live runs with --history. A question settles "
        "when it got the same reading in at least --settle-after runs in a row and never "
        "another; its contract change is printed as a unified diff (git apply takes it). "
        "Nothing is edited.",
    )
    history.add_argument("--version", action=_Version)
    history.add_argument("file", type=Path, help="the history file (JSON lines)")
    history.add_argument(
        "--settle-after",
        metavar="N",
        type=_positive_count,
        default=14,
        help="equal readings in a row that settle a question (default 14)",
    )
    history.add_argument(
        "--diff", metavar="PATH", type=Path, default=None, help="write the diffs there instead"
    )
    history.set_defaults(run=_history, parser=history)

    live = commands.add_parser(
        "live",
        help="run a live session without pytest: the plan, checks, reports and exit status of "
        "`run --live`",
        description="Sends the live plan (the cases, the free probes, the generated invalid "
        f"requests) to --base-url with the key in ${key_env} (read from there only, never "
        "printed), judges every answer and writes the reports, as `run --live` does, without "
        "starting pytest. Exit status: 0 passed, 1 not passed (drift, errors of the run, "
        "nothing judged), 2 interrupted, 4 usage error.",
    )
    live.add_argument("--version", action=_Version)
    live.add_argument(
        "--base-url",
        "--dashscope-base-url",
        dest="facedetect_base_url",
        metavar="URL",
        default=None,
        help="API root of the face-detect endpoint; the endpoint path is appended. Default: "
        f"${profile.base_url_env}, else {profile.default_base_url}.",
    )
    # The folder every command that reads contracts judges by (``history``: the diffs' folder).
    for command, older in ((serve, ()), (openapi, _OLD_CONTRACTS), (history, _OLD_CONTRACTS)):
        _add_contracts_option(command, *older, models=command is not history)
    _add_contracts_option(live)
    if live_options:
        from .session import live_options as declared  # noqa: PLC0415

        for flags, attrs in declared():
            live.add_argument(*flags, **attrs)
    live.set_defaults(run=_live, parser=live)

    run = commands.add_parser(
        "run",
        help="run the packaged contract suite with pytest (offline unless --live)",
        description="Runs the contract suite shipped in the package (the checkout's "
        "tests/contract) from any folder, with its own pytest settings. Every argument goes to "
        "pytest; --base-url URL is --dashscope-base-url URL. A path or node id (test_replay.py, "
        "test_replay.py::test_x) narrows the run to it. Exit status: pytest's. "
        f"`{PROG} run --help` lists the suite's options; {_HELP_PYTEST} pytest's.",
        add_help=False,
    )
    run.set_defaults(run=_run, parser=run)
    return parser


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # SIGTERM stops the server as Ctrl-C does


def _serve(args: argparse.Namespace) -> int:
    parser: argparse.ArgumentParser = args.parser
    if not is_loopback_host(args.host) and not args.allow_remote_bind:
        parser.error(
            f"--host {args.host} is not a loopback address; the stub accepts keys and fetches "
            "URLs, so it binds to 127.0.0.1 by default. Add --allow-remote-bind to bind it anyway."
        )
    if args.images_dir is not None and not args.images_dir.is_dir():
        parser.error(f"--images-dir {args.images_dir}: no such directory; give an existing one")
    if args.catalog and args.allow_remote_images:
        parser.error("--catalog answers every URL offline; drop --allow-remote-images")
    try:
        models = _all_contracts(args)  # every model chosen, served at once
    except ValueError as exc:
        parser.error(str(exc))
    contracts = models[0]  # the first: its key variable, its faults' answers
    readings, faults = _played(parser, args, models)
    key_env = args.key_env or contracts.profile.api_key_env
    try:
        server = StubServer(
            (args.host, args.port),
            key_env=key_env,
            prefix=args.prefix,
            latency_ms=args.latency,
            qps=args.qps,
            failure_shape=args.failure_shape,
            throttle_first=args.throttle_first,
            allow_remote_images=args.allow_remote_images,
            images_dir=args.images_dir,
            catalog=args.catalog,
            image_deadline=args.image_deadline,
            contracts=models,
            readings=readings,
            faults=faults,
        )
    except ValueError as exc:
        parser.error(str(exc))
    except OSError as exc:
        parser.error(
            f"--port {args.port}: cannot listen on {args.host}:{args.port} ({exc.strerror}); "
            "pick another port, or 0 for a free one"
        )
    # The package's own log (the redacted access log) to stderr; other libraries stay quiet.
    log = logging.StreamHandler(sys.stderr)
    log.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    package_logger = logging.getLogger("facedetect_contract")
    package_logger.addHandler(log)
    package_logger.setLevel(logging.INFO)
    if not server.key_count:
        print(
            f"warning: ${key_env} is not set: every request will be answered "
            "401 InvalidApiKey. Export it, or pick another variable with --key-env.",
            file=sys.stderr,
        )
    previous = signal.signal(signal.SIGTERM, _interrupt)
    # Line 1 the API root (what clients taking a base URL want), line 2 the bare origin.
    print(f"serving {server.base_url}\norigin {server.origin}", flush=True)
    played = [
        f"{fake.contracts.profile.model}: {q}={r}" if len(models) > 1 else f"{q}={r}"
        for fake in server.fakes.values()
        for q, r in fake.readings.items()
        if default_readings(fake.contracts.questions).get(q) != r
    ]
    if played or faults:
        package_logger.info(
            "readings %s; faults %s",
            ", ".join(played) or "the defaults",
            ", ".join(f.spec for f in faults) or "none",
        )
    if server.images_url is not None:
        package_logger.info("images from %s at %s/", server.images_dir, server.images_url)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        package_logger.info("stopped")
    finally:
        server.server_close()
        signal.signal(signal.SIGTERM, previous)
    return 0


def _played(
    parser: argparse.ArgumentParser, args: argparse.Namespace, models: Sequence[Contracts]
) -> tuple[dict[str, str], tuple[Fault, ...]]:
    """``--failure-shape``, ``--reading`` and ``--fault`` checked against the models served
    (each applies to the models that have its shape or question; faults are the first model's):
    the readings named and the faults, in order; a usage error names the option."""
    contracts = models[0]
    shapes = list(dict.fromkeys(s for c in models for s in c.profile.failure_shapes))
    shape = args.failure_shape
    if shape is not None and shape not in shapes:
        parser.error(
            f"--failure-shape {shape}: not a failure shape of the contracts "
            f"({', '.join(str(c.directory) for c in models)}); choose from {', '.join(shapes)}"
        )
    readings = _readings(parser, args.reading, models, shape)
    faults: list[Fault] = []
    for spec in args.fault:
        try:
            faults.append(parse_fault(spec, contracts))
        except ValueError as exc:
            parser.error(f"--fault {spec}: {exc}")
    return readings, tuple(faults)


def _readings(
    parser: argparse.ArgumentParser,
    given: Sequence[str],
    models: Sequence[Contracts],
    shape: str | None,
) -> dict[str, str]:
    """``--reading QUESTION=READING`` values checked against the open questions of the models
    served (a question of any of them), and against ``--failure-shape`` (a shorthand for a
    reading): a usage error names the option."""
    questions = {q: m.questions[q] for m in reversed(models) for q in m.questions}
    folders = ", ".join(str(m.directory) for m in models)
    readings: dict[str, str] = {}
    for text in given:
        question, equals, reading = (part.strip() for part in text.partition("="))
        if not equals or not question or not reading:
            parser.error(f"--reading {text}: give QUESTION=READING, such as failure-shape=B")
        if question not in questions:
            parser.error(
                f"--reading {text}: no open question {question!r} in the contracts "
                f"({folders}); the questions: {', '.join(sorted(questions))}"
            )
        valid = list(
            dict.fromkeys(
                r.id
                for m in models
                if question in m.questions
                for r in m.questions[question].playable
            )
        )
        if reading not in valid:
            parser.error(
                f"--reading {text}: question {question!r} has no reading {reading!r}; its "
                f"readings: {', '.join(valid)}"
            )
        if readings.get(question, reading) != reading:
            parser.error(
                f"--reading {text}: --reading {question}={readings[question]} was given too; "
                "give one"
            )
        readings[question] = reading
    for kind in (k for m in models for k in m.profile.answers):
        if shape is None or kind.shape != shape or kind.question is None:
            continue
        asked = readings.get(kind.question)
        if asked is not None and asked != kind.reading:
            parser.error(
                f"--failure-shape {shape} is --reading {kind.question}={kind.reading}, but "
                f"--reading {kind.question}={asked} was given: give one of them"
            )
    return readings


def _live(args: argparse.Namespace) -> int:
    """One live session through ``facedetect_contract.session``, no pytest: made (every usage
    error said before anything is sent), started, run, finished; its summary printed."""
    from .client import endpoint_url  # noqa: PLC0415
    from .core.redaction import redact_log_records  # noqa: PLC0415
    from .session import (  # noqa: PLC0415
        LiveSession,
        default_record_dir,
        live_key,
        live_settings,
        record_dirs_of,
    )

    def usage_error(text: str) -> int:
        print(inert.terminal(f"error: {text}"), file=sys.stderr)
        return USAGE_ERROR

    here = Path.cwd()
    base_url = args.facedetect_base_url
    try:
        models = _all_contracts(args)  # --contracts and --model, else the packaged ones
        if base_url is not None:
            for contracts in models:
                try:
                    endpoint_url(base_url, contracts=contracts)
                except ValueError as exc:
                    raise ValueError(f"--base-url: {exc}") from None
        secrets = [live_key(contracts, asked_by=f"{PROG} live") for contracts in models]
    except (ContractFileError, ValueError) as exc:
        return usage_error(str(exc))
    uninstall = redact_log_records(secrets)
    # SIGTERM (a CI job's timeout) stops the run as Ctrl-C does: the reports say "interrupted".
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        try:
            record = args.facedetect_record_dir
            settings = live_settings(
                vars(args),
                base_url=base_url,
                here=here,
                record_dir=here / record if record else default_record_dir(here, models[0]),
                models=len(models),
            )
            session = LiveSession(
                settings,
                contracts=models,
                baseline_until=args.facedetect_baseline_until,
                record_dir_of=record_dirs_of(here, record),
            )
            session.start()
        except ValueError as exc:  # cases, baseline, history files, option values, base URL, ...
            return usage_error(str(exc))
        interrupted = False
        try:
            session.run()
        except KeyboardInterrupt:
            interrupted = True
        session.finish(interrupted=interrupted)
        print(session.banner)
        for line, _ in session.summary_lines():
            print(line)
        return INTERRUPTED if interrupted else session.exit_status
    finally:
        signal.signal(signal.SIGTERM, previous)
        uninstall()


def _openapi(args: argparse.Namespace) -> int:
    try:
        models = _all_contracts(args)
    except ValueError as exc:  # SessionError: the option, the folder, the fix
        print(inert.terminal(f"error: {exc}"), file=sys.stderr)
        return USAGE_ERROR
    if len(models) > 1:
        return _openapi_of_models(args, models)
    contracts = models[0]
    if args.write is not None:
        path = None if args.write is True else args.write
        try:
            written = write_openapi(contracts, path)
        except OpenAPIWriteError as exc:
            print(inert.terminal(f"error: openapi --write: {exc}"), file=sys.stderr)
            return USAGE_ERROR
        except OSError as exc:
            print(
                inert.terminal(
                    f"error: openapi --write: cannot write {exc.filename or path} "
                    f"({exc.strerror or exc}); give a writable file or folder"
                ),
                file=sys.stderr,
            )
            return USAGE_ERROR
        print(inert.terminal(f"wrote {written}"))
        return 0
    rendered = render_openapi(contracts)
    if not args.check:
        sys.stdout.write(rendered)
        return 0
    path = contracts.directory / OPENAPI_FILE
    if not path.is_file():
        print(
            inert.terminal(f"error: {path} is missing; {_write_hint(contracts)}"), file=sys.stderr
        )
        return 1
    if path.read_text(encoding="utf-8") != rendered:
        print(
            inert.terminal(
                f"error: {path} is stale: it differs from what the schemas beside it generate; "
                f"{_write_hint(contracts)}"
            ),
            file=sys.stderr,
        )
        return 1
    print(f"{path} is up to date")
    return 0


def _openapi_of_models(args: argparse.Namespace, models: Sequence[Contracts]) -> int:
    """``openapi`` with several models: their one document, printed or written to a path of
    the user's (no contracts folder holds it, so there is no own file to refresh or check)."""
    from .contracts.openapi import installed_package, render_openapi_for  # noqa: PLC0415

    if args.check or args.write is True:
        chosen = " ".join(f"--model {c.profile.model}" for c in models)
        print(
            inert.terminal(
                f"error: openapi {'--check' if args.check else '--write'} without PATH refreshes "
                f"or checks one contracts folder's {OPENAPI_FILE}, and {len(models)} models were "
                f"chosen ({chosen}); give one --contracts DIR or --model NAME, or write their "
                f"one document to a path of yours (--write PATH)"
            ),
            file=sys.stderr,
        )
        return USAGE_ERROR
    rendered = render_openapi_for(models)
    if args.write is None:
        sys.stdout.write(rendered)
        return 0
    path: Path = args.write / OPENAPI_FILE if args.write.is_dir() else args.write
    where = installed_package(path)
    if where is not None:
        print(
            inert.terminal(
                f"error: openapi --write: {path} is inside an installed package ({where}); "
                "write the document to a path of yours"
            ),
            file=sys.stderr,
        )
        return USAGE_ERROR
    try:
        path.write_text(rendered, encoding="utf-8")
    except OSError as exc:
        print(
            inert.terminal(
                f"error: openapi --write: cannot write {path} ({exc.strerror or exc}); give a "
                "writable file or folder"
            ),
            file=sys.stderr,
        )
        return USAGE_ERROR
    print(inert.terminal(f"wrote {path}"))
    return 0


def _annotations(args: argparse.Namespace) -> int:
    from .report.annotations import UNREADABLE, annotations_of  # noqa: PLC0415

    try:
        lines = annotations_of(args.report)
    except UNREADABLE as exc:
        print(
            inert.terminal(
                f"error: {args.report}: {type(exc).__name__}: {exc}; give the JSON written by "
                "--drift-report"
            ),
            file=sys.stderr,
        )
        return USAGE_ERROR
    for line in lines:
        print(line)
    return 0


def _history(args: argparse.Namespace) -> int:
    from .report.history import HistoryError, load_history, summarize  # noqa: PLC0415
    from .report.history_summary import contract_changes, summary_lines  # noqa: PLC0415

    try:
        records = load_history(args.file, missing_ok=False)
        summary = summarize(records, settle_after=args.settle_after)
        contracts = _contracts(args)
    except (HistoryError, ContractFileError, ValueError) as exc:
        print(inert.terminal(f"error: {exc}"), file=sys.stderr)
        return USAGE_ERROR
    for line in summary_lines(args.file, records, summary, settle_after=args.settle_after):
        print(line)
    text = contract_changes(summary, contracts)
    if not text:
        return 0
    if args.diff is None:
        print("the contract change of the settled question(s) (git apply takes it):")
        sys.stdout.write(text)
        return 0
    try:
        args.diff.write_text(text, encoding="utf-8")
    except OSError as exc:
        print(
            inert.terminal(
                f"error: --diff {args.diff}: cannot write it ({exc.strerror or exc}); "
                "give a writable file, or leave --diff out to print the change"
            ),
            file=sys.stderr,
        )
        return USAGE_ERROR
    print(
        inert.terminal(
            f"the contract change of the settled question(s): {args.diff} (git apply it)"
        )
    )
    return 0


def suite_dir() -> Path:
    """The contract suite: shipped inside the package, or the checkout's tests/contract."""
    return packaged_or_checkout("suite", "tests/contract")


def pytest_arguments(arguments: Sequence[str], suite: Path) -> list[str]:
    """The pytest command line of ``facedetect-contract run``: the suite (or the paths given),
    its settings file, and the user's arguments with --base-url made --dashscope-base-url and
    --help-pytest made pytest's --help."""
    translated: list[str] = []
    targets: list[str] = []
    takes_value = _options_taking_a_value()
    for argument in arguments:
        value_of_previous = bool(translated) and translated[-1] in takes_value
        if value_of_previous:  # --record-dir recordings: a value, even when it names a folder
            translated.append(argument)
        elif argument in _ALIASES:
            translated.append(_ALIASES[argument])
        elif argument.partition("=")[0] in _ALIASES and "=" in argument:
            alias, _, value = argument.partition("=")
            translated.append(f"{_ALIASES[alias]}={value}")
        elif argument == _HELP_PYTEST:
            translated.append("--help")
        elif not argument.startswith("-") and _is_target(argument, suite):
            path, _, node = argument.partition("::")
            own = suite / path
            targets.append(str(own) + (f"::{node}" if node else "") if own.exists() else argument)
        else:
            translated.append(argument)
    ini = PACKAGE_DIR / "suite.ini"
    return [
        *(targets or [str(suite)]),
        "-c",
        str(ini),
        "--rootdir",
        str(suite.parent),
        "-p",
        "no:cacheprovider",  # the cache would be written beside the suite, in site-packages
        *translated,
    ]


def _options_taking_a_value() -> set[str]:
    """The option strings of pytest's own options and the plugin's that take a value (so the
    next word is that value, not a test path). Other plugins' options are not known here: their
    values are told from test paths by whether they name a folder or a .py file."""
    from _pytest.config import get_config  # noqa: PLC0415  # pytest.main loads the same modules

    from . import plugin  # noqa: PLC0415

    config = get_config()
    plugin.pytest_addoption(config._parser)
    return {
        option
        for action in config._parser.optparser._actions
        if action.option_strings and action.nargs not in (0, "?")
        for option in action.option_strings
    }


def _is_target(argument: str, suite: Path) -> bool:
    """Whether a positional argument names tests (a path, or a node id) rather than a value."""
    path = argument.partition("::")[0]
    for base in (Path.cwd(), suite):
        candidate = base / path
        if candidate.is_dir() or (candidate.is_file() and candidate.suffix == ".py"):
            return True
    return False


class _DeclaredOptions:
    """Stands in for ``pytest.Parser`` while the plugin declares its options, so ``run --help``
    shows the plugin's groups exactly as the plugin declares them, with no pytest start-up and
    no copied list. pytest documents ``addoption``'s attributes as ``add_argument``'s, so each
    option goes straight into an argparse group; ``run``'s aliases are shown beside theirs."""

    def __init__(self, parser: argparse.ArgumentParser) -> None:
        self._parser = parser
        self._groups: dict[str, _DeclaredGroup] = {}
        self.ini: list[tuple[str, str]] = []

    def getgroup(
        self, name: str, description: str = "", after: str | None = None
    ) -> _DeclaredGroup:
        if name not in self._groups:
            title = description or name
            self._groups[name] = _DeclaredGroup(self._parser.add_argument_group(title).add_argument)
        return self._groups[name]

    def addoption(self, *names: str, **attrs: Any) -> None:
        self.getgroup("custom options").addoption(*names, **attrs)  # pytest's own group name

    def addini(self, name: str, help: str, *args: object, **kwargs: object) -> None:
        self.ini.append((name, help))  # `help` is pytest's keyword: the plugin passes it so


class _DeclaredGroup:
    def __init__(self, add_argument: Callable[..., argparse.Action]) -> None:
        self._add_argument = add_argument

    def addoption(self, *names: str, **attrs: Any) -> None:
        aliases = [alias for alias, option in _ALIASES.items() if option in names]
        self._add_argument(*aliases, *names, **attrs)


def _run_help() -> str:
    """``run --help``: the suite's own options first, then ``run``'s words and the pointer to
    pytest's help (488 lines of it would bury the suite's)."""
    from . import plugin  # noqa: PLC0415  # imports pytest: only when this help is asked

    parser = _Parser(
        prog=f"{PROG} run",
        usage=f"{PROG} run [OPTION ...] [TEST PATH ...]",
        description="Runs the contract suite shipped in the package with its own pytest "
        "settings, from any folder (offline unless --live). A path or node id of the suite "
        "(test_replay.py, test_replay.py::test_x) narrows the run to it.",
        epilog=f"Every pytest option applies as well: `{PROG} run {_HELP_PYTEST}` lists them. "
        "Exit status: pytest's (0 passed, 1 failed, 2 interrupted, 3 internal error, "
        "4 usage error, 5 no test ran).",
        add_help=False,
    )
    declared = _DeclaredOptions(parser)
    plugin.pytest_addoption(cast("pytest.Parser", declared))
    own = parser.add_argument_group(f"{PROG} run")
    own.add_argument("-h", "--help", action="store_true", help="show this help and exit")
    own.add_argument(
        _HELP_PYTEST, action="store_true", help="show pytest's help (every option) and exit"
    )
    own.add_argument("--version", action=_Version)
    epilog, parser.epilog = parser.epilog or "", None  # after the settings, below
    text = parser.format_help()
    # argparse's width, and no break inside an option's name
    wrap = functools.partial(
        textwrap.fill, width=shutil.get_terminal_size().columns - 2, break_on_hyphens=False
    )
    if declared.ini:
        text += "\nthe suite's settings (-o NAME=VALUE):\n"
        for name, line in declared.ini:
            text += wrap(line, initial_indent=f"  {name}: ", subsequent_indent=" " * 4) + "\n"
    return text + "\n" + wrap(epilog) + "\n"


def _run(args: argparse.Namespace) -> int:
    import pytest  # noqa: PLC0415  # only this command needs it

    return int(pytest.main(pytest_arguments(args.pytest_args, suite_dir())))


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit status (0 ok, 1 a check failed, 4 usage error; `run`
    pytest's). argparse's own usage errors and --help/--version raise ``SystemExit``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["run"]:  # everything after `run` is pytest's, but for these two
        if "--version" in argv[1:]:  # pytest's own --version names pytest, not the suite
            print(_version_text())
            return 0
        if {"-h", "--help"} & set(argv[1:]):
            sys.stdout.write(_run_help())
            return 0
        args = argparse.Namespace(run=_run, pytest_args=argv[1:])
    else:
        args = _parser(live_options=argv[:1] == ["live"]).parse_args(argv)
    status: int = args.run(args)
    return status


if __name__ == "__main__":
    sys.exit(main())
