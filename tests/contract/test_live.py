"""Live mode: the endpoint (or the gateway at --base-url) still answers as the contracts say.

Run with ``DASHSCOPE_API_KEY=... pytest --live``; without ``--live`` every test here is skipped.
The requests are sent once per run, concurrently and within ``--max-billed``, by the plugin's
``facedetect_live_run``; each test reads the verdict on one of them. Failures carry no traceback, so no
local variable (``-l``) or assertion rewrite can show anything but the redacted findings.
"""

from __future__ import annotations

import pytest

from facedetect_contract.live.judging import Verdict, failing
from facedetect_contract.live.models import ModelsRun
from facedetect_contract.live.run import LiveRun

pytestmark = pytest.mark.facedetect_live


def fail_on_findings(verdict: Verdict, run: LiveRun | ModelsRun) -> None:
    """Fail on every finding that fails a run (``judging.fails_the_run``, the rule the report's
    outcome and exit status follow too): breaking ones (with --strict-drift, additive ones too)
    that the --baseline does not acknowledge. Read off the verdict's findings here, not off the
    run's failure message alone, so a message left unwritten cannot pass a breaking answer."""
    baseline = run.baseline
    failed = failing(
        verdict.violations,
        strict_drift=run.settings.strict_drift,
        acknowledged=(lambda _: False) if baseline is None else baseline.acknowledges,
    )
    if failed or verdict.message is not None:
        shown = verdict.message or "\n".join(str(finding) for finding in failed)
        pytest.fail(run.redact(shown), pytrace=False)


def test_a_live_case_answers_as_the_contracts_and_its_expect_say(
    facedetect_live_case: Verdict, facedetect_live_run: LiveRun | ModelsRun
) -> None:
    """Status, headers and body conform; the checks hold; pass/fail is as the case expects."""
    fail_on_findings(facedetect_live_case, facedetect_live_run)


def test_a_free_negative_probe_is_rejected_with_a_documented_error(
    facedetect_live_probe: Verdict, facedetect_live_run: LiveRun | ModelsRun
) -> None:
    """No key, a bad key, a bad ratio, no image_url, bad JSON, an unknown model, the async
    header: each gets the documented 4xx error body, unbilled."""
    fail_on_findings(facedetect_live_probe, facedetect_live_run)


def test_a_generated_invalid_request_gets_a_documented_answer(
    facedetect_live_example: Verdict, facedetect_live_run: LiveRun | ModelsRun
) -> None:
    """A documented 4xx where the docs say reject, any documented answer where they are
    silent, never a 5xx."""
    fail_on_findings(facedetect_live_example, facedetect_live_run)
