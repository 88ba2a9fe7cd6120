"""The checks: registered functions, each named after the documented claim it asserts.

A check receives an interaction and the contracts and yields ``Finding``s; ``run_checks`` turns
them into ``Violation``s that carry the check's name, the interaction's name and the rule's
source. Every check is backed by a rule of the docs (its ``source``); none is generic.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from jsonschema import ValidationError
from jsonschema.exceptions import best_match

from . import geometry
from .contracts import Contracts, load_contracts
from .interaction import Interaction
from .violations import ABSENT, Severity, Violation, render_value

__all__ = [
    "BOXES",
    "CHECKS",
    "Check",
    "Finding",
    "check",
    "response_schema_for",
    "run_checks",
]

EMO_DETECT_DOC = "https://help.aliyun.com/zh/model-studio/emo-detect-api (2026-02-11)"
ERROR_CODE_DOC = "https://help.aliyun.com/zh/model-studio/error-code"
QUICK_START_DOC = "https://help.aliyun.com/en/model-studio/emo-quick-start/"


@dataclass(frozen=True)
class Finding:
    """What a check found, before it is attributed to a check and an interaction."""

    pointer: str
    received: str
    documented: str
    title: str
    severity: Severity = Severity.BREAKING


CheckFunction = Callable[[Interaction, Contracts], Iterable[Finding]]


@dataclass(frozen=True)
class Check:
    """A registered check: its name (the claim), its function and the source of its rule."""

    name: str
    function: CheckFunction
    source: str

    def __call__(self, interaction: Interaction, contracts: Contracts) -> list[Violation]:
        return [
            Violation(
                check=self.name,
                interaction=interaction.name,
                pointer=finding.pointer,
                received=finding.received,
                documented=finding.documented,
                severity=finding.severity,
                source=self.source,
                title=finding.title,
            )
            for finding in self.function(interaction, contracts)
        ]


CHECKS: dict[str, Check] = {}


def check(*, source: str) -> Callable[[CheckFunction], CheckFunction]:
    """Register a check under its function's name, with the doc source of its rule."""

    def register(function: CheckFunction) -> CheckFunction:
        if function.__name__ in CHECKS:
            raise ValueError(f"check {function.__name__!r} is registered twice")
        CHECKS[function.__name__] = Check(function.__name__, function, source)
        return function

    return register


def run_checks(
    interaction: Interaction,
    contracts: Contracts | None = None,
    *,
    only: Sequence[str] | None = None,
) -> list[Violation]:
    """Every registered check (or those named in ``only``) on one interaction."""
    contracts = contracts or load_contracts()
    if only is not None:
        unknown = sorted(set(only) - set(CHECKS))
        if unknown:
            raise KeyError(f"unknown checks {unknown}; registered: {sorted(CHECKS)}")
    violations: list[Violation] = []
    for name, registered in CHECKS.items():
        if only is None or name in only:
            violations.extend(registered(interaction, contracts))
    return violations


# --- helpers ---------------------------------------------------------------------------------


def _pointer(parts: Iterable[Any]) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def _get(body: Any, *path: str | int) -> Any:
    """The value at ``path`` in ``body``, or ``ABSENT``."""
    node = body
    for part in path:
        in_mapping = isinstance(part, str) and isinstance(node, Mapping) and part in node
        in_list = isinstance(part, int) and isinstance(node, list) and 0 <= part < len(node)
        if in_mapping or in_list:
            node = node[part]
        else:
            return ABSENT
    return node


def _is_error_status(interaction: Interaction) -> bool:
    return interaction.response.status >= 400


def response_schema_for(interaction: Interaction) -> str:
    """The contract a response is judged by: by status, then by ``output.check_pass``."""
    if _is_error_status(interaction):
        return "error_body"
    check_pass = _get(interaction.response.body, "output", "check_pass")
    if check_pass is False:
        return "check_failed"
    if check_pass is True:
        return "check_passed"
    # check_pass is missing or mistyped: an output with boxes is judged as a pass, so a renamed
    # check_pass is reported precisely; an output without boxes as a failure; no output as a pass.
    body = interaction.response.body
    has_output = _get(body, "output") is not ABSENT
    has_boxes = _get(body, "output", "face_bbox") is not ABSENT
    return "check_failed" if has_output and not has_boxes else "check_passed"


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
                pointer=_pointer([*path, name]),
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
                    pointer=_pointer([*path, name]),
                    received="(absent)",
                    documented=f"required field {name!r}",
                    title=f"required field {name!r} is missing",
                )
        return
    documented = f"{error.validator}: {render_value(error.validator_value)}"
    if documented_by:
        documented += f" ({documented_by})"
    yield Finding(
        pointer=_pointer(path),
        received=render_value(error.instance),
        documented=documented,
        title=error.message if len(error.message) <= 120 else error.message[:117] + "...",
    )


