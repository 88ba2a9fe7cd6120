"""The documented request and answer, read from the contracts: the documented fixture
(``fixtures/face-detect/documented-pass-1-1.json``, the docs' example request and its passing
answer) and the profile's example image (``endpoint.json`` ``example_images``: its URL, size and
boxes). A test that starts from the documented pass takes it from here instead of spelling out
its boxes again, so a correction to the documented answer reaches every test at once."""

from __future__ import annotations

import copy
from typing import Any

from facedetect_contract.contracts.fixtures import FIXTURE_DIR, load_fixture
from facedetect_contract.contracts.loader import load_contracts

__all__ = [
    "DOCUMENTED_CROP",
    "DOCUMENTED_FACE",
    "DOCUMENTED_IMAGE",
    "DOCUMENTED_IMAGE_SIZE",
    "documented_pass_body",
]

_CONTRACTS = load_contracts()
_DOCUMENTED_PASS = load_fixture(FIXTURE_DIR / "documented-pass-1-1.json", _CONTRACTS)
_EXAMPLE = _CONTRACTS.profile.example_images[0]  # the docs' example image, as the profile has it

DOCUMENTED_IMAGE = _EXAMPLE.url
DOCUMENTED_IMAGE_SIZE = (
    _EXAMPLE.width,
    _EXAMPLE.height,
)  # the project's assumption (endpoint.json)
DOCUMENTED_FACE = _EXAMPLE.face_box  # the documented face box (x1, y1, x2, y2)
DOCUMENTED_CROP = _EXAMPLE.crop_boxes["1:1"]  # the documented ext box at ratio 1:1


def documented_pass_body(**top: Any) -> dict[str, Any]:
    """A fresh copy of the documented passing answer's body (``output`` with ``check_pass``
    true and both boxes, ``usage``, ``request_id``), its top-level fields replaced by ``top``."""
    body = copy.deepcopy(_DOCUMENTED_PASS.response.body)
    assert isinstance(body, dict), "documented-pass-1-1.json: the response body is no object"
    return {**body, **top}
