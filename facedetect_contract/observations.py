"""What a live run saw the endpoint do: answers to the open questions of API file section 8.

The contracts accept every documented reading where the docs disagree; live traffic is what can
settle them. Each ``Observation`` answers one question from the run's responses and names the
requests that are its evidence, or says it was not observed and what would observe it. Nothing
here judges: a finding is the checks' business; this is what to write into the docs next.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from . import geometry
from .contracts import Contracts, load_contracts
from .drift import check_outcome
from .interaction import Interaction
from .live import Verdict

__all__ = ["Observation", "observe"]


@dataclass(frozen=True)
class Observation:
    """One open question, what was observed, and the requests that show it."""

    question: str
    topic: str
    answer: str
    evidence: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "topic": self.topic,
            "answer": self.answer,
            "evidence": list(self.evidence),
        }


def _body(interaction: Interaction) -> dict[str, Any]:
    body = interaction.response.body
    return body if isinstance(body, dict) else {}


def _output(interaction: Interaction) -> dict[str, Any]:
    output = _body(interaction).get("output")
    return output if isinstance(output, dict) else {}


def _answer(interaction: Interaction) -> str:
    code = _body(interaction).get("code")
    return f"HTTP {interaction.response.status}" + (f" {code}" if isinstance(code, str) else "")


def _tally(items: Iterable[str]) -> str:
    counts = Counter(items)
    return "; ".join(f"{item} ({n}x)" if n > 1 else item for item, n in sorted(counts.items()))


def _failure_shape(failed: Sequence[Interaction]) -> Observation:
    topic = "status of a failed portrait check: 200 + check_pass false (A) or 400 InvalidFile.* (B)"
    if not failed:
        return Observation("8.1", topic, "not observed: no case failed the portrait check")
    shapes = [
        "shape A (HTTP 200, check_pass false)"
        if i.response.status == 200
        else f"shape B ({_answer(i)})"
        for i in failed
    ]
    return Observation("8.1", topic, _tally(shapes), tuple(i.name for i in failed))


def _shape_a_details(failed: Sequence[Interaction]) -> Observation:
    topic = "on a 200 failure: output.code/message filled; boxes absent, null or present"
    shape_a = [i for i in failed if i.response.status == 200]
    if not shape_a:
        return Observation("8.2", topic, "not observed: no shape A failure came back")
    parts = []
    for i in shape_a:
        output = _output(i)
        fields = []
        for name in ("code", "message"):
            value = output.get(name)
            fields.append(
                f"{name} {'absent' if name not in output else ('filled' if value else 'empty')}"
            )
        for name in ("face_bbox", "ext_bbox"):
            state = (
                "absent" if name not in output else ("null" if output[name] is None else "present")
            )
            fields.append(f"{name} {state}")
        parts.append(", ".join(fields))
    return Observation("8.2", topic, _tally(parts), tuple(i.name for i in shape_a))


def _humanoid(answered: Sequence[Interaction]) -> Observation:
    topic = "is output.humanoid returned?"
    with_output = [i for i in answered if i.response.status == 200 and _output(i)]
    if not with_output:
        return Observation("8.3", topic, "not observed: no HTTP 200 answer with output")
    states = [
        f"returned ({_output(i)['humanoid']!r})" if "humanoid" in _output(i) else "not returned"
        for i in with_output
    ]
    return Observation("8.3", topic, _tally(states), tuple(i.name for i in with_output))


def _parameters(sent: Sequence[tuple[Verdict, Interaction]]) -> Observation:
    topic = "may parameters/ratio be omitted? which code does an invalid ratio give?"
    parts, evidence = [], []
    for verdict, interaction in sent:
        body = interaction.request.body
        if verdict.name == "probe-invalid-ratio":
            parts.append(f"invalid ratio: {_answer(interaction)}")
            evidence.append(interaction.name)
        elif (
            verdict.planned.request.auth == "key"
            and isinstance(body, dict)
            and set(body) <= {"model", "input", "parameters"}
            and isinstance(body.get("input"), dict)
            and (
                "parameters" not in body
                or (isinstance(body["parameters"], dict) and "ratio" not in body["parameters"])
            )
            and "x-dashscope-async" not in interaction.request.headers
        ):
            left_out = "parameters" if "parameters" not in body else "parameters.ratio"
            parts.append(f"{left_out} left out: {_answer(interaction)}")
            evidence.append(interaction.name)
    if not parts:
        return Observation("8.4", topic, "not observed")
    return Observation("8.4", topic, _tally(parts), tuple(evidence))


def _billing(failed: Sequence[Interaction]) -> Observation:
    topic = "is a failed portrait check billed (usage present)?"
    if not failed:
        return Observation("8.5", topic, "not observed: no case failed the portrait check")
    states = [f"{'billed' if 'usage' in _body(i) else 'not billed'} ({_answer(i)})" for i in failed]
    return Observation("8.5", topic, _tally(states), tuple(i.name for i in failed))


def _boxes(passed: Sequence[tuple[Interaction, tuple[int, int] | None]]) -> Observation:
    topic = "box conventions: ratio exact or within 1 px; boxes touching or clipped at the edge"
    if not passed:
        return Observation("8.6", topic, "not observed: no case passed the portrait check")
    parts = []
    for interaction, size in passed:
        output = _output(interaction)
        ext: Any = output.get("ext_bbox")
        face: Any = output.get("face_bbox")
        ratio = interaction.ratio
        if not geometry.is_box(ext) or ratio is None:
            continue
        rw, rh = geometry.parse_ratio(ratio)
        width, height = ext[2] - ext[0], ext[3] - ext[1]
        off = abs(width * rh - height * rw) / max(rw, rh)
        notes = [
            f"ext {width}x{height} at {ratio}: " + ("exact" if off == 0 else f"{off:g} px off")
        ]
        edges = [name for name, value in (("left", ext[0]), ("top", ext[1])) if value == 0]
        if size is not None:
            image_w, image_h = size
            for name, value, limit in (("right", ext[2], image_w), ("bottom", ext[3], image_h)):
                if value == limit:
                    edges.append(f"{name} (x2/y2 = size: exclusive)")
                elif value == limit - 1:
                    edges.append(f"{name} (x2/y2 = size - 1: inclusive)")
                elif value > limit:
                    edges.append(f"{name} beyond the image (not clipped)")
        notes.append("touches the " + ", ".join(edges) + " edge" if edges else "inside the image")
        if geometry.is_box(face):
            notes.append("face inside ext" if geometry.contains(ext, face) else "face outside ext")
        parts.append("; ".join(notes))
    if not parts:
        return Observation("8.6", topic, "not observed: no passed check had a well-formed ext_bbox")
    return Observation("8.6", topic, " | ".join(parts), tuple(i.name for i, _ in passed))


def _urls(sent: Sequence[tuple[Verdict, Interaction]]) -> Observation:
    topic = "HTTPS image URLs, oss:// URLs, file-size limit"
    parts, evidence = [], []
    for verdict, interaction in sent:
        body = interaction.request.body
        payload = body.get("input") if isinstance(body, dict) else None
        url = payload.get("image_url") if isinstance(payload, dict) else None
        if not isinstance(url, str):
            continue
        scheme = url.split("://", 1)[0].lower() if "://" in url else ""
        if verdict.planned.case is not None and scheme == "https":
            outcome = check_outcome(interaction)
            parts.append(
                "https URL: "
                + (
                    "accepted (the check ran)"
                    if outcome is not None
                    else f"rejected? {_answer(interaction)}"
                )
            )
            evidence.append(interaction.name)
        elif scheme == "oss":
            parts.append(f"oss:// URL: {_answer(interaction)}")
            evidence.append(interaction.name)
    parts.append("file-size limit: not probed (it would need a large image, billed)")
    return Observation("8.7", topic, _tally(parts), tuple(evidence))


def _throttling(verdicts: Sequence[Verdict]) -> Observation:
    topic = "which 429 code the QPS limit yields"
    # Every attempt counts: a 429 that a retry got past is the answer to this question.
    throttled = [
        attempt
        for verdict in verdicts
        for attempt in verdict.attempts
        if attempt.response.status == 429
    ]
    if not throttled:
        return Observation("8.8", topic, "not observed: no request was throttled")
    parts = [
        _answer(i)
        + (
            f", Retry-After {i.response.headers['retry-after']}"
            if "retry-after" in i.response.headers
            else ", no Retry-After"
        )
        for i in throttled
    ]
    return Observation("8.8", topic, _tally(parts), tuple(i.name for i in throttled))


def observe(verdicts: Iterable[Verdict], contracts: Contracts | None = None) -> list[Observation]:
    """The answers a run's verdicts give to the open questions 8.1 to 8.8."""
    contracts = contracts or load_contracts()
    verdicts = list(verdicts)
    sent = [(v, v.interaction) for v in verdicts if v.interaction is not None]
    answered = [interaction for _, interaction in sent]
    case_answers = [(i, v.planned.case) for v, i in sent if v.planned.case is not None]
    failed = [i for i, _ in case_answers if check_outcome(i, contracts) is False]
    passed = [
        (i, case.image_size if case is not None else None)
        for i, case in case_answers
        if check_outcome(i, contracts) is True
    ]
    return [
        _failure_shape(failed),
        _shape_a_details(failed),
        _humanoid(answered),
        _parameters(sent),
        _billing(failed),
        _boxes(passed),
        _urls(sent),
        _throttling(verdicts),
    ]
