"""What a live run saw the endpoint do on each open question (``questions.json``, by id).

The contracts accept every documented reading where the docs disagree or are silent; live traffic
is what can settle them. One registered observer per question reads the run's verdicts and says
what it saw, which reading that supports (``reading``: a reading id, ``mixed`` when answers
disagree, ``None`` when nothing observed it) and which requests are its evidence. A question
that means the same for two models (failure-status and failure-shape, crop-ratio and
box-conventions, the file-size limits) shares one observer, which reads each model's fields
through its profile. Nothing here judges: a finding is the checks' business; the history turns
readings seen night after night into a settled question.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ..contracts.loader import Contracts
from ..contracts.outcome import Outcome, classify
from ..core import geometry
from ..core.interaction import Interaction
from ..core.violations import ABSENT
from .judging import Verdict

__all__ = ["MIXED", "OBSERVERS", "Observation", "observe", "observer"]

MIXED = "mixed"


@dataclass(frozen=True)
class Observation:
    """One open question, what was observed, the reading it supports, and the evidence."""

    question: str  # the id in questions.json
    topic: str
    answer: str
    reading: str | None = None
    evidence: tuple[str, ...] = ()

    @property
    def observed(self) -> bool:
        """Whether an answer of the run spoke to the question: a reading, or evidence. Never for
        "no observer" nor an observer that failed ("could not be observed")."""
        return self.reading is not None or bool(self.evidence)

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "topic": self.topic,
            "answer": self.answer,
            "reading": self.reading,
            "evidence": list(self.evidence),
        }


@dataclass(frozen=True)
class _Seen:
    """One answered request, as the observers see it."""

    verdict: Verdict
    interaction: Interaction
    outcome: Outcome


Observer = Callable[
    [Sequence[_Seen], Sequence[Verdict], Contracts], tuple[str, str | None, list[str]]
]
OBSERVERS: dict[str, Observer] = {}


def observer(question: str) -> Callable[[Observer], Observer]:
    """Register the observer of one open question."""

    def register(function: Observer) -> Observer:
        if question in OBSERVERS:
            raise ValueError(f"question {question!r} has two observers")
        OBSERVERS[question] = function
        return function

    return register


def _tally(items: Iterable[str]) -> str:
    counts = Counter(items)
    return "; ".join(f"{item} ({n}x)" if n > 1 else item for item, n in sorted(counts.items()))


def _one(readings: Sequence[str]) -> str | None:
    """The reading all answers support, ``mixed`` when they disagree, ``None`` without any."""
    distinct = set(readings)
    if not distinct:
        return None
    return distinct.pop() if len(distinct) == 1 else MIXED


def _answer(seen: _Seen) -> str:
    code = seen.outcome.code
    return f"HTTP {seen.interaction.response.status}" + (f" {code}" if code else "")


def _cases(seen: Sequence[_Seen]) -> list[_Seen]:
    return [s for s in seen if s.verdict.planned.case is not None]


@observer("failure-shape")
def _failure_shape(
    seen: Sequence[_Seen], verdicts: Sequence[Verdict], contracts: Contracts
) -> tuple[str, str | None, list[str]]:
    failed = [s for s in _cases(seen) if s.outcome.kind == "failed"]
    if not failed:
        return "not observed: no case failed the portrait check", None, []
    shapes = [s.outcome.shape or "?" for s in failed]
    texts = [f"shape {s.outcome.shape} ({_answer(s)})" for s in failed]
    return _tally(texts), _one(shapes), [s.interaction.name for s in failed]


# wan2.2-s2v-detect's failure-status asks what face-detect's failure-shape asks (200 with the
# verdict false, or 400 with a portrait code) with the same readings: the profile's answer kinds
# carry the shape, so one observer answers both.
observer("failure-status")(_failure_shape)


@observer("failure-details")
def _failure_details(
    seen: Sequence[_Seen], verdicts: Sequence[Verdict], contracts: Contracts
) -> tuple[str, str | None, list[str]]:
    fields = contracts.profile.response
    with_verdict = [
        s
        for s in _cases(seen)
        if s.outcome.kind == "failed"
        and s.outcome.answer is not None
        and s.outcome.answer.verdict is not None
    ]
    if not with_verdict:
        return "not observed: no failure carried by the verdict came back", None, []
    parts, readings = [], []
    for s in with_verdict:
        body = s.interaction.response.body
        states = []
        for at in (fields.reason_code, fields.reason_message):
            value = at.get(body)
            states.append("absent" if value is ABSENT else ("filled" if value else "empty"))
        for at in fields.boxes:
            value = at.get(body)
            box = "absent" if value is ABSENT else ("null" if value is None else "present")
            states.append(f"{at.name} {box}")
        parts.append(
            f"{fields.reason_code.name} {states[0]}, {fields.reason_message.name} {states[1]}, "
            + ", ".join(states[2:])
        )
        readings.append(states[0] if states[0] == states[1] else MIXED)
    return _tally(parts), _one(readings), [s.interaction.name for s in with_verdict]


def _with_output(seen: Sequence[_Seen], contracts: Contracts) -> list[_Seen]:
    """The HTTP 200 answers that carry the check's output object (shape A, never an error
    body): the only ones that can say whether the model's humanoid field comes back."""
    output = contracts.profile.output
    if output is None:
        return []
    return [
        s
        for s in seen
        if s.outcome.status == 200 and isinstance(output.get(s.interaction.response.body), dict)
    ]


