"""Live mode: the endpoint (or the gateway at --base-url) still answers as the contracts say.

Run with ``DASHSCOPE_API_KEY=... pytest --live``; without ``--live`` every test here is skipped.
The requests are sent once per run, concurrently and within ``--max-billed``, by the plugin's
``facedetect_live_run``; each test reads the verdict on one of them. Failures carry no traceback, so no
local variable (``-l``) or assertion rewrite can show anything but the redacted findings.
"""

from __future__ import annotations

import pytest

from facedetect_contract.judging import Verdict

pytestmark = pytest.mark.facedetect_live


def fail_on_findings(verdict: Verdict) -> None:
    message = verdict.message
    if message is not None:
        pytest.fail(message, pytrace=False)


def test_a_live_case_answers_as_the_contracts_and_its_expect_say(
    facedetect_live_case: Verdict,
) -> None:
    """Status, headers and body conform; the checks hold; pass/fail is as the case expects."""
    fail_on_findings(facedetect_live_case)


def test_a_free_negative_probe_is_rejected_with_a_documented_error(
    facedetect_live_probe: Verdict,
) -> None:
    """No key, a bad key, a bad ratio, no image_url, bad JSON, an unknown model, the async
    header: each gets the documented 4xx error body, unbilled."""
    fail_on_findings(facedetect_live_probe)


def test_a_generated_invalid_request_gets_a_documented_answer(
    facedetect_live_example: Verdict,
) -> None:
    """A documented 4xx where the docs say reject, any documented answer where they are
    silent, never a 5xx."""
    fail_on_findings(facedetect_live_example)
