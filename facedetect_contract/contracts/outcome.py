"""The one answer to "what did the endpoint say?": passed, failed (shape A or B), a request error,
or unexplained.

Every part of the suite that needs the verdict asks ``classify``: the checks (which contract a
body is judged by), the client (which typed result to return or raise), behaviour drift, live
judging and the observations. The kinds of answer, and the fields that carry the verdict and the
boxes, come from the endpoint profile, so a settled open question (say, only shape B) changes what
is explained here without a code edit. So does the answer's shape of another model on the path: a
kind is told apart by the model's verdict field where it has one, else by the fields it has
(``present``/``absent``: emoji-detect-v1's pass by its boxes, its failure by ``output.code``); a
pass carries the boxes the model has (none for liveportrait-detect); a failure's or an error's code
and message are read where its kind says.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Literal

from ..core import geometry
from ..core.inert import printable
from ..core.interaction import RecordedResponse
from ..core.pointers import Pointer
from ..core.violations import ABSENT
from .loader import Contracts
from .profile import AnswerKind

__all__ = ["Outcome", "OutcomeKind", "classify", "nearest_answer"]

OutcomeKind = Literal["passed", "failed", "request_error", "unexplained"]
_COUNTS = {1: "one", 2: "two", 3: "three"}


@dataclass(frozen=True)
class Outcome:
    """What one response says, read through the endpoint profile."""

    kind: OutcomeKind
    answer: AnswerKind | None  # the documented kind of answer it is (or is closest to)
    status: int
    shape: str | None = None  # failed: the failure shape
    code: str | None = None  # failed: the reason; request_error: the error code
    message: str | None = None
    request_id: str | None = None
    face_box: geometry.Box | None = None
    crop_box: geometry.Box | None = None
    humanoid: bool | None = None
    billed_images: int = 0  # what the body says was billed (0 without usage)
    reason: str = ""  # unexplained: why no documented reading explains it

    @property
    def passed(self) -> bool | None:
        """``True``/``False``: the portrait check passed/failed (any shape); ``None``: neither."""
        return {"passed": True, "failed": False}.get(self.kind)

    @property
    def is_check_result(self) -> bool:
        return self.kind in ("passed", "failed")

    def box(self, role: str) -> geometry.Box | None:
        """The box read for a role of the profile's boxes (``face_box``, ``crop_box``)."""
        return {"face_box": self.face_box, "crop_box": self.crop_box}.get(role)

    def describe(self) -> str:
        """A short sentence for messages and reports."""
        if self.kind == "passed":
            return "the portrait check passed"
        # The code and the reason quote the endpoint: printable, so no control character of its
        # choosing reaches a terminal, a log or a JUnit file.
        if self.kind == "failed":
            code = f", code '{printable(self.code)}'" if self.code else ""
            return f"the portrait check failed (shape {self.shape}{code})"
        if self.kind == "request_error":
            return f"a request failure: HTTP {self.status} {printable(self.code or '(no code)')}"
        return f"a response no documented reading explains ({printable(self.reason)})"


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _billed(body: Any, contracts: Contracts) -> int:
    """Images the body says were billed: its count, and 1 for a usage that is malformed."""
    fields = contracts.profile.response
    usage = fields.usage.get(body)
    if usage is ABSENT:
        return 0
    count = fields.billed_images.get(body)
    if type(count) is int and count > 0:
        return count
    return 1  # a usage object that does not say how many still means billed


def _matches(kind: AnswerKind, status: int, body: Any, contracts: Contracts) -> bool:
    if not kind.has_status(status):
        return False
    verdict = contracts.profile.verdict
    if kind.verdict is not None and (verdict is None or verdict.get(body) is not kind.verdict):
        return False
    if not all(at.present(body) for at in kind.present):
        return False
    if any(at.present(body) for at in kind.absent):
        return False
    if kind.error_kind is not None:
        code = (kind.code or contracts.profile.response.error_code).get(body)
        if not isinstance(code, str):  # errors_for(code=None) would be every row of the table
            return False
        if not any(e.kind == kind.error_kind for e in contracts.errors_for(code=code)):
            return False
    return True


