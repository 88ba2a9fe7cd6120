"""The plugin's options and ini key: ``pytest --help`` shows them in one group.

The live session's own options are declared once, by the session module (``live_options``), for
pytest and for ``facedetect-contract live`` alike; this module adds pytest's words around them
(``--dashscope-base-url``, ``--live``, the ini keys) and reads them back (``record_dir``,
``contracts_of``: the contracts folder ``--contracts`` or the ini key chose, once per run).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from ..contracts.loader import Contracts

__all__ = [
    "CONTRACTS_INI",
    "LIVE_MARKER",
    "MODELS_INI",
    "contracts_chosen",
    "contracts_of",
    "live_option_values",
    "pytest_addoption",
    "record_dir",
]

LIVE_MARKER = "facedetect_live"
CONTRACTS_INI = "facedetect_contracts"
MODELS_INI = "facedetect_models"
_CONTRACTS = pytest.StashKey["Contracts"]()


def pytest_addoption(parser: pytest.Parser) -> None:
    from ..contracts.profile import profile_data  # noqa: PLC0415  # the raw JSON: no validators at start-up
    from ..session import contracts_option, live_options, model_option  # noqa: PLC0415

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
    flags, attrs = contracts_option()
    ini = f"{attrs['help']}; or the ini key {CONTRACTS_INI}"
    group.addoption(*flags, **{**attrs, "help": ini})
    flags, attrs = model_option()
    group.addoption(*flags, **{**attrs, "help": f"{attrs['help']}; or the ini key {MODELS_INI}"})
    for flags, attrs in live_options():
        group.addoption(*flags, **attrs)
    parser.addini(
        CONTRACTS_INI,
        "the contracts folder, relative to the ini file's folder (--contracts wins); default: "
        "the packaged face-detect contracts",
        default="",
    )
    parser.addini(
        MODELS_INI,
        "the models whose packaged contracts folders the suite judges by (one today), such as "
        "liveportrait-detect (--model or --contracts wins)",
        type="args",
        default=[],
    )
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
    return default_record_dir(here, contracts_of(config))


def contracts_chosen(config: pytest.Config) -> bool:
    """Whether ``--contracts``, ``--model`` or an ini key names a folder (else: the packaged
    contracts)."""
    return bool(
        config.getoption("facedetect_contracts")
        or config.getoption("facedetect_models")
        or config.getini(CONTRACTS_INI)
        or config.getini(MODELS_INI)
    )


def contracts_of(config: pytest.Config) -> Contracts:
    """The contracts of this run, chosen once: ``--contracts`` (relative to the invocation
    folder) and ``--model`` (a packaged folder by its model's name), then the ini keys
    (``facedetect_contracts`` relative to the ini file's folder, ``facedetect_models``), else
    the packaged ones. A folder that does not exist or does not load, a model no packaged folder
    has, or several models (one run judges one model today) is a ``pytest.UsageError`` naming
    the option (or the ini key), the value and the fix."""
    # Precedence as record_dir's: the command line wins over the ini file.
    from ..session import SessionError, one_contracts_of  # noqa: PLC0415

    found = config.stash.get(_CONTRACTS, None)
    if found is not None:
        return found
    folders = config.getoption("facedetect_contracts")
    models = config.getoption("facedetect_models")
    ini = config.getini(CONTRACTS_INI)
    ini_models = config.getini(MODELS_INI)
    command = "a pytest run"
    try:
        if folders or models:
            found = one_contracts_of(
                folders, models, here=config.invocation_params.dir, command=command
            )
        elif ini or ini_models:
            base = config.inipath.parent if config.inipath is not None else config.rootpath
            found = one_contracts_of(
                ini or None,
                list(ini_models),
                here=Path(base),
                command=command,
                named=f"ini key {CONTRACTS_INI}",
                named_model=f"ini key {MODELS_INI}",
            )
        else:
            found = one_contracts_of(None, here=config.invocation_params.dir, command=command)
    except SessionError as exc:
        raise pytest.UsageError(str(exc)) from None
    config.stash[_CONTRACTS] = found
    return found
