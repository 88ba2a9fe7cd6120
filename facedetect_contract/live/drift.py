"""Behaviour drift: which recording a live answer is compared with.

A response can keep every contract while the behaviour behind it moves (a retrained detector, a
new crop rule), and then the recordings that offline replay serves no longer tell the truth.
Where a live case has a recorded fixture of the same request (``offline.replay_key``), the check
``behaviour_matches_recording`` compares the verdict and the boxes with it; this module finds that
fixture.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..contracts.loader import Contracts
from ..contracts.outcome import classify
from ..core.interaction import Interaction
from ..doubles.offline import replay_key

__all__ = ["recording_for"]


def recording_for(
    interaction: Interaction, fixtures: Iterable[Interaction], contracts: Contracts
) -> Interaction | None:
    """The fixture that answered the same request with a check result: the newest recording
    first, else a documented example."""
    wanted = replay_key(interaction.request, contracts)
    candidates = [
        fixture
        for fixture in fixtures
        if replay_key(fixture.request, contracts) == wanted
        and classify(fixture.response, contracts).passed is not None
    ]
    if not candidates:
        return None
    return max(
        candidates,
        key=lambda f: (f.provenance.get("kind") == "recorded", f.provenance.get("date", "")),
    )
