"""The plugin's markers: registered with one line each, their arguments checked, and each
marker's reach (``APPLIES_TO``): the fixtures it acts on.

A marker no fixture of its test carries out would turn a test of throttling into a test of
nothing, green: ``unapplied_markers`` names every such marker, and the plugin fails the test at
setup. A bad argument (a reading the questions do not list, a fault spec the parser refuses)
fails it at setup too, naming the marker, the bad part and what is valid."""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import pytest

from .options import LIVE_MARKER

if TYPE_CHECKING:
    from ..contracts.loader import Contracts
    from ..doubles.faults import Fault

__all__ = [
    "APPLIES_TO",
    "EVERY_READING_MARKER",
    "FAULTS_MARKER",
    "LIVE_MARKER",
    "LIVE_SKIP_REASON",
    "MOCK_OPTIONS",
    "READINGS_MARKER",
    "REPLAY_MARKER",
    "every_reading_pairwise",
    "every_reading_params",
    "fake_options",
    "marker_faults",
    "marker_readings",
    "mock_options",
    "register_markers",
    "replay_folder",
    "unapplied_markers",
]

LIVE_SKIP_REASON = "facedetect live: needs --live and DASHSCOPE_API_KEY (see the README, Live mode)"

# The facedetect_mock marker's keywords: the router's, not the fake's (those are facedetect_fake's).
MOCK_OPTIONS = {"strict": bool}

READINGS_MARKER = "facedetect_readings"
EVERY_READING_MARKER = "facedetect_every_reading"
FAULTS_MARKER = "facedetect_faults"
REPLAY_MARKER = "facedetect_replay"

# The fixtures that play the fake's readings (each takes facedetect_readings).
_PLAYING = (
    "facedetect_fake",
    "facedetect_mock",
    "facedetect_client",
    "facedetect_stub",
    "facedetect_stub_factory",
    "facedetect_readings",
)
# Marker -> the fixtures that carry it out: a test marked with it must take one of them.
APPLIES_TO: dict[str, tuple[str, ...]] = {
    "facedetect_fake": _PLAYING,
    READINGS_MARKER: _PLAYING,
    EVERY_READING_MARKER: _PLAYING,
    FAULTS_MARKER: (
        "facedetect_mock",
        "facedetect_client",
        "facedetect_stub",
        "facedetect_stub_factory",
    ),
    "facedetect_mock": ("facedetect_mock",),
    REPLAY_MARKER: ("facedetect_replay",),
}


def register_markers(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{LIVE_MARKER}: talks to the face-detect endpoint (or --dashscope-base-url); needs --live",
    )
    config.addinivalue_line(
        "markers",
        "facedetect_fake(**kwargs): options of the facedetect_fake fixture "
        "(FaceDetectFake's keyword arguments, such as failure_shape='B')",
    )
    config.addinivalue_line(
        "markers",
        "facedetect_mock(strict=False): strict=True fails a request under the facedetect_mock "
        "fixture that neither the fake nor another respx route answers, instead of sending it on",
    )
    config.addinivalue_line(
        "markers",
        f"{READINGS_MARKER}('QUESTION=READING', ... or {{question: reading}}): the open "
        "questions' readings the fake plays in this test (facedetect_fake, facedetect_mock, "
        "facedetect_client, facedetect_stub); the others play their defaults",
    )
    config.addinivalue_line(
        "markers",
        f"{EVERY_READING_MARKER}(pairwise=False): run the test once per reading of every open "
        "question (ids such as failure-details=empty), or with pairwise=True once per "
        "combination of a pairwise cover; the facedetect_readings fixture holds the one in force",
    )
    config.addinivalue_line(
        "markers",
        f"{FAULTS_MARKER}('SPEC', ...): faults on the endpoint's requests in this test "
        "(facedetect_mock, facedetect_client, facedetect_stub): throttle:first=2, 503, "
        "delay=1500, drop, ... (docs/faults.md)",
    )
    config.addinivalue_line(
        "markers",
        f"{REPLAY_MARKER}('FOLDER'): the recordings the facedetect_replay fixture answers from "
        "(relative to the test file's folder; default the packaged documented fixtures)",
    )


