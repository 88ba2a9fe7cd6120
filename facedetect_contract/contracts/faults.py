"""The one answer to "is this answer the endpoint's fault?": throttled, failing, or neither.

Two parts of the suite must agree on it: the client retries exactly these answers, and live
judging calls the one still standing after the retries an error of the run instead of drift. Were
each to decide it, a status the client gives up on at once could still be called "failing after
N retries", or a gateway's page be retried yet judged as drift. So both ask ``endpoint_fault``.

The facts are the contracts': the profile's throttle status, the error table's retryable rows and
the profile's gateway statuses (``Contracts.retryable_statuses``). One rule is the suite's own: any
5xx whose body is not JSON is a fault, whatever the table says, since only a proxy or a crashed
server answers so, and the endpoint's documented errors are all JSON.
"""

from __future__ import annotations

from typing import Literal

from ..core.interaction import RecordedResponse
from .loader import Contracts

__all__ = ["EndpointFault", "endpoint_fault"]

EndpointFault = Literal["throttled", "failing"]


def endpoint_fault(response: RecordedResponse, contracts: Contracts) -> EndpointFault | None:
    """``"throttled"`` or ``"failing"`` when ``response`` says the endpoint is throttling or
    failing rather than what it answers (a client retries it; one left after the retries is an
    error of the run), ``None`` when it is an answer to judge."""
    if response.status == contracts.profile.throttle_status:
        return "throttled"
    if response.status in contracts.retryable_statuses or (
        response.status >= 500 and not response.body_is_json
    ):
        return "failing"
    return None
