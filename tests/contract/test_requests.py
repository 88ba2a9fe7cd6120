"""Generated requests against the fake: every documented request rule, driven by the contracts.

The subject is the endpoint's contract, not the client: each request is exchanged with the fake
in-process (``offline_exchange``), the same interaction the client would record, without the
HTTP stack (a differential test in the project's tests holds the two paths together). The
requests are drawn from the contracts of the run (``--contracts``), so inside the test.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from hypothesis import given, note
from hypothesis import strategies as st

from facedetect_contract.checks import run_checks
from facedetect_contract.contracts.loader import Contracts
from facedetect_contract.core.interaction import Interaction
from facedetect_contract.doubles.fake import FaceDetectFake
from facedetect_contract.doubles.offline import InProcessExchange
from facedetect_contract.generation.strategies import (
    GeneratedRequest,
    invalid_requests,
    valid_requests,
)

# One strategy per contracts folder, built once (not per example).
VALID = functools.cache(valid_requests)
INVALID = functools.cache(invalid_requests)


def describe_failure(interaction: Interaction, violations: Sequence[object]) -> str:
    return "\n\n".join(map(str, violations)) + f"\n\nresponse: {interaction.response.body!r}"


@given(data=st.data())
def test_a_valid_request_gets_a_response_that_honours_every_contract(
    offline_exchange: InProcessExchange, contracts: Contracts, data: st.DataObject
) -> None:
    """Valid request -> schema-conforming response that passes every semantic check."""
    request: GeneratedRequest = data.draw(VALID(contracts), label="request")
    note(f"request body: {request.body!r}")
    interaction = request.send(offline_exchange, retry=False)
    violations = run_checks(interaction, contracts)
    assert not violations, describe_failure(interaction, violations)
    assert interaction.response.status in (200, 400)


@given(data=st.data())
def test_an_invalid_request_is_rejected_as_documented_and_never_billed(
    offline_exchange: InProcessExchange,
    fake: FaceDetectFake,
    contracts: Contracts,
    data: st.DataObject,
) -> None:
    """Invalid request -> documented 4xx error body (never 2xx where rejection is due, never 5xx, never billed)."""
    request: GeneratedRequest = data.draw(INVALID(contracts), label="request")
    note(f"mutation: {request.description}; expectation: {request.expectation}")
    billed_before = fake.billed
    interaction = request.send(offline_exchange, retry=False)
    violations = run_checks(interaction, contracts)
    assert not violations, describe_failure(interaction, violations)
    assert interaction.response.status < 500
    if request.must_reject:
        assert 400 <= interaction.response.status < 500
        assert fake.billed == billed_before, "a rejected request was billed"