@observer("humanoid-returned")
def _humanoid(
    seen: Sequence[_Seen], verdicts: Sequence[Verdict], contracts: Contracts
) -> tuple[str, str | None, list[str]]:
    at = contracts.profile.response.humanoid_or_none
    if at is None:
        return "not observed: the profile names no such field", None, []
    with_output = _with_output(seen, contracts)
    if not with_output:
        return "not observed: no HTTP 200 answer with an output", None, []
    readings, texts = [], []
    for s in with_output:
        value = at.get(s.interaction.response.body)
        readings.append("not-returned" if value is ABSENT else "returned")
        texts.append("not returned" if value is ABSENT else f"returned ({value!r})")
    return _tally(texts), _one(readings), [s.interaction.name for s in with_output]


@observer("humanoid-on-failure")
def _humanoid_on_failure(
    seen: Sequence[_Seen], verdicts: Sequence[Verdict], contracts: Contracts
) -> tuple[str, str | None, list[str]]:
    # Every failed check with an output object speaks (a case's or a probe's: it is the
    # endpoint's answer either way); a failure as an error body (shape B) cannot carry the field.
    at = contracts.profile.response.humanoid_or_none
    if at is None:
        return "not observed: the profile names no such field", None, []
    failed = [s for s in _with_output(seen, contracts) if s.outcome.kind == "failed"]
    if not failed:
        return (
            "not observed: no failed check came back as HTTP 200 with an output",
            None,
            [],
        )
    readings, texts = [], []
    for s in failed:
        value = at.get(s.interaction.response.body)
        readings.append("pass-only" if value is ABSENT else "both")
        texts.append(
            f"failed check without {at.name}"
            if value is ABSENT
            else f"failed check with {at.name} ({value!r})"
        )
    return _tally(texts), _one(readings), [s.interaction.name for s in failed]


def _state(value: Any) -> str:
    """A reason field's state on one answer: absent, empty, filled, or another JSON type."""
    if value is ABSENT:
        return "absent"
    if isinstance(value, str):
        return "filled" if value else "empty"
    return "null" if value is None else type(value).__name__


_NEITHER = "neither"  # an answer no reading of the question describes
_REASON_FIELDS = ("reason_code", "reason_message")  # ResponseFields attributes, in that order


def _reason_on_pass(*, absent: str, empty: str) -> Observer:
    """The observer of "what do a pass's reason fields look like": every reason field the
    model's profile names (liveportrait-detect: its message; emoji-detect-v1: its code and
    message) ``absent`` on every pass, or ``empty`` (``''``) on every pass, each question with its
    own reading ids. A filled reason, or fields in two states on one pass, is neither reading."""

    def look(
        seen: Sequence[_Seen], verdicts: Sequence[Verdict], contracts: Contracts
    ) -> tuple[str, str | None, list[str]]:
        fields = contracts.profile.response
        reasons = [getattr(fields, n) for n in _REASON_FIELDS if fields.states(n)]
        if not reasons:
            return "not observed: the profile names no reason field", None, []
        passed = [s for s in seen if s.outcome.kind == "passed"]
        if not passed:
            return "not observed: no answer passed the check", None, []
        labels, texts = [], []
        for s in passed:
            states = [_state(at.get(s.interaction.response.body)) for at in reasons]
            texts.append(
                "pass with "
                + ", ".join(f"{at.name} {st}" for at, st in zip(reasons, states, strict=True))
            )
            same = states[0] if len(set(states)) == 1 else None
            labels.append({"absent": absent, "empty": empty}.get(same or "", _NEITHER))
        reading = _one(labels)
        return (
            _tally(texts),
            None if reading == _NEITHER else reading,
            [s.interaction.name for s in passed],
        )

    return look


