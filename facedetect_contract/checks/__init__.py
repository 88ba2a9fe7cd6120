"""The checks: registered functions, each named after the documented claim it asserts.

A check receives an interaction and a ``CheckContext`` (the contracts, the interaction's outcome,
and in a live run its case and its recording) and yields ``Finding``s; ``run_checks`` turns them
into ``Violation``s that carry the check's name, the interaction's name and the rule's source.
Every check is backed by a rule of the docs (its ``sources``, ids of the endpoint profile); none is
generic. A check that needs a JSON body is not run on one that is not JSON: that answer gets one
finding ("the body is not JSON"), not a dozen derived ones.

Checks across a whole run (the same image at two ratios, unique request ids) are registered with
``run_check`` and receive a ``RunContext``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from jsonschema import ValidationError
from jsonschema.exceptions import best_match

from ..contracts.cases import LiveCase
from ..contracts.loader import SCHEMA_FILES, Contracts, load_contracts
from ..contracts.outcome import Outcome, classify, nearest_answer
from ..core import geometry
from ..core.interaction import Interaction
from ..core.pointers import Pointer
from ..core.violations import ABSENT, Severity, Violation, render_value

__all__ = [
    "CHECKS",
    "RUN_CHECKS",
    "Check",
    "CheckContext",
    "Finding",
    "RunCheck",
    "RunContext",
    "check",
    "response_schema_for",
    "run_check",
    "run_checks",
    "run_run_checks",
]


@dataclass(frozen=True)
class Finding:
    """What a check found, before it is attributed to a check and an interaction."""

    pointer: str
    received: str
    documented: str
    title: str
    severity: Severity = Severity.BREAKING
    source: str | None = None  # overrides the check's sources (a cases file entry, a fixture)
    interaction: str | None = None  # run checks: the interaction it is about


@dataclass(frozen=True)
class CheckContext:
    """What a check may look at besides the interaction itself."""

    contracts: Contracts
    outcome: Outcome | None = None  # set by run_checks: the interaction's outcome
    case: LiveCase | None = None  # a live case: its expect and expected boxes
    case_source: str = ""  # where the case comes from, for the findings about it
    recording: Interaction | None = None  # the fixture that answered the same request


CheckFunction = Callable[[Interaction, CheckContext], Iterable[Finding]]


def _cite(contracts: Contracts, sources: Sequence[str]) -> str:
    return "; ".join(str(contracts.profile.source(source)) for source in sources)


@dataclass(frozen=True)
class Check:
    """A registered check: its name (the claim), its function and the sources of its rule."""

    name: str
    function: CheckFunction
    sources: tuple[str, ...]
    needs_json: bool = True

    def __call__(self, interaction: Interaction, context: CheckContext) -> list[Violation]:
        default = _cite(context.contracts, self.sources)
        return [
            Violation(
                check=self.name,
                interaction=finding.interaction or interaction.name,
                pointer=finding.pointer,
                received=finding.received,
                documented=finding.documented,
                severity=finding.severity,
                source=finding.source or default,
                title=finding.title,
            )
            for finding in self.function(interaction, context)
        ]


CHECKS: dict[str, Check] = {}


def check(
    *, sources: Sequence[str], needs_json: bool = True
) -> Callable[[CheckFunction], CheckFunction]:
    """Register a check under its function's name, with the profile ids of its rule's sources."""

    def register(function: CheckFunction) -> CheckFunction:
        if function.__name__ in CHECKS or function.__name__ in RUN_CHECKS:
            raise ValueError(f"check {function.__name__!r} is registered twice")
        CHECKS[function.__name__] = Check(function.__name__, function, tuple(sources), needs_json)
        return function

    return register


def _known(only: Sequence[str] | None) -> None:
    if only is not None:
        unknown = sorted(set(only) - set(CHECKS) - set(RUN_CHECKS))
        if unknown:
            raise KeyError(
                f"unknown checks {unknown}; registered: {sorted({*CHECKS, *RUN_CHECKS})}"
            )


def run_checks(
    interaction: Interaction,
    context: Contracts | CheckContext | None = None,
    *,
    only: Sequence[str] | None = None,
) -> list[Violation]:
    """Every registered check (or those named in ``only``) on one interaction."""
    if not isinstance(context, CheckContext):
        context = CheckContext(context or load_contracts())
    _known(only)
    context = dataclasses.replace(
        context, outcome=classify(interaction.response, context.contracts)
    )
    is_json = interaction.response.body_is_json
    violations: list[Violation] = []
    for name, registered in CHECKS.items():
        if (only is None or name in only) and (is_json or not registered.needs_json):
            violations.extend(registered(interaction, context))
    return violations


# --- checks across a run -----------------------------------------------------------------------


@dataclass(frozen=True)
class RunContext:
    """Every judged answer of a run, with the case each answered (``None`` for probes)."""

    contracts: Contracts
    answers: Sequence[tuple[Interaction, LiveCase | None]] = ()
    outcomes: Mapping[str, Outcome] = field(default_factory=dict)  # by interaction name
    repeated: Mapping[str, str] = field(default_factory=dict)  # repeat's name -> first's name


RunCheckFunction = Callable[[RunContext], Iterable[Finding]]


@dataclass(frozen=True)
class RunCheck:
    """A registered check over a whole run; each finding names its interaction."""

    name: str
    function: RunCheckFunction
    sources: tuple[str, ...]

    def __call__(self, context: RunContext) -> list[Violation]:
        default = _cite(context.contracts, self.sources)
        return [
            Violation(
                check=self.name,
                interaction=finding.interaction or "(the run)",
                pointer=finding.pointer,
                received=finding.received,
                documented=finding.documented,
                severity=finding.severity,
                source=finding.source or default,
                title=finding.title,
            )
            for finding in self.function(context)
        ]


RUN_CHECKS: dict[str, RunCheck] = {}


def run_check(*, sources: Sequence[str]) -> Callable[[RunCheckFunction], RunCheckFunction]:
    """Register a check over a whole run under its function's name."""

    def register(function: RunCheckFunction) -> RunCheckFunction:
        if function.__name__ in CHECKS or function.__name__ in RUN_CHECKS:
            raise ValueError(f"check {function.__name__!r} is registered twice")
        RUN_CHECKS[function.__name__] = RunCheck(function.__name__, function, tuple(sources))
        return function

    return register