# --- the checks ------------------------------------------------------------------------------


@check(source=f"{EMO_DETECT_DOC}; {ERROR_CODE_DOC}")
def response_schema_conformance(
    interaction: Interaction, contracts: Contracts
) -> Iterator[Finding]:
    """The body matches the contract for its status: pass, failure shape A, or the error body."""
    response = interaction.response
    if not response.body_is_json:
        yield Finding("", render_value(response.body), "a JSON body", "the body is not JSON")
        return
    name = response_schema_for(interaction)
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


@check(source=f"{EMO_DETECT_DOC}; {ERROR_CODE_DOC}")
def status_code_is_documented(interaction: Interaction, contracts: Contracts) -> Iterator[Finding]:
    """The HTTP status is 200 or one of the error table's statuses."""
    status = interaction.response.status
    if status not in contracts.documented_statuses:
        yield Finding(
            pointer="",
            received=f"HTTP {status}",
            documented=f"one of {sorted(contracts.documented_statuses)}",
            title=f"undocumented HTTP status {status}",
        )


@check(source=EMO_DETECT_DOC)
def response_content_type_is_json(
    interaction: Interaction, contracts: Contracts
) -> Iterator[Finding]:
    """The response says it is JSON (``application/json``, parameters allowed)."""
    content_type = interaction.response.headers.get("content-type", "")
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type != "application/json":
        yield Finding(
            pointer="",
            received=f"Content-Type: {content_type or '(absent)'}",
            documented="Content-Type: application/json",
            title="response Content-Type is not JSON",
        )


@check(source=EMO_DETECT_DOC)
def request_id_is_non_empty_string(
    interaction: Interaction, contracts: Contracts
) -> Iterator[Finding]:
    """Every JSON response carries ``request_id``, a non-empty string."""
    if not interaction.response.body_is_json:
        return
    request_id = _get(interaction.response.body, "request_id")
    if not isinstance(request_id, str) or not request_id:
        yield Finding(
            pointer="/request_id",
            received=render_value(request_id),
            documented="a non-empty string naming the request",
            title="request_id is missing or empty",
        )


BOXES = ("face_bbox", "ext_bbox")
"""The two boxes of a passed check, in the order the docs list them."""


@check(source=EMO_DETECT_DOC)
def boxes_are_ordered_integers(interaction: Interaction, contracts: Contracts) -> Iterator[Finding]:
    """Each box present is 4 non-negative integers [x1, y1, x2, y2] with x1 < x2 and y1 < y2."""
    for name in BOXES:
        box = _get(interaction.response.body, "output", name)
        if box is ABSENT or box is None:
            continue
        if not geometry.is_box(box):
            yield Finding(
                pointer=f"/output/{name}",
                received=render_value(box),
                documented="[x1, y1, x2, y2]: 4 non-negative integers, x1 < x2, y1 < y2",
                title=f"{name} is not a well-formed box",
            )


def _boxes(interaction: Interaction) -> tuple[Any, Any] | None:
    face = _get(interaction.response.body, "output", "face_bbox")
    ext = _get(interaction.response.body, "output", "ext_bbox")
    if geometry.is_box(face) and geometry.is_box(ext):
        return face, ext
    return None


@check(source=EMO_DETECT_DOC)
def face_bbox_inside_ext_bbox(interaction: Interaction, contracts: Contracts) -> Iterator[Finding]:
    """The face box lies inside the extended (crop) box."""
    boxes = _boxes(interaction)
    if boxes and not geometry.contains(boxes[1], boxes[0]):
        yield Finding(
            pointer="/output/face_bbox",
            received=f"face_bbox {render_value(boxes[0])}, ext_bbox {render_value(boxes[1])}",
            documented="face_bbox inside ext_bbox: the video model crops the image to ext_bbox",
            title="face_bbox lies outside ext_bbox",
        )


