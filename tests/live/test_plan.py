"""What a live run sends: its cases, the free probes and the generated requests, the same every
night."""

from __future__ import annotations

import subprocess
import sys

from facedetect_contract.contracts.cases import LiveCase
from facedetect_contract.contracts.loader import load_contracts
from facedetect_contract.live.plan import (
    PROBE_NAMES,
    case_requests,
    generated_requests,
    negative_probes,
    planned_names,
)

CONTRACTS = load_contracts()


def test_generated_examples_are_one_per_mutation_family() -> None:
    examples = generated_requests(20, CONTRACTS)
    families = [p.mutation.key for p in examples if p.mutation is not None]
    assert len(examples) == 20
    assert len(set(families)) == 20, families
    assert sum(p.request.headers.get("x-dashscope-async") is not None for p in examples) <= 1


def test_every_probe_breaks_a_documented_rule_and_only_the_inferred_one_can_be_billed() -> None:
    probes = negative_probes("https://example.com/portrait.png", CONTRACTS)
    assert [p.name for p in probes] == [f"probe-{name}" for name in PROBE_NAMES]
    for probe in probes:
        assert probe.expectation is not None, probe.name
        assert probe.expectation.must_reject, probe.name
    billable = {p.name for p in probes if p.billable}
    assert billable == {"probe-async-header"}  # the docs only infer that it is refused
    assert {p.name for p in probes if not p.keyed} == {"probe-no-key", "probe-bad-key"}


def test_the_names_of_a_run_are_known_before_anything_is_drawn() -> None:
    cases = [LiveCase("portrait", "https://example.com/p.png", "1:1", "pass")]
    names = planned_names(cases, 3, repeat=True)
    assert names["case"] == tuple(p.name for p in case_requests(cases, CONTRACTS, repeat=True))
    assert names["case"] == ("case-portrait", "case-portrait-again")
    assert names["example"] == tuple(p.name for p in generated_requests(3, CONTRACTS))
    assert [p.description for p in generated_requests(3, CONTRACTS)] == [
        p.description for p in generated_requests(3, CONTRACTS)
    ]


def test_the_live_run_s_modules_import_no_hypothesis() -> None:
    """pytest --live's start-up: the cases and probes need no Hypothesis; only drawing the
    examples (on a thread, while the cases are sent) imports it."""
    code = (
        "import sys, facedetect_contract.live.run, facedetect_contract.plugin, "
        "facedetect_contract.report; print('hypothesis' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def test_the_modules_left_without_the_profile_use_no_hypothesis() -> None:
    """harness.NO_HYPOTHESIS_MODULES skip the suite's profile: one that used Hypothesis would run
    its properties with Hypothesis' defaults (100 examples, a deadline) without a word."""
    from pathlib import Path

    from facedetect_contract.plugin.harness import NO_HYPOTHESIS_MODULES

    suite = Path(__file__).parents[1] / "contract"
    for name in NO_HYPOTHESIS_MODULES:
        assert "hypothesis" not in (suite / name).read_text(encoding="utf-8"), name
