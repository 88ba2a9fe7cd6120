"""The plugin's options and ini key: ``pytest --help`` shows them in one group.

The live session's own options are declared once, by the session module (``live_options``), for
pytest and for ``facedetect-contract live`` alike; this module adds pytest's words around them
(``--dashscope-base-url``, ``--live``, the ini key) and reads them back (``record_dir``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

__all__ = ["LIVE_MARKER", "live_option_values", "pytest_addoption", "record_dir"]

LIVE_MARKER = "facedetect_live"


def pytest_addoption(parser: pytest.Parser) -> None:
    from ..contracts.profile import profile_data  # noqa: PLC0415  # the raw JSON: no validators at start-up
    from ..session import live_options  # noqa: PLC0415

    names = profile_data()
    group = parser.getgroup("face-detect", "face-detect contract suite (facedetect-contract)")
    group.addoption(
        "--dashscope-base-url",
        dest="facedetect_base_url",
        metavar="URL",
        default=None,
        help="API root of the face-detect endpoint; the endpoint path is appended. Default: "
        f"${names['base_url_env']}, else {names['default_base_url']}. A gateway "
        "prefix (/qwen/api/v1) works.",
    )
    group.addoption(
        "--live",
        dest="facedetect_live",
        action="store_true",
        help=f"run the tests marked {LIVE_MARKER} against --dashscope-base-url with "
        f"{names['api_key_env']}",
    )
    for flags, attrs in live_options():
        group.addoption(*flags, **attrs)
    parser.addini(
        "facedetect_fixture_dir",
        "directory --record writes fixtures to and behaviour drift compares with",
        default="",
    )


def live_option_values(config: pytest.Config) -> dict[str, Any]:
    """The live options' values, keyed by their dest (what ``session.live_settings`` reads)."""
    from ..session import live_options  # noqa: PLC0415

    return {attrs["dest"]: config.getoption(attrs["dest"]) for _, attrs in live_options()}


def record_dir(config: pytest.Config) -> Path:
    """Where this run's recordings are (``--record-dir``, the ini key, or the default)."""
    # Precedence: --record-dir (relative to the invocation folder), then the ini key (relative
    # to the ini file's folder), then the checkout's fixtures, else the invocation folder's.
    from ..session import default_record_dir  # noqa: PLC0415

    here = config.invocation_params.dir
    option = config.getoption("facedetect_record_dir")
    if option:
        return here / str(option)
    ini = config.getini("facedetect_fixture_dir")
    if ini:
        base = config.inipath.parent if config.inipath is not None else config.rootpath
        return Path(base) / str(ini)
    return default_record_dir(here)