def run_run_checks(context: RunContext, *, only: Sequence[str] | None = None) -> list[Violation]:
    """Every registered run check (or those in ``only``) on the answers of one run."""
    _known(only)
    if not context.outcomes:
        outcomes = {i.name: classify(i.response, context.contracts) for i, _ in context.answers}
        context = dataclasses.replace(context, outcomes=outcomes)
    violations: list[Violation] = []
    for name, registered in RUN_CHECKS.items():
        if only is None or name in only:
            violations.extend(registered(context))
    return violations


# --- helpers ---------------------------------------------------------------------------------


def _outcome(interaction: Interaction, context: CheckContext) -> Outcome:
    return context.outcome or classify(interaction.response, context.contracts)


def response_schema_for(interaction: Interaction, contracts: Contracts | None = None) -> str | None:
    """The short name of the contract a body is judged by (``None``: an undocumented status)."""
    contracts = contracts or load_contracts()
    kind = nearest_answer(interaction.response, contracts)
    if kind is None:
        return None
    by_file = {filename: name for name, filename in SCHEMA_FILES.items()}
    return by_file[kind.schema]


def _schema_findings(error: ValidationError) -> Iterator[Finding]:
    """Findings of one JSON Schema error, descending into ``anyOf``/``oneOf`` to the real cause."""
    if error.validator in ("anyOf", "oneOf") and error.context:
        yield from _schema_findings(best_match(error.context))
        return
    path = list(error.absolute_path)
    instance: Any = error.instance
    documented_by = error.schema.get("description", "") if isinstance(error.schema, dict) else ""
    if error.validator == "additionalProperties":
        known = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
        for name in sorted(set(instance) - set(known)):
            yield Finding(
                pointer=str(Pointer.of([*path, name])),
                received=render_value(instance[name]),
                documented=f"no field {name!r} here; documented fields: {sorted(known)}",
                title=f"new undocumented field {name!r}",
                severity=Severity.ADDITIVE,
            )
        return
    if error.validator == "required":
        required: Any = error.validator_value
        for name in required:
            if isinstance(instance, dict) and name not in instance:
                yield Finding(
                    pointer=str(Pointer.of([*path, name])),
                    received="(absent)",
                    documented=f"required field {name!r}",
                    title=f"required field {name!r} is missing",
                )
        return
    documented = f"{error.validator}: {render_value(error.validator_value)}"
    if documented_by:
        documented += f" ({documented_by})"
    yield Finding(
        pointer=str(Pointer.of(path)),
        received=render_value(error.instance),
        documented=documented,
        title=error.message if len(error.message) <= 120 else error.message[:117] + "...",
    )


