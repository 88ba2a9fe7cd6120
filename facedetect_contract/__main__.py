"""The command line: ``python -m facedetect_contract serve|openapi`` (also ``facedetect-contract``).

``serve`` runs the stub server in the foreground, for the benchmark and for poking at the fake
with curl; ``openapi`` prints, writes or checks ``contracts/face-detect/openapi.json``, the one
generated contract file. Bad input exits 2 with a message naming the flag and the fix.
"""

from __future__ import annotations

import argparse
import logging
import math
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType

from .contracts import ContractFileError, load_contracts
from .images import is_loopback_host
from .openapi import OPENAPI_FILE, render_openapi, write_openapi
from .server import DEFAULT_PREFIX, StubServer

__all__ = ["main"]

_WRITE_HINT = "run `python -m facedetect_contract openapi --write` and commit the result"


def _number(*, minimum: float, inclusive: bool) -> Callable[[str], float]:
    bound = f">= {minimum:g}" if inclusive else f"> {minimum:g}"

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or value < minimum or (not inclusive and value == minimum):
            raise argparse.ArgumentTypeError(f"takes a number {bound}, not {text!r}")
        return value

    return parse


def _count(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"takes a whole number >= 0, not {text!r}")
    return int(text)


def _port(text: str) -> int:
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"takes 0..65535 (0 picks a free port), not {text!r}")
    return int(text)


def _parser() -> argparse.ArgumentParser:
    profile = load_contracts().profile
    key_env = profile.api_key_env
    shapes = {k.shape: k.description for k in profile.answers if k.shape}
    parser = argparse.ArgumentParser(
        prog="python -m facedetect_contract",
        description="Contract tooling for DashScope's EMO face-detect endpoint.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser(
        "serve",
        help="run the stub server (the contract-faithful fake over HTTP) until Ctrl-C",
        description="Serve POST PREFIX/services/aigc/image2video/face-detect on loopback. "
        f"Accepted key: the value of $KEY_ENV (default {key_env}); it is never printed.",
    )
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
        type=_number(minimum=0, inclusive=True),
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
    serve.add_argument(
        "--failure-shape",
        choices=tuple(shapes),
        default=next(iter(shapes)),
        help="how a failed portrait check is answered: "
        + "; ".join(f"{shape} = {text}" for shape, text in shapes.items()),
    )
    serve.add_argument(
        "--key-env",
        metavar="NAME",
        default=key_env,
        help=f"environment variable holding the accepted key (default {key_env})",
    )
    serve.add_argument(
        "--allow-remote-images",
        action="store_true",
        help="download image URLs from any host, not only loopback",
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
        f"flag it is printed; --write refreshes {OPENAPI_FILE}; --check exits 1 when it is stale.",
    )
    action = openapi.add_mutually_exclusive_group()
    action.add_argument("--write", action="store_true", help=f"refresh {OPENAPI_FILE}")
    action.add_argument("--check", action="store_true", help=f"exit 1 when {OPENAPI_FILE} is stale")
    openapi.add_argument(
        "--contracts-dir",
        metavar="DIR",
        type=Path,
        default=None,
        help="contract directory (default: the project's contracts/face-detect)",
    )
    openapi.set_defaults(run=_openapi, parser=openapi)
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
        server = StubServer(
            (args.host, args.port),
            key_env=args.key_env,
            prefix=args.prefix,
            latency_ms=args.latency,
            qps=args.qps,
            failure_shape=args.failure_shape,
            throttle_first=args.throttle_first,
            allow_remote_images=args.allow_remote_images,
            images_dir=args.images_dir,
            catalog=args.catalog,
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
            f"warning: ${args.key_env} is not set: every request will be answered "
            "401 InvalidApiKey. Export it, or pick another variable with --key-env.",
            file=sys.stderr,
        )
    previous = signal.signal(signal.SIGTERM, _interrupt)
    print(f"serving {server.base_url}", flush=True)
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


def _openapi(args: argparse.Namespace) -> int:
    try:
        contracts = load_contracts(args.contracts_dir)
    except ContractFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.write:
        print(f"wrote {write_openapi(contracts)}")
        return 0
    rendered = render_openapi(contracts)
    if not args.check:
        sys.stdout.write(rendered)
        return 0
    path = contracts.directory / OPENAPI_FILE
    if not path.is_file():
        print(f"error: {path} is missing; {_WRITE_HINT}", file=sys.stderr)
        return 1
    if path.read_text(encoding="utf-8") != rendered:
        print(
            f"error: {path} is stale: it differs from what the schemas beside it generate; "
            f"{_WRITE_HINT}",
            file=sys.stderr,
        )
        return 1
    print(f"{path} is up to date")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit status (0 ok, 1 check failed, 2 bad usage)."""
    parser = _parser()
    args = parser.parse_args(argv)
    status: int = args.run(args)
    return status


if __name__ == "__main__":
    sys.exit(main())
