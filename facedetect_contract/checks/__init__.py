"""The checks: registered functions, each named after the documented claim it asserts.

A check receives an interaction and a ``CheckContext`` (the contracts, the interaction's outcome,
and in a live run its case and its recording) and yields ``Finding``s; ``run_checks`` turns them
into ``Violation``s that carry the check's name, the interaction's name and the rule's source.
Every check is backed by a rule of the docs (its ``sources``: roles each model's profile fills
with its own source ids, or ids); none is generic. A check that reads a part of the answer's shape
(a verdict, a box, the ratio) names it in ``needs`` and is skipped, with the reason
(``skipped_checks``), for a model without it. A check that needs a JSON body is not run on one
that is not JSON: that answer gets one finding ("the body is not JSON"), not a dozen derived
ones. Checks across a whole run (the same image at two ratios, unique request ids) are registered
with ``scope="run"`` and receive a ``RunContext``.

This package only gathers its modules: ``registry`` (the decorator, the contexts, running
checks), then the checks by what they judge: ``schema`` (any answer's body, status, media type and
request id), ``boxes``, ``billing``, ``errors`` (the error table, invalid requests), ``behaviour``
(an answer against its live case and its recording) and ``consistency`` (across a run).
"""

from __future__ import annotations

# isort: off
# Importing a check module registers its checks, and the order they register in is the order they
# run in and a report lists their findings in: keep these imports in this order (a test pins it).
from .registry import (
    CHECKS,
    NEEDS,
    ROLES,
    RUN_CHECKS,
    Check,
    CheckContext,
    CheckScope,
    CheckSourceError,
    Finding,
    RunCheck,
    RunContext,
    check,
    check_sources,
    run_check,
    run_checks,
    run_run_checks,
    skip_reason,
    skipped_checks,
)
from .schema import (
    _schema_findings as _schema_findings,
    request_id_header_matches_body as request_id_header_matches_body,
    request_id_is_non_empty_string as request_id_is_non_empty_string,
    response_content_type_is_json as response_content_type_is_json,
    response_schema_conformance as response_schema_conformance,
    response_schema_for,
    status_code_is_documented as status_code_is_documented,
)
from .boxes import (
    boxes_are_ordered_integers as boxes_are_ordered_integers,
    check_pass_true_has_both_boxes as check_pass_true_has_both_boxes,
    ext_bbox_matches_ratio as ext_bbox_matches_ratio,
    face_bbox_inside_ext_bbox as face_bbox_inside_ext_bbox,
)
from .billing import (
    request_failure_is_not_billed as request_failure_is_not_billed,
    usage_image_count_is_one as usage_image_count_is_one,
)
from .errors import (
    error_code_is_documented as error_code_is_documented,
    invalid_request_is_rejected as invalid_request_is_rejected,
)
from .behaviour import (
    behaviour_matches_recording as behaviour_matches_recording,
    live_case_meets_its_expect as live_case_meets_its_expect,
)
from .consistency import (
    every_crop_of_an_image_contains_its_face as every_crop_of_an_image_contains_its_face,
    repeated_case_gives_the_same_answer as repeated_case_gives_the_same_answer,
    request_id_is_unique_in_the_run as request_id_is_unique_in_the_run,
    same_image_same_face_box as same_image_same_face_box,
)
# isort: on

__all__ = [
    "CHECKS",
    "NEEDS",
    "ROLES",
    "RUN_CHECKS",
    "Check",
    "CheckContext",
    "CheckScope",
    "CheckSourceError",
    "Finding",
    "RunCheck",
    "RunContext",
    "check",
    "check_sources",
    "response_schema_for",
    "run_check",
    "run_checks",
    "run_run_checks",
    "skip_reason",
    "skipped_checks",
]
