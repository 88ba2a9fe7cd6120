"""The plugin's options and ini key: ``pytest --help`` shows them in one group.

The live session's own options are declared once, by the session module (``live_options``), for
pytest and for ``facedetect-contract live`` alike; this module adds pytest's words around them
(``--dashscope-base-url``, ``--live``, the ini keys) and reads them back (``record_dir``,
``all_contracts_of``: the contracts folders ``--contracts``, ``--model`` or the ini keys chose,
once per run) and parametrize each test by its model in a run of several (``parametrize_by_model``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pytest

if TYPE_CHECKING:
    from ..contracts.loader import Contracts

__all__ = [
    "CONTRACTS_INI",
    "LIVE_MARKER",
    "MODELS_INI",
    "all_contracts_of",
    "contracts_chosen",
    "contracts_of",
    "given_arguments",
    "live_option_values",
    "parametrize_by_model",
    "parametrize_models",
    "pytest_addoption",
    "record_dir",
    "several_models",
]

LIVE_MARKER = "facedetect_live"
CONTRACTS_INI = "facedetect_contracts"
MODELS_INI = "facedetect_models"
_CONTRACTS = pytest.StashKey["list[Contracts]"]()
_GIVEN = pytest.StashKey["set[str]"]()


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
        "the models whose packaged contracts folders the suite judges by, such as "
        "liveportrait-detect (--model or --contracts wins); several: each test that takes the "
        "contracts runs once per model, and --live guards them all in one run",
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


def record_dir(config: pytest.Config, contracts: Contracts | None = None) -> Path:
    """Where this run's recordings of ``contracts``' model are (default: the one model's):
    ``--record-dir``, the ini key, or the default; in a run of several models, the option or
    the ini key names the parent of one folder per model (named as its contracts folder)."""
    # Precedence: --record-dir (relative to the invocation folder), then the ini key (relative
    # to the ini file's folder), then the checkout's fixtures, else the invocation folder's.
    from ..session import default_record_dir  # noqa: PLC0415

    contracts = contracts_of(config) if contracts is None else contracts
    own = contracts.directory.name if several_models(config) else ""
    here = config.invocation_params.dir
    option = config.getoption("facedetect_record_dir")
    if option:
        return here / str(option) / own
    ini = config.getini("facedetect_fixture_dir")
    if ini:
        base = config.inipath.parent if config.inipath is not None else config.rootpath
        return Path(base) / str(ini) / own
    return default_record_dir(here, contracts)


def contracts_chosen(config: pytest.Config) -> bool:
    """Whether ``--contracts``, ``--model`` or an ini key names a folder (else: the packaged
    contracts)."""
    return bool(
        config.getoption("facedetect_contracts")
        or config.getoption("facedetect_models")
        or config.getini(CONTRACTS_INI)
        or config.getini(MODELS_INI)
    )


def all_contracts_of(config: pytest.Config) -> list[Contracts]:
    """Every model of this run, chosen once: ``--contracts`` (relative to the invocation
    folder) and ``--model`` (a packaged folder by its model's name), then the ini keys
    (``facedetect_contracts`` relative to the ini file's folder, ``facedetect_models``), else
    the packaged ones. A folder that does not exist or does not load, or a model no packaged
    folder has, is a ``pytest.UsageError`` naming the option (or the ini key), the value and
    the fix."""
    # Precedence as record_dir's: the command line wins over the ini file.
    from ..session import SessionError, chosen_contracts_of  # noqa: PLC0415

    found = config.stash.get(_CONTRACTS, None)
    if found is not None:
        return found
    folders = config.getoption("facedetect_contracts")
    models = config.getoption("facedetect_models")
    ini = config.getini(CONTRACTS_INI)
    ini_models = config.getini(MODELS_INI)
    try:
        if folders or models:
            found = chosen_contracts_of(folders, models, here=config.invocation_params.dir)
        elif ini or ini_models:
            base = config.inipath.parent if config.inipath is not None else config.rootpath
            found = chosen_contracts_of(
                ini or None,
                list(ini_models),
                here=Path(base),
                named=f"ini key {CONTRACTS_INI}",
                named_model=f"ini key {MODELS_INI}",
            )
        else:
            found = chosen_contracts_of(None, here=config.invocation_params.dir)
    except SessionError as exc:
        raise pytest.UsageError(str(exc)) from None
    from ..live.models import chosen_twice  # noqa: PLC0415

    named = "--contracts or --model" if folders or models else f"{CONTRACTS_INI} or {MODELS_INI}"
    problem = chosen_twice([contracts.profile.model for contracts in found], named)
    if problem is not None:
        raise pytest.UsageError(problem)
    config.stash[_CONTRACTS] = found
    return found


def several_models(config: pytest.Config) -> bool:
    """Whether this run guards several models (each test that takes the contracts runs once
    per model, ``parametrize_by_model``)."""
    return len(all_contracts_of(config)) > 1


def contracts_of(config: pytest.Config) -> Contracts:
    """The one model of this run (``all_contracts_of``); in a run of several models each test
    is given its model's by ``parametrize_by_model``, and asking for "the" model is a
    ``pytest.UsageError`` naming them (never the first taken silently)."""
    found = all_contracts_of(config)
    if len(found) > 1:
        shown = ", ".join(contracts.profile.model for contracts in found)
        raise pytest.UsageError(
            f"this run guards several models ({shown}), and this asks for one: take the "
            "fixture facedetect_contracts (given each model's in turn) instead"
        )
    return found[0]


def given_arguments(metafunc: pytest.Metafunc) -> set[str]:
    """The arguments of ``metafunc``'s test parametrized already by the plugin or the harness
    (two conftests, the project's and the suite's, may both take the hooks)."""
    return metafunc.definition.stash.setdefault(_GIVEN, set())


def parametrize_by_model(
    metafunc: pytest.Metafunc,
    argname: str,
    values_of: Callable[[Contracts], Sequence[tuple[Any, str]]],
    *,
    indirect: bool = False,
    scope: Literal["session", "package", "module", "class", "function"] | None = None,
) -> None:
    """Parametrize ``argname`` by ``values_of(contracts)`` (value, id) of the run's model; in a
    run of several models, jointly with ``facedetect_contracts``: each model's values with
    that model's contracts, ids ``<model>-<id>`` (never a model's value with another's
    contracts). Once per test and argument."""
    given = given_arguments(metafunc)
    if argname not in metafunc.fixturenames or argname in given:
        return
    given.add(argname)
    chosen = all_contracts_of(metafunc.config)
    if len(chosen) == 1:
        values = values_of(chosen[0])
        metafunc.parametrize(
            argname,
            [value for value, _ in values],
            ids=[name for _, name in values],
            indirect=indirect,
            scope=scope,
        )
        return
    if "facedetect_contracts" in given:
        raise pytest.UsageError(
            f"{metafunc.definition.nodeid}: {argname} and another argument both depend on the "
            "model in a run of several models; take one of them per test"
        )
    given.add("facedetect_contracts")
    rows = [
        (contracts, value, f"{contracts.profile.model}-{name}")
        for contracts in chosen
        for value, name in values_of(contracts)
    ]
    metafunc.parametrize(
        ["facedetect_contracts", argname],
        [(contracts, value) for contracts, value, _ in rows],
        ids=[name for _, _, name in rows],
        indirect=["facedetect_contracts", argname] if indirect else ["facedetect_contracts"],
        scope=scope,
    )


def parametrize_models(metafunc: pytest.Metafunc) -> None:
    """In a run of several models, a test that takes the contracts and is not parametrized by
    its model yet runs once per model (ids: the model)."""
    given = given_arguments(metafunc)
    if "facedetect_contracts" not in metafunc.fixturenames or "facedetect_contracts" in given:
        return
    chosen = all_contracts_of(metafunc.config)
    if len(chosen) == 1:
        return
    given.add("facedetect_contracts")
    metafunc.parametrize(
        "facedetect_contracts",
        chosen,
        ids=[contracts.profile.model for contracts in chosen],
        indirect=True,
        scope="session",
    )