# --- the checks ------------------------------------------------------------------------------


@check(sources=("emo-detect-api", "error-code"), needs_json=False)
def response_schema_conformance(
    interaction: Interaction, context: CheckContext
) -> Iterator[Finding]:
    """The body matches the contract of its kind of answer: pass, failure shape A, error body."""
    response = interaction.response
    if not response.body_is_json:
        why = f" ({response.not_json})" if response.not_json else ""
        yield Finding("", render_value(response.body), "a JSON body", f"the body is not JSON{why}")
        return
    name = response_schema_for(interaction, context.contracts)
    if name is None:
        return  # an undocumented status: status_code_is_documented reports it
    contracts = context.contracts
    if contracts.is_valid(name, response.body):
        return  # the common case, decided without collecting errors (see Contracts.is_valid)
    # One finding per place: a wrong type explains a failed 'const' or 'minimum' at the same spot.
    errors = sorted(
        contracts.validator(name).iter_errors(response.body),
        key=lambda error: error.validator != "type",
    )
    seen: set[tuple[str, Severity]] = set()
    for error in errors:
        for finding in _schema_findings(error):
            if (finding.pointer, finding.severity) not in seen:
                seen.add((finding.pointer, finding.severity))
                yield finding


@check(sources=("emo-detect-api", "error-code"), needs_json=False)
def status_code_is_documented(interaction: Interaction, context: CheckContext) -> Iterator[Finding]:
    """The HTTP status is 200 or one of the error table's statuses."""
    status = interaction.response.status
    documented = context.contracts.documented_statuses
    if status not in documented:
        yield Finding(
            pointer="",
            received=f"HTTP {status}",
            documented=f"one of {sorted(documented)}",
            title=f"undocumented HTTP status {status}",
        )


@check(sources=("emo-detect-api",))
def response_content_type_is_json(
    interaction: Interaction, context: CheckContext
) -> Iterator[Finding]:
    """The response says it is JSON (the documented media type, parameters allowed)."""
    expected = context.contracts.profile.content_type
    content_type = interaction.response.headers.get("content-type", "")
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type != expected:
        yield Finding(
            pointer="",
            received=f"Content-Type: {content_type or '(absent)'}",
            documented=f"Content-Type: {expected}",
            title="response Content-Type is not JSON",
        )


@check(sources=("emo-detect-api",))
def request_id_is_non_empty_string(
    interaction: Interaction, context: CheckContext
) -> Iterator[Finding]:
    """Every JSON response carries the request id, a non-empty string."""
    at = context.contracts.profile.response.request_id
    request_id = at.get(interaction.response.body)
    if not isinstance(request_id, str) or not request_id:
        yield Finding(
            pointer=str(at),
            received=render_value(request_id),
            documented="a non-empty string naming the request",
            title=f"{at.name} is missing or empty",
        )


@check(sources=("emo-detect-api",))
def request_id_header_matches_body(
    interaction: Interaction, context: CheckContext
) -> Iterator[Finding]:
    """Where a gateway sends a request-id header, it names the request the body's id names."""
    profile = context.contracts.profile
    header = interaction.response.headers.get(profile.request_id_header)
    body_id = profile.response.request_id.get(interaction.response.body)
    if header is not None and isinstance(body_id, str) and body_id and header.strip() != body_id:
        yield Finding(
            pointer=str(profile.response.request_id),
            received=f"{profile.request_id_header}: {render_value(header)}, body "
            f"{render_value(body_id)}",
            documented="one request, one id: the header (where sent) equals the body's id",
            title=f"the {profile.request_id_header} header names another request",
            severity=Severity.ADDITIVE,
        )