@check(source=EMO_DETECT_DOC)
def ext_bbox_matches_ratio(interaction: Interaction, contracts: Contracts) -> Iterator[Finding]:
    """The ext box's width:height equals the requested ratio (default 1:1) within 1 px."""
    boxes = _boxes(interaction)
    if not boxes:
        return
    ratio_text = interaction.ratio or contracts.default_ratio
    try:
        ratio = geometry.parse_ratio(ratio_text)
    except ValueError:
        return  # an invalid ratio is the request's fault; the rejection checks judge that
    ext = boxes[1]
    if not geometry.matches_ratio(ext, ratio):
        yield Finding(
            pointer="/output/ext_bbox",
            received=f"{render_value(ext)}: {ext[2] - ext[0]}x{ext[3] - ext[1]} px",
            documented=f"width:height = {ratio_text} within {geometry.RATIO_TOLERANCE_PX} px",
            title=f"ext_bbox does not have the requested ratio {ratio_text}",
        )


@check(source=EMO_DETECT_DOC)
def check_pass_true_has_both_boxes(
    interaction: Interaction, contracts: Contracts
) -> Iterator[Finding]:
    """A passed check comes with ``face_bbox`` and ``ext_bbox``."""
    if _get(interaction.response.body, "output", "check_pass") is not True:
        return
    for name in BOXES:
        box = _get(interaction.response.body, "output", name)
        if box is ABSENT or box is None:
            yield Finding(
                pointer=f"/output/{name}",
                received=render_value(box),
                documented=f"check_pass true comes with {name}",
                title=f"check passed without {name}",
            )


@check(source=f"{EMO_DETECT_DOC}; price: {QUICK_START_DOC}")
def usage_image_count_is_one(interaction: Interaction, contracts: Contracts) -> Iterator[Finding]:
    """Whenever ``usage`` is present, ``usage.image_count`` is 1 (one image, the billing unit)."""
    usage = _get(interaction.response.body, "usage")
    if usage is ABSENT:
        return
    count = _get(usage, "image_count")
    if type(count) is not int or count != 1:
        yield Finding(
            pointer="/usage/image_count",
            received=render_value(count),
            documented="1: one image per request, billed at CNY 0.004",
            title="usage.image_count is not 1",
        )


@check(source=f"{ERROR_CODE_DOC}; billing: {QUICK_START_DOC}")
def request_failure_is_not_billed(
    interaction: Interaction, contracts: Contracts
) -> Iterator[Finding]:
    """A request failure (HTTP 4xx/5xx) carries no ``usage``: failures are not billed."""
    if not _is_error_status(interaction):
        return
    usage = _get(interaction.response.body, "usage")
    if usage is not ABSENT:
        yield Finding(
            pointer="/usage",
            received=render_value(usage),
            documented="no usage on a request failure: request failures are not billed",
            title=f"HTTP {interaction.response.status} failure carries usage (billed?)",
        )


@check(source=ERROR_CODE_DOC)
def error_code_is_documented(interaction: Interaction, contracts: Contracts) -> Iterator[Finding]:
    """An error's code is documented for its status; a new code under a known status is additive."""
    status = interaction.response.status
    code = _get(interaction.response.body, "code")
    if not _is_error_status(interaction) or not isinstance(code, str):
        return
    if status not in contracts.documented_statuses:
        return  # status_code_is_documented reports it
    if any(contracts.errors_for(code=code, status=status)):
        return
    elsewhere = sorted({entry.status for entry in contracts.errors_for(code=code)})
    listed = sorted(entry.code for entry in contracts.errors_for(status=status))
    if elsewhere:
        yield Finding(
            pointer="/code",
            received=f"HTTP {status} with code {code!r}",
            documented=f"{code!r} is documented under HTTP {', '.join(map(str, elsewhere))}",
            title=f"{code!r} came with HTTP {status}, not its documented status",
        )
    else:
        yield Finding(
            pointer="/code",
            received=f"HTTP {status} with code {code!r}",
            documented=f"codes documented for HTTP {status}: {', '.join(listed)}",
            title=f"undocumented error code {code!r} under HTTP {status}",
            severity=Severity.ADDITIVE,
        )


@check(source=ERROR_CODE_DOC)
def invalid_request_is_rejected(
    interaction: Interaction, contracts: Contracts
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
    if not expectation.must_reject:
        return
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
    code = _get(interaction.response.body, "code")
    if expectation.codes is not None and code not in expectation.codes:
        yield Finding(
            pointer="/code",
            received=render_value(code),
            documented=f"one of {sorted(expectation.codes)}: {expectation.reason}",
            title=f"invalid request rejected with another code: {expectation.reason}",
        )