observer("message-on-pass")(_reason_on_pass(absent="absent", empty="empty"))
observer("verdict-less-pass")(_reason_on_pass(absent="boxes-only", empty="empty-code"))


def _left_out(seen: _Seen, contracts: Contracts) -> str | None:
    """Which of the ratio or its parent a keyed, otherwise valid request left out, if it did."""
    mutation = seen.verdict.planned.mutation
    ratio = contracts.profile.request.ratio
    if seen.verdict.planned.request.auth != "key" or mutation is None:
        return None
    if mutation.family == "missing" and mutation.where in (str(ratio), str(ratio.parent)):
        return mutation.where
    return None


@observer("ratio-default")
def _ratio_default(
    seen: Sequence[_Seen], verdicts: Sequence[Verdict], contracts: Contracts
) -> tuple[str, str | None, list[str]]:
    parts, readings, evidence = [], [], []
    for s in seen:
        if s.verdict.name == "probe-invalid-ratio":
            parts.append(f"invalid ratio: {_answer(s)}")
            evidence.append(s.interaction.name)
        where = _left_out(s, contracts)
        if where is not None:
            ran = s.outcome.is_check_result
            parts.append(f"{where} left out: {_answer(s)}")
            readings.append("optional" if ran else "required")
            evidence.append(s.interaction.name)
    if not parts:
        return "not observed", None, []
    return _tally(parts), _one(readings), evidence


@observer("failure-billing")
def _failure_billing(
    seen: Sequence[_Seen], verdicts: Sequence[Verdict], contracts: Contracts
) -> tuple[str, str | None, list[str]]:
    failed = [s for s in _cases(seen) if s.outcome.kind == "failed"]
    if not failed:
        return "not observed: no case failed the portrait check", None, []
    readings = ["billed" if s.outcome.billed_images else "not-billed" for s in failed]
    texts = [f"{r.replace('-', ' ')} ({_answer(s)})" for r, s in zip(readings, failed, strict=True)]
    return _tally(texts), _one(readings), [s.interaction.name for s in failed]


@observer("box-conventions")
def _box_conventions(
    seen: Sequence[_Seen], verdicts: Sequence[Verdict], contracts: Contracts
) -> tuple[str, str | None, list[str]]:
    profile = contracts.profile
    if profile.ratio is None:
        return "not observed: the request has no ratio", None, []
    passed = [s for s in _cases(seen) if s.outcome.kind == "passed"]
    if not passed:
        return "not observed: no case passed the portrait check", None, []
    parts, offs, evidence = [], [], []
    for s in passed:
        crop, face = s.outcome.crop_box, s.outcome.face_box
        asked = profile.ratio.field.get(s.interaction.request.body)
        ratio_text = asked if isinstance(asked, str) else profile.ratio.default
        if crop is None or ratio_text is None:  # no crop box, or no ratio to measure it by
            parts.append("no crop box" if crop is None else "no ratio sent and none by default")
            continue
        try:
            off = geometry.ratio_error_px(crop, geometry.parse_ratio(ratio_text))
        except ValueError:  # a ratio the request sent that is no ratio: nothing to measure
            parts.append(f"crop at an unreadable ratio {ratio_text!r}")
            continue
        offs.append(off)
        evidence.append(s.interaction.name)
        width, height = crop[2] - crop[0], crop[3] - crop[1]
        notes = [
            f"crop {width}x{height} at {ratio_text}: "
            + ("exact" if off == 0 else f"{off:g} px off")
        ]
        edges = [name for name, value in (("left", crop[0]), ("top", crop[1])) if value == 0]
        case = s.verdict.planned.case
        size = case.image_size if case is not None else None
        if size is not None:
            for name, value, limit in (("right", crop[2], size[0]), ("bottom", crop[3], size[1])):
                if value == limit:
                    edges.append(f"{name} (x2/y2 = size: exclusive)")
                elif value == limit - 1:
                    edges.append(f"{name} (x2/y2 = size - 1: inclusive)")
                elif value > limit:
                    edges.append(f"{name} beyond the image (not clipped)")
        notes.append("touches the " + ", ".join(edges) + " edge" if edges else "inside the image")
        if face is not None:
            notes.append(
                "face inside crop" if geometry.contains(crop, face) else "face outside crop"
            )
        parts.append("; ".join(notes))
    if not evidence:
        return "not observed: " + "; ".join(parts), None, []
    return " | ".join(parts), _ratio_reading(offs), evidence