@check(sources=("emo-detect-api",))
def boxes_are_ordered_integers(
    interaction: Interaction, context: CheckContext
) -> Iterator[Finding]:
    """Each box present is 4 non-negative integers [x1, y1, x2, y2] with x1 < x2 and y1 < y2."""
    limit = context.contracts.profile.max_side_px  # no image side is longer, so no coordinate
    for at in context.contracts.profile.response.boxes:
        box = at.get(interaction.response.body)
        if box is ABSENT or box is None:
            continue
        if not geometry.is_box(box) or max(box) > limit:
            yield Finding(
                pointer=str(at),
                received=render_value(box),
                documented=f"[x1, y1, x2, y2]: 4 integers 0..{limit} (the longest side an "
                f"image may have), x1 < x2, y1 < y2",
                title=f"{at.name} is not a well-formed box",
            )


def _boxes(interaction: Interaction, context: CheckContext) -> tuple[Any, Any] | None:
    face_at, crop_at = context.contracts.profile.response.boxes
    face = face_at.get(interaction.response.body)
    crop = crop_at.get(interaction.response.body)
    if geometry.is_box(face) and geometry.is_box(crop):
        return face, crop
    return None


@check(sources=("emo-detect-api",))
def face_bbox_inside_ext_bbox(interaction: Interaction, context: CheckContext) -> Iterator[Finding]:
    """The face box lies inside the extended (crop) box."""
    boxes = _boxes(interaction, context)
    face_at, crop_at = context.contracts.profile.response.boxes
    if boxes and not geometry.contains(boxes[1], boxes[0]):
        yield Finding(
            pointer=str(face_at),
            received=f"{face_at.name} {render_value(boxes[0])}, "
            f"{crop_at.name} {render_value(boxes[1])}",
            documented=f"{face_at.name} inside {crop_at.name}: the video model crops the image "
            f"to {crop_at.name}",
            title=f"{face_at.name} lies outside {crop_at.name}",
        )


@check(sources=("emo-detect-api",))
def ext_bbox_matches_ratio(interaction: Interaction, context: CheckContext) -> Iterator[Finding]:
    """The crop box's width:height equals the requested ratio (default 1:1) within the profile's
    tolerance."""
    boxes = _boxes(interaction, context)
    if not boxes:
        return
    contracts = context.contracts
    profile = contracts.profile
    asked = profile.request.ratio.get(interaction.request.body)
    ratio_text = asked if isinstance(asked, str) else contracts.default_ratio
    try:
        ratio = geometry.parse_ratio(ratio_text)
    except ValueError:
        return  # an invalid ratio is the request's fault; the rejection checks judge that
    crop = profile.ratio_box.get(interaction.response.body)
    tolerance = profile.ratio_tolerance_px
    if not geometry.matches_ratio(crop, ratio, tolerance_px=tolerance):
        yield Finding(
            pointer=str(profile.ratio_box),
            received=f"{render_value(crop)}: {crop[2] - crop[0]}x{crop[3] - crop[1]} px",
            documented=f"width:height = {ratio_text} within {tolerance} px",
            title=f"{profile.ratio_box.name} does not have the requested ratio {ratio_text}",
        )


@check(sources=("emo-detect-api",))
def check_pass_true_has_both_boxes(
    interaction: Interaction, context: CheckContext
) -> Iterator[Finding]:
    """A passed check comes with both boxes."""
    fields = context.contracts.profile.response
    if fields.verdict.get(interaction.response.body) is not True:
        return
    for at in fields.boxes:
        box = at.get(interaction.response.body)
        if box is ABSENT or box is None:
            yield Finding(
                pointer=str(at),
                received=render_value(box),
                documented=f"{fields.verdict.name} true comes with {at.name}",
                title=f"check passed without {at.name}",
            )


@check(sources=("emo-detect-api", "emo-quick-start"))
def usage_image_count_is_one(interaction: Interaction, context: CheckContext) -> Iterator[Finding]:
    """Whenever usage is present, it counts one image (the billing unit) per request."""
    profile = context.contracts.profile
    body = interaction.response.body
    if profile.response.usage.get(body) is ABSENT:
        return
    count = profile.response.billed_images.get(body)
    if type(count) is not int or count != 1:
        yield Finding(
            pointer=str(profile.response.billed_images),
            received=render_value(count),
            documented=f"1: one {profile.billing_unit} per request, billed at "
            f"{profile.currency} {profile.price}",
            title=f"{profile.response.billed_images.name} is not 1",
        )