def fake_options(request: pytest.FixtureRequest) -> dict[str, Any]:
    """The ``facedetect_fake`` marker's keyword arguments (``FaceDetectFake``'s), checked."""
    from ..doubles.fake import FaceDetectFake  # noqa: PLC0415

    marker = request.node.get_closest_marker("facedetect_fake")
    options = dict(marker.kwargs) if marker is not None else {}
    if marker is not None and marker.args:
        raise pytest.UsageError("@pytest.mark.facedetect_fake takes keyword arguments only")
    allowed = set(inspect.signature(FaceDetectFake).parameters) - {"contracts"}
    unknown = sorted(set(options) - allowed)
    if unknown:
        elsewhere = sorted(set(unknown) & set(MOCK_OPTIONS))
        hint = f"; {elsewhere} belong to @pytest.mark.facedetect_mock" if elsewhere else ""
        raise pytest.UsageError(
            f"@pytest.mark.facedetect_fake: unknown option(s) {unknown}; "
            f"known: {sorted(allowed)}{hint}"
        )
    return options


def mock_options(request: pytest.FixtureRequest) -> dict[str, bool]:
    """The ``facedetect_mock`` marker's keyword arguments (``MOCK_OPTIONS``), checked."""
    marker = request.node.get_closest_marker("facedetect_mock")
    if marker is None:
        return {}
    if marker.args:
        raise pytest.UsageError("@pytest.mark.facedetect_mock takes keyword arguments only")
    unknown = sorted(set(marker.kwargs) - set(MOCK_OPTIONS))
    if unknown:
        raise pytest.UsageError(
            f"@pytest.mark.facedetect_mock: unknown option(s) {unknown}; known: "
            f"{sorted(MOCK_OPTIONS)} (the fake's own options go to @pytest.mark.facedetect_fake)"
        )
    for name, kind in MOCK_OPTIONS.items():
        value = marker.kwargs.get(name, False)
        if not isinstance(value, kind):
            raise pytest.UsageError(
                f"@pytest.mark.facedetect_mock: {name} must be True or False, not {value!r}"
            )
    return dict(marker.kwargs)


def _refuse(marker: str, problem: str) -> NoReturn:
    pytest.fail(f"@pytest.mark.{marker}: {problem}", pytrace=False)


def marker_readings(node: pytest.Item, contracts: Contracts) -> dict[str, str]:
    """The readings the ``facedetect_readings`` markers of ``node`` name (the closest marker
    wins a question), checked against the open questions: a bad one fails the test naming the
    marker, the part that is wrong and the valid questions or readings."""
    from ..contracts.loader import QUESTIONS_FILE  # noqa: PLC0415

    questions = contracts.questions
    chosen: dict[str, str] = {}
    for marker in node.iter_markers(READINGS_MARKER):  # the closest first
        if marker.kwargs:
            _refuse(
                READINGS_MARKER,
                "takes 'QUESTION=READING' strings or one dict, not keywords "
                f"{sorted(marker.kwargs)} (question ids hold dashes: give them as strings)",
            )
        if not marker.args or marker.args == ({},):
            _refuse(READINGS_MARKER, "names no reading: give 'QUESTION=READING' strings or a dict")
        pairs: list[tuple[str, str]] = []
        if len(marker.args) == 1 and isinstance(marker.args[0], Mapping):
            pairs = [(str(q), str(r)) for q, r in marker.args[0].items()]
        else:
            for arg in marker.args:
                if not isinstance(arg, str) or "=" not in arg:
                    _refuse(
                        READINGS_MARKER,
                        f"{arg!r} is not 'QUESTION=READING' (such as 'failure-shape=B'); "
                        "give strings, or one dict",
                    )
                question, _, reading = arg.partition("=")
                pairs.append((question.strip(), reading.strip()))
        for question, reading in pairs:
            if question not in questions:
                _refuse(
                    READINGS_MARKER,
                    f"{question}={reading}: no open question {question!r} in "
                    f"{QUESTIONS_FILE}; the questions: {', '.join(questions)}",
                )
            valid = [r.id for r in questions[question].playable]
            if reading not in valid:
                _refuse(
                    READINGS_MARKER,
                    f"{question}={reading}: question {question!r} has no reading {reading!r} "
                    f"in {QUESTIONS_FILE}; its readings: {', '.join(valid)}",
                )
            chosen.setdefault(question, reading)
    return chosen


def every_reading_pairwise(node: pytest.Item) -> bool | None:
    """``None`` when ``node`` is not marked ``facedetect_every_reading``; else whether it asks
    for the pairwise cover (``pairwise=True``) rather than every reading once."""
    marker = node.get_closest_marker(EVERY_READING_MARKER)
    if marker is None:
        return None
    unknown = sorted(set(marker.kwargs) - {"pairwise"})
    pairwise = marker.kwargs.get("pairwise", False)
    if marker.args or unknown or not isinstance(pairwise, bool):
        raise pytest.UsageError(
            f"@pytest.mark.{EVERY_READING_MARKER} takes only pairwise=True or pairwise=False, "
            f"not {marker.args or marker.kwargs}"
        )
    return pairwise