def _ratio_reading(offs: Sequence[float]) -> str | None:
    """What the crops' distances from the asked ratio support: every crop exact is
    ``exact-ratio``; every crop within a pixel and one of them off is ``within-one-pixel`` (an
    exact crop is within a pixel too, so exact and 1 px off do not disagree); a crop further off
    fits neither reading: ``mixed``."""
    if not offs:
        return None
    if any(off > 1 for off in offs):
        return MIXED
    return "exact-ratio" if all(off == 0 for off in offs) else "within-one-pixel"


# emoji-detect-v1's crop-ratio is box-conventions' ratio part, with the same reading ids.
observer("crop-ratio")(_box_conventions)


def _file_size(question_id: str) -> Observer:
    """The observer of "what is the largest image file": no live case states its file size (the
    cases file gives the pixel size only), and an image near the limit is a large image, billed,
    so the byte limit is not probed; the answer says what would settle it (the question's
    ``settled_by``). Where the profile states no minimum side (liveportrait-detect), the sides of
    the cases that give their image size are that part's evidence."""

    def look(
        seen: Sequence[_Seen], verdicts: Sequence[Verdict], contracts: Contracts
    ) -> tuple[str, str | None, list[str]]:
        question = contracts.questions.get(question_id)
        need = "a case of a known file size" if question is None else question.settled_by
        need = need.rstrip(". ")
        limit = contracts.profile.max_image_bytes
        encoded = "no limit" if limit is None else f"at most {limit} bytes"
        parts = [
            f"file-size limit: not probed (the contracts assume {encoded}; settling it needs "
            f"{need[:1].lower()}{need[1:]}: no live case states its file size, and such an "
            f"image is billed)"
        ]
        evidence: list[str] = []
        if not contracts.profile.states("min_side_px"):
            sized = [
                (s, size)
                for s in _cases(seen)
                if s.verdict.planned.case is not None
                and (size := s.verdict.planned.case.image_size) is not None
            ]
            checked = [(min(size), s) for s, size in sized if s.outcome.is_check_result]
            if checked:
                side, smallest = min(checked, key=lambda pair: pair[0])
                parts.append(
                    f"minimum side: the check ran on sides down to {side} px "
                    f"({smallest.interaction.name})"
                )
            parts += [
                f"minimum side: a {size[0]}x{size[1]} image got {_answer(s)}"
                for s, size in sized
                if not s.outcome.is_check_result
            ]
            if not sized:
                parts.append("minimum side: not observed: no answered case gives its image_size")
            evidence = [s.interaction.name for s, _size in sized]
        return "; ".join(parts), None, evidence

    return look


observer("image-limits")(_file_size("image-limits"))
observer("image-size")(_file_size("image-size"))


@observer("image-url")
def _image_url(
    seen: Sequence[_Seen], verdicts: Sequence[Verdict], contracts: Contracts
) -> tuple[str, str | None, list[str]]:
    at = contracts.profile.request.image_url
    parts, readings, evidence = [], [], []
    for s in seen:
        url = at.get(s.interaction.request.body)
        if not isinstance(url, str):
            continue
        scheme = url.split("://", 1)[0].lower() if "://" in url else ""
        if s.verdict.planned.case is not None and scheme == "https":
            ran = s.outcome.is_check_result
            parts.append(
                "https URL: " + ("accepted (the check ran)" if ran else f"rejected? {_answer(s)}")
            )
            if ran:
                readings.append("http-or-https")
            evidence.append(s.interaction.name)
    parts.append("file-size limit: not probed (it would need a large image, billed)")
    return _tally(parts), _one(readings), evidence