@check(sources=("error-code", "emo-quick-start"))
def request_failure_is_not_billed(
    interaction: Interaction, context: CheckContext
) -> Iterator[Finding]:
    """A request failure (HTTP 4xx/5xx) carries no usage: failures are not billed."""
    outcome = _outcome(interaction, context)
    if outcome.status < 400 or outcome.kind == "failed":
        return  # a shape B failure is judged by its own reading (failure-billing)
    at = context.contracts.profile.response.usage
    usage = at.get(interaction.response.body)
    if usage is not ABSENT:
        yield Finding(
            pointer=str(at),
            received=render_value(usage),
            documented="no usage on a request failure: request failures are not billed",
            title=f"HTTP {outcome.status} failure carries usage (billed?)",
        )


@check(sources=("error-code",))
def error_code_is_documented(interaction: Interaction, context: CheckContext) -> Iterator[Finding]:
    """An error's code is documented for its status; a new code under a known status is additive."""
    contracts = context.contracts
    at = contracts.profile.response.error_code
    status = interaction.response.status
    code = at.get(interaction.response.body)
    if status < 400 or not isinstance(code, str):
        return
    if status not in contracts.documented_statuses:
        return  # status_code_is_documented reports it
    if any(contracts.errors_for(code=code, status=status)):
        return
    elsewhere = sorted({entry.status for entry in contracts.errors_for(code=code)})
    listed = sorted(entry.code for entry in contracts.errors_for(status=status))
    if elsewhere:
        yield Finding(
            pointer=str(at),
            received=f"HTTP {status} with code {code!r}",
            documented=f"{code!r} is documented under HTTP {', '.join(map(str, elsewhere))}",
            title=f"{code!r} came with HTTP {status}, not its documented status",
        )
    else:
        yield Finding(
            pointer=str(at),
            received=f"HTTP {status} with code {code!r}",
            documented=f"codes documented for HTTP {status}: {', '.join(listed)}",
            title=f"undocumented error code {code!r} under HTTP {status}",
            severity=Severity.ADDITIVE,
        )


@check(sources=("error-code",), needs_json=False)
def invalid_request_is_rejected(
    interaction: Interaction, context: CheckContext
) -> Iterator[Finding]:
    """A request the docs say is invalid gets a documented 4xx error body: never 2xx, never 5xx."""
    expectation = interaction.expectation
    if expectation is None:
        return
    status = interaction.response.status
    if status >= 500:
        yield Finding(
            pointer="",
            received=f"HTTP {status}",
            documented=f"a 4xx error body ({expectation.reason}); never a server error",
            title=f"server error on an invalid request: {expectation.reason}",
        )
        return
    if not expectation.must_reject or not interaction.response.body_is_json:
        return  # a body that is not JSON is reported as such, and only as such
    if status < 400:
        yield Finding(
            pointer="",
            received=f"HTTP {status}",
            documented=f"a 4xx error body: {expectation.reason} ({expectation.source})",
            title=f"invalid request accepted: {expectation.reason}",
        )
        return
    if expectation.statuses is not None and status not in expectation.statuses:
        yield Finding(
            pointer="",
            received=f"HTTP {status}",
            documented=f"HTTP {' or '.join(map(str, sorted(expectation.statuses)))}: "
            f"{expectation.reason} ({expectation.source})",
            title=f"invalid request rejected with another status: {expectation.reason}",
        )
    at = context.contracts.profile.response.error_code
    code = at.get(interaction.response.body)
    if expectation.codes is not None and code not in expectation.codes:
        yield Finding(
            pointer=str(at),
            received=render_value(code),
            documented=f"one of {sorted(expectation.codes)}: {expectation.reason}",
            title=f"invalid request rejected with another code: {expectation.reason}",
        )


_EXPECTS = {
    "pass": ("the portrait check passes", (True,)),
    "fail": ("the portrait check fails (shape A or B)", (False,)),
    "any": ("the portrait check passes or fails, not a request failure", (True, False)),
}