def nearest_answer(response: RecordedResponse, contracts: Contracts) -> AnswerKind | None:
    """The documented kind of answer a response is, or the one it comes closest to.

    A response whose verdict is missing or mistyped is judged as a pass when it carries a box, as
    a failure when it carries an output without one (a model without boxes: as a pass only when
    its verdict says true), so a renamed verdict field is reported precisely by the contract of
    the kind it almost is.
    """
    body = response.body if response.body_is_json else None
    for kind in contracts.profile.answers:
        if _matches(kind, response.status, body, contracts):
            return kind
    with_status = [k for k in contracts.profile.answers if k.has_status(response.status)]
    if not with_status:
        return None
    profile = contracts.profile
    has_output = profile.output is not None and profile.output.present(body)
    if profile.boxes:
        has_box = any(at.present(body) for at in profile.boxes.values())
        wanted = "failed" if has_output and not has_box else "passed"
    else:  # no boxes to tell by: only a verdict that says true is a pass
        said = None if profile.verdict is None else profile.verdict.get(body)
        wanted = "passed" if said is True or not has_output else "failed"
    return next((k for k in with_status if k.outcome == wanted), with_status[0])


def _box(body: Any, pointer: Any, limit: int) -> geometry.Box | None:
    """The box at ``pointer`` when it is one: ordered integers no larger than ``limit``."""
    value = pointer.get(body)
    if geometry.is_box(value) and max(value) <= limit:
        return (value[0], value[1], value[2], value[3])
    return None


def classify(response: RecordedResponse, contracts: Contracts) -> Outcome:
    """The outcome of one response (see the module docstring)."""
    status = response.status
    body = response.body if response.body_is_json else None
    fields = contracts.profile.response
    kind = next(
        (k for k in contracts.profile.answers if _matches(k, status, body, contracts)), None
    )
    base = Outcome(
        "unexplained",
        kind,
        status,
        request_id=_text(fields.request_id.get(body)),
        billed_images=_billed(body, contracts),
    )
    humanoid_at = fields.humanoid_or_none
    humanoid = ABSENT if humanoid_at is None else humanoid_at.get(body)
    said = humanoid if isinstance(humanoid, bool) else None
    if kind is None:
        return replace(
            base, answer=nearest_answer(response, contracts), reason=_why(response, contracts)
        )
    if kind.outcome == "passed":
        limit, boxes = contracts.profile.max_side_px, contracts.profile.boxes
        found = {role: _box(body, at, limit) for role, at in boxes.items()}
        if any(box is None for box in found.values()):
            said_pass = (
                f"{contracts.profile.verdict.name} {kind.verdict}"
                if contracts.profile.verdict is not None and kind.verdict is not None
                else "a pass"
            )
            count = _COUNTS.get(len(boxes), str(len(boxes)))
            reason = f"{said_pass} without {count} well-formed boxes"
            return replace(base, reason=reason)
        return replace(
            base,
            kind="passed",
            face_box=found.get("face_box"),
            crop_box=found.get("crop_box"),
            humanoid=said,
        )
    code, message = _read(kind.code, body), _read(kind.message, body)
    if kind.outcome == "failed":
        return replace(
            base, kind="failed", shape=kind.shape, code=code, message=message, humanoid=said
        )
    return replace(base, kind="request_error", code=code, message=message)


def _read(pointer: Pointer | None, body: Any) -> str | None:
    """The text at ``pointer`` (a kind's code or message), or ``None``."""
    return None if pointer is None else _text(pointer.get(body))


def _why(response: RecordedResponse, contracts: Contracts) -> str:
    """Why no documented kind of answer explains a response."""
    if not response.body_is_json:
        return "the body is not JSON"
    if not any(k.has_status(response.status) for k in contracts.profile.answers):
        return f"undocumented status {response.status}"
    profile = contracts.profile
    output = profile.output
    if output is not None and not isinstance(output.get(response.body), dict):
        return f"a {response.status} response without an {output.name!r} object"
    if profile.verdict is None:  # told apart by the fields each kind has
        wanted = {
            k.name: [str(at) for at in k.present]
            for k in profile.answers
            if k.has_status(response.status)
        }
        return f"HTTP {response.status} with none of the fields that tell its kinds apart {wanted}"
    verdict = profile.verdict.get(response.body)
    if isinstance(verdict, bool):
        shapes = [k.shape for k in profile.answers if k.verdict is verdict]
        if not shapes:
            return (
                f"{profile.verdict.name} {str(verdict).lower()} with HTTP {response.status}, "
                f"a reading the contracts no longer admit"
            )
    return f"{profile.verdict.parent.name}.{profile.verdict.name} is not a boolean"