@observer("oss-url")
def _oss_url(
    seen: Sequence[_Seen], verdicts: Sequence[Verdict], contracts: Contracts
) -> tuple[str, str | None, list[str]]:
    # Only a case sends an oss:// URL (a team's own, from the temporary storage): the check
    # running on it is "resolved", a refusal of its URL "refused"; anything else says nothing.
    at = contracts.profile.request.image_url
    parts, readings, evidence = [], [], []
    for s in _cases(seen):
        url = at.get(s.interaction.request.body)
        if not (isinstance(url, str) and url.lower().startswith("oss://")):
            continue
        parts.append(f"oss:// URL: {_answer(s)}")
        evidence.append(s.interaction.name)
        if s.outcome.is_check_result:
            readings.append("resolved")
        elif s.outcome.code == contracts.profile.rejection("url-invalid").code:
            readings.append("refused")
    return _tally(parts), _one(readings), evidence


@observer("throttle-code")
def _throttle_code(
    seen: Sequence[_Seen], verdicts: Sequence[Verdict], contracts: Contracts
) -> tuple[str, str | None, list[str]]:
    # Every attempt counts: a 429 that a retry got past is the answer to this question.
    status = contracts.profile.throttle_status
    throttled = [a for v in verdicts for a in v.attempts if a.response.status == status]
    if not throttled:
        return "not observed: no request was throttled", None, []
    codes, texts = [], []
    for attempt in throttled:
        code = classify(attempt.response, contracts).code or "(no code)"
        codes.append(code)
        hint = attempt.response.headers.get("retry-after")
        texts.append(
            f"HTTP {status} {code}, " + (f"Retry-After {hint}" if hint else "no Retry-After")
        )
    return _tally(texts), _one(codes), [a.name for a in throttled]


def _by_family(seen: Sequence[_Seen], family: str) -> list[_Seen]:
    return [
        s
        for s in seen
        if s.verdict.planned.request.auth == "key"
        and s.verdict.planned.mutation is not None
        and s.verdict.planned.mutation.family == family
    ]


@observer("unknown-fields")
def _unknown_fields(
    seen: Sequence[_Seen], verdicts: Sequence[Verdict], contracts: Contracts
) -> tuple[str, str | None, list[str]]:
    sent = _by_family(seen, "unknown-field")
    if not sent:
        return "not observed: no keyed request with an unknown field was answered", None, []
    readings = ["ignored" if s.outcome.is_check_result else "rejected" for s in sent]
    texts = [f"{s.verdict.planned.description}: {_answer(s)}" for s in sent]
    return _tally(texts), _one(readings), [s.interaction.name for s in sent]


@observer("async-header")
def _async_header(
    seen: Sequence[_Seen], verdicts: Sequence[Verdict], contracts: Contracts
) -> tuple[str, str | None, list[str]]:
    sent = [s for s in seen if s.verdict.name == "probe-async-header"]
    sent += _by_family(seen, "forbidden-header")
    if not sent:
        return "not observed: the async header was not sent", None, []
    readings = ["ignored" if s.outcome.is_check_result else "rejected" for s in sent]
    texts = [f"{s.verdict.planned.description}: {_answer(s)}" for s in sent]
    return _tally(texts), _one(readings), [s.interaction.name for s in sent]


@observer("request-id-header")
def _request_id_header(
    seen: Sequence[_Seen], verdicts: Sequence[Verdict], contracts: Contracts
) -> tuple[str, str | None, list[str]]:
    header = contracts.profile.request_id_header
    answered = [s for s in seen if s.interaction.response.body_is_json]
    if not answered:
        return "not observed: no JSON answer", None, []
    readings = [
        "present" if header in s.interaction.response.headers else "absent" for s in answered
    ]
    texts = [f"{header} {r}" for r in readings]
    return _tally(texts), _one(readings), [s.interaction.name for s in answered]


def observe(verdicts: Iterable[Verdict], contracts: Contracts) -> list[Observation]:
    """The answers a run's verdicts give to every open question, in the questions' order."""
    verdicts = list(verdicts)
    seen = [
        _Seen(v, v.interaction, v.outcome or classify(v.interaction.response, contracts))
        for v in verdicts
        if v.status == "judged" and v.interaction is not None
    ]
    observations = []
    for question in contracts.questions.values():
        function = OBSERVERS.get(question.id)
        if function is None:
            observations.append(Observation(question.id, question.question, "no observer"))
            continue
        try:
            answer, reading, evidence = function(seen, verdicts, contracts)
        except Exception as error:  # an answer no observer foresaw: said, never a crash
            answer, reading, evidence = f"could not be observed ({type(error).__name__})", None, []
        if question.settled is not None:
            answer = f"settled ({question.settled}); tonight: {answer}"
        observations.append(
            Observation(question.id, question.question, answer, reading, tuple(evidence))
        )
    return observations