@check(sources=("emo-detect-api",))
def live_case_meets_its_expect(
    interaction: Interaction, context: CheckContext
) -> Iterator[Finding]:
    """A live case's answer is what its ``expect`` says: a pass, a failure, or either."""
    case = context.case
    if case is None:
        return
    outcome = _outcome(interaction, context)
    wanted, admitted = _EXPECTS[case.expect]
    if outcome.passed not in admitted:
        verdict = context.contracts.profile.response.verdict
        yield Finding(
            pointer=str(verdict) if interaction.response.status == 200 else "",
            received=outcome.describe(),
            documented=f"expect {case.expect!r}: {wanted}",
            title=f"live case {case.name!r} did not meet its expect {case.expect!r}",
            source=f"{context.case_source or 'the live cases file'}, entry {case.name!r}",
        )


def _box_drift(
    live: Outcome,
    expected: Mapping[Pointer, Sequence[int] | None],
    where: str,
    source: str,
    context: CheckContext,
) -> Iterator[Finding]:
    threshold = context.contracts.profile.iou_min
    face_at, crop_at = context.contracts.profile.response.boxes
    for at, box in ((face_at, live.face_box), (crop_at, live.crop_box)):
        wanted = expected.get(at)
        if box is None or wanted is None:
            continue
        overlap = geometry.iou(box, wanted)
        if overlap < threshold:
            yield Finding(
                pointer=str(at),
                received=f"{render_value(list(box))} (IoU {overlap:.2f} with {where})",
                documented=f"{render_value(list(wanted))} in {where}: IoU >= {threshold}",
                title=f"behaviour drift: {at.name} moved (IoU {overlap:.2f} < {threshold})",
                severity=Severity.ADDITIVE,
                source=source,
            )


@check(sources=("emo-detect-api",))
def behaviour_matches_recording(
    interaction: Interaction, context: CheckContext
) -> Iterator[Finding]:
    """The same request gets the same verdict and boxes (IoU at least the profile's threshold) as
    its recording and as the boxes its live case expects; a change is behaviour drift (additive)."""
    live = _outcome(interaction, context)
    recording = context.recording
    if recording is not None:
        recorded = classify(recording.response, context.contracts)
        kind, date = recording.provenance.get("kind", "?"), recording.provenance.get("date", "?")
        where = f"fixture {recording.name!r} ({kind} {date})"
        source = f"fixtures/face-detect/{recording.name}.json"
        if (
            live.passed is not None
            and recorded.passed is not None
            and live.passed != recorded.passed
        ):
            yield Finding(
                pointer=str(context.contracts.profile.response.verdict),
                received=f"the portrait check {'passed' if live.passed else 'failed'}",
                documented=f"it {'passed' if recorded.passed else 'failed'} in {where}",
                title="behaviour drift: the portrait check flipped",
                severity=Severity.ADDITIVE,
                source=source,
            )
        else:
            face_at, crop_at = context.contracts.profile.response.boxes
            expected = {face_at: recorded.face_box, crop_at: recorded.crop_box}
            yield from _box_drift(live, expected, where, source, context)
    case = context.case
    if case is not None:
        face_at, crop_at = context.contracts.profile.response.boxes
        expected = {
            face_at: case.expected_box(face_at.name),
            crop_at: case.expected_box(crop_at.name),
        }
        yield from _box_drift(
            live,
            expected,
            f"live case {case.name!r}",
            f"{context.case_source or 'the live cases file'}, entry {case.name!r}",
            context,
        )


# --- across the run --------------------------------------------------------------------------


def _by_image(context: RunContext) -> dict[str, list[tuple[Interaction, Outcome]]]:
    """The passed answers to live cases, grouped by the image they checked."""
    groups: dict[str, list[tuple[Interaction, Outcome]]] = {}
    for interaction, case in context.answers:
        outcome = context.outcomes.get(interaction.name)
        if case is not None and outcome is not None and outcome.kind == "passed":
            groups.setdefault(case.image_url, []).append((interaction, outcome))
    return groups


