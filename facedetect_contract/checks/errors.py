"""The checks of errors against the error table: a code documented for its status, and a request
the docs call invalid rejected with a documented 4xx error (never accepted, never a 5xx).
"""

from __future__ import annotations

from collections.abc import Iterator

from ..core.interaction import Interaction
from ..core.violations import Severity, render_value
from .registry import CheckContext, Finding, check

__all__ = ["error_code_is_documented", "invalid_request_is_rejected"]


@check(sources=("request_error",))
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


@check(sources=("request_error",), needs_json=False)
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
