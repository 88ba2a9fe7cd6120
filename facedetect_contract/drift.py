"""Behaviour drift: the same request answered differently from its recording or its case.

A response can keep every contract while the behaviour behind it moves (a retrained detector, a
new crop rule), and then the recordings that offline replay serves no longer tell the truth.
Where a live case has a recorded fixture (the same request), or the cases file gives expected boxes,
``check_pass`` and the boxes are compared: a flipped check, or a box whose IoU with the expected
one is below ``IOU_THRESHOLD``, is an additive finding (no client breaks; the fixtures are stale).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from . import geometry
from .cases import LiveCase
from .checks import BOXES
from .contracts import Contracts, load_contracts
from .interaction import Interaction
from .offline import replay_key
from .violations import Severity, Violation, render_value

__all__ = ["CHECK", "IOU_THRESHOLD", "behaviour_drift", "check_outcome", "recording_for"]

CHECK = "behaviour_matches_recording"
IOU_THRESHOLD = 0.9


def check_outcome(interaction: Interaction, contracts: Contracts | None = None) -> bool | None:
    """``True``/``False``: the portrait check passed/failed (either shape); ``None``: neither."""
    body: Any = interaction.response.body
    if not isinstance(body, dict):
        return None
    status = interaction.response.status
    if status == 200 and isinstance(body.get("output"), dict):
        check_pass = body["output"].get("check_pass")
        return check_pass if isinstance(check_pass, bool) else None
    contracts = contracts or load_contracts()
    if status == 400 and body.get("code") in contracts.portrait_codes:
        return False
    return None


def recording_for(
    interaction: Interaction, fixtures: Iterable[Interaction], contracts: Contracts | None = None
) -> Interaction | None:
    """The fixture that answered the same request (``offline.replay_key``) with a check result:
    the newest recording first, else a documented example."""
    wanted = replay_key(interaction.request)
    candidates = [
        fixture
        for fixture in fixtures
        if replay_key(fixture.request) == wanted and check_outcome(fixture, contracts) is not None
    ]
    if not candidates:
        return None
    return max(
        candidates,
        key=lambda f: (f.provenance.get("kind") == "recorded", f.provenance.get("date", "")),
    )


def _box(interaction: Interaction, name: str) -> Sequence[int] | None:
    body: Any = interaction.response.body
    output = body.get("output") if isinstance(body, dict) else None
    box = output.get(name) if isinstance(output, dict) else None
    return box if geometry.is_box(box) else None


def _compare_boxes(
    interaction: Interaction,
    expected: Mapping[str, Sequence[int] | None],
    where: str,
    source: str,
) -> list[Violation]:
    found = []
    for name in BOXES:
        live, wanted = _box(interaction, name), expected.get(name)
        if live is None or wanted is None:
            continue
        overlap = geometry.iou(live, wanted)
        if overlap < IOU_THRESHOLD:
            found.append(
                Violation(
                    check=CHECK,
                    interaction=interaction.name,
                    pointer=f"/output/{name}",
                    received=f"{render_value(list(live))} (IoU {overlap:.2f} with {where})",
                    documented=f"{render_value(list(wanted))} in {where}: IoU >= {IOU_THRESHOLD}",
                    severity=Severity.ADDITIVE,
                    source=source,
                    title=f"behaviour drift: {name} moved (IoU {overlap:.2f} < {IOU_THRESHOLD})",
                )
            )
    return found


def behaviour_drift(
    interaction: Interaction,
    *,
    recording: Interaction | None = None,
    case: LiveCase | None = None,
    contracts: Contracts | None = None,
) -> list[Violation]:
    """Additive findings where ``interaction`` differs from its recording or its case's boxes."""
    found: list[Violation] = []
    if recording is not None:
        where = f"fixture {recording.name!r} ({recording.provenance.get('kind', '?')} " + (
            f"{recording.provenance.get('date', '?')})"
        )
        source = f"fixtures/face-detect/{recording.name}.json"
        live, recorded = check_outcome(interaction, contracts), check_outcome(recording, contracts)
        if live is not None and recorded is not None and live != recorded:
            found.append(
                Violation(
                    check=CHECK,
                    interaction=interaction.name,
                    pointer="/output/check_pass",
                    received=f"the portrait check {'passed' if live else 'failed'}",
                    documented=f"it {'passed' if recorded else 'failed'} in {where}",
                    severity=Severity.ADDITIVE,
                    source=source,
                    title="behaviour drift: the portrait check flipped",
                )
            )
        else:
            found += _compare_boxes(
                interaction, {name: _box(recording, name) for name in BOXES}, where, source
            )
    if case is not None:
        expected = {name: case.expected_box(name) for name in BOXES}
        found += _compare_boxes(
            interaction,
            expected,
            f"live case {case.name!r}",
            f"the live cases file, entry {case.name!r}",
        )
    return found