@run_check(sources=("emo-detect-api",))
def same_image_same_face_box(context: RunContext) -> Iterator[Finding]:
    """The same image checked at both ratios gets the same face box (IoU at least the profile's
    threshold): the ratio shapes the crop, not where the face is."""
    threshold = context.contracts.profile.iou_min
    face_at = context.contracts.profile.response.face_box
    for answers in _by_image(context).values():
        first, first_outcome = answers[0]
        for other, outcome in answers[1:]:
            if first_outcome.face_box is None or outcome.face_box is None:
                continue  # a passed outcome has both boxes; this keeps mypy and the reader sure
            overlap = geometry.iou(first_outcome.face_box, outcome.face_box)
            if overlap < threshold:
                yield Finding(
                    pointer=str(face_at),
                    received=f"{render_value(list(outcome.face_box))} (IoU {overlap:.2f} with "
                    f"{render_value(list(first_outcome.face_box))} of {first.name})",
                    documented=f"one face, one box: IoU >= {threshold} across ratios",
                    title=f"{face_at.name} of the same image moved with the ratio",
                    severity=Severity.ADDITIVE,
                    interaction=other.name,
                )


@run_check(sources=("emo-detect-api",))
def every_crop_of_an_image_contains_its_face(context: RunContext) -> Iterator[Finding]:
    """Each crop box of an image contains the face box every answer for that image gives."""
    face_at, crop_at = context.contracts.profile.response.boxes
    for answers in _by_image(context).values():
        faces = [(i.name, o.face_box) for i, o in answers if o.face_box is not None]
        for interaction, outcome in answers:
            for name, face in faces:
                if name == interaction.name or outcome.crop_box is None or face is None:
                    continue
                if not geometry.contains(outcome.crop_box, face):
                    yield Finding(
                        pointer=str(crop_at),
                        received=f"{crop_at.name} {render_value(list(outcome.crop_box))}, "
                        f"{face_at.name} {render_value(list(face))} of {name}",
                        documented=f"every {crop_at.name} of an image contains its face",
                        title=f"{crop_at.name} leaves out the face another answer found",
                        severity=Severity.ADDITIVE,
                        interaction=interaction.name,
                    )


@run_check(sources=("emo-detect-api",))
def request_id_is_unique_in_the_run(context: RunContext) -> Iterator[Finding]:
    """No two answers of a run carry the same request id: it is the unique id of the request."""
    at = context.contracts.profile.response.request_id
    first: dict[str, str] = {}
    for interaction, _case in context.answers:
        request_id = at.get(interaction.response.body)
        if not isinstance(request_id, str) or not request_id:
            continue  # request_id_is_non_empty_string reports it
        if request_id in first:
            yield Finding(
                pointer=str(at),
                received=f"{render_value(request_id)}, as {first[request_id]} had",
                documented="the unique id of the request: one per answer",
                title=f"{at.name} repeats another answer's",
                interaction=interaction.name,
            )
        else:
            first[request_id] = interaction.name


@run_check(sources=("emo-detect-api",))
def repeated_case_gives_the_same_answer(context: RunContext) -> Iterator[Finding]:
    """A case sent twice in one run (``--live-repeat-cases``) gets the same verdict and boxes."""
    threshold = context.contracts.profile.iou_min
    fields = context.contracts.profile.response
    for again, first in context.repeated.items():
        a, b = context.outcomes.get(first), context.outcomes.get(again)
        if a is None or b is None:
            continue
        if a.passed != b.passed:
            yield Finding(
                pointer=str(fields.verdict),
                received=b.describe(),
                documented=f"{a.describe()}, as the first time ({first})",
                title="the same case, asked twice, got another verdict",
                severity=Severity.ADDITIVE,
                interaction=again,
            )
            continue
        for at, x, y in (
            (fields.face_box, a.face_box, b.face_box),
            (fields.crop_box, a.crop_box, b.crop_box),
        ):
            if x is not None and y is not None and geometry.iou(x, y) < threshold:
                yield Finding(
                    pointer=str(at),
                    received=f"{render_value(list(y))} (IoU {geometry.iou(x, y):.2f})",
                    documented=f"{render_value(list(x))} as the first time ({first})",
                    title=f"the same case, asked twice, got another {at.name}",
                    severity=Severity.ADDITIVE,
                    interaction=again,
                )