def marker_faults(node: pytest.Item, contracts: Contracts) -> tuple[Fault, ...]:
    """The faults the closest ``facedetect_faults`` marker names, in order (``Fault`` objects or
    their specs); a spec the parser refuses fails the test with the marker and its message."""
    from ..doubles.faults import Fault, parse_fault  # noqa: PLC0415

    marker = node.get_closest_marker(FAULTS_MARKER)
    if marker is None:
        return ()
    if marker.kwargs:
        _refuse(FAULTS_MARKER, f"takes fault specs only, not keywords {sorted(marker.kwargs)}")
    if not marker.args:
        _refuse(FAULTS_MARKER, "names no fault: give specs such as 'throttle:first=2'")
    faults: list[Fault] = []
    for spec in marker.args:
        if isinstance(spec, Fault):
            faults.append(spec)
            continue
        if not isinstance(spec, str):
            _refuse(FAULTS_MARKER, f"{spec!r} is not a fault spec (a string such as 'throttle')")
        try:
            faults.append(parse_fault(spec, contracts))
        except ValueError as exc:
            _refuse(FAULTS_MARKER, str(exc))
    return tuple(faults)


def replay_folder(node: pytest.Item) -> Path | None:
    """The folder the ``facedetect_replay`` marker names, relative to the test file's folder;
    ``None`` when no marker or no path (the packaged documented fixtures)."""
    marker = node.get_closest_marker(REPLAY_MARKER)
    if marker is None or not marker.args:
        if marker is not None and marker.kwargs:
            _refuse(REPLAY_MARKER, f"takes one folder, not keywords {sorted(marker.kwargs)}")
        return None
    if len(marker.args) != 1 or marker.kwargs or not isinstance(marker.args[0], str | Path):
        _refuse(REPLAY_MARKER, f"takes one folder (a path), not {marker.args} {marker.kwargs}")
    folder = Path(node.path).parent / Path(marker.args[0]).expanduser()
    if not folder.is_dir():
        _refuse(
            REPLAY_MARKER,
            f"{marker.args[0]!r}: no folder {folder} (relative paths are read from the test "
            "file's folder); give the --record-dir of a recording run",
        )
    return folder


def unapplied_markers(item: pytest.Item) -> list[str]:
    """Why the plugin's markers on ``item`` would go unheard: each marker none of whose
    fixtures the test takes, and the fixtures that cannot be used together."""
    fixtures = set(getattr(item, "fixturenames", ()))
    problems = []
    for marker, applies in APPLIES_TO.items():
        if item.get_closest_marker(marker) is not None and not fixtures & set(applies):
            problems.append(
                f"@pytest.mark.{marker} applies to {', '.join(applies)}, and the test takes "
                "none of them: take one, or drop the marker"
            )
    if {"facedetect_replay", "facedetect_mock"} <= fixtures:
        problems.append(
            "facedetect_replay and facedetect_mock both answer the endpoint's path: take one"
        )
    return problems


def every_reading_params(
    node: pytest.Item, contracts: Contracts, *, pairwise: bool
) -> list[tuple[str, dict[str, str]]]:
    """``(id, readings)`` per run of a ``facedetect_every_reading`` test: every reading of every
    question once (``failure-details=empty``), or every combination of the pairwise cover
    (``combination_id``). Questions the test pins (``facedetect_readings``, or the
    ``facedetect_fake`` marker's ``readings`` and ``failure_shape``) are not varied."""
    from ..contracts.questions import (  # noqa: PLC0415
        combination_id,
        pairwise_cover,
        reading_id,
        reading_pairs,
    )

    try:
        pinned = set(marker_readings(node, contracts))
    except pytest.fail.Exception:
        pinned = set()  # the marker is wrong: the test fails at setup, naming it
    fake = node.get_closest_marker("facedetect_fake")
    if fake is not None:
        given = fake.kwargs.get("readings")
        pinned |= set(given) if isinstance(given, Mapping) else set()
        shape = fake.kwargs.get("failure_shape")
        pinned |= {
            kind.question
            for kind in contracts.profile.answers
            if shape is not None and kind.shape == shape and kind.question is not None
        }
    free = {q: question for q, question in contracts.questions.items() if q not in pinned}
    if pairwise:
        return [(combination_id(c, free), c) for c in pairwise_cover(free)]
    return [(reading_id(q, r), {q: r}) for q, r in reading_pairs(free)]
