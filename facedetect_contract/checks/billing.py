"""The checks of billing: usage counts one image per request, and a request failure is not
billed (a shape B failure's billing is an open question, judged by its own reading). A model
whose profile states no price is judged by the count alone.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..contracts.profile import EndpointProfile
from ..core.interaction import Interaction
from ..core.violations import ABSENT, render_value
from .registry import CheckContext, Finding, check

__all__ = ["request_failure_is_not_billed", "usage_image_count_is_one"]


def _price(profile: EndpointProfile) -> str:
    """``, billed at CNY 0.004`` where the profile states a price, else nothing (a model whose
    docs give none)."""
    if profile.states("price") and profile.states("currency"):
        return f", billed at {profile.currency} {profile.price}"
    return ""


@check(sources=("shape", "billing"))
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
            documented=f"1: one {profile.billing_unit} per request{_price(profile)}",
            title=f"{profile.response.billed_images.name} is not 1",
        )


@check(sources=("request_error", "billing"))
def request_failure_is_not_billed(
    interaction: Interaction, context: CheckContext
) -> Iterator[Finding]:
    """A request failure (HTTP 4xx/5xx) carries no usage: failures are not billed."""
    outcome = context.outcome_of(interaction)
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
