"""Is it the run's configuration, not the endpoint, that is wrong? Decided before drift is judged.

A mistyped base URL (``/api`` forgotten, or the whole endpoint URL pasted as the base) or a
gateway that answers every request with its own page is not the provider changing the API: a run
that reported it as drift would page someone at night for a typo. Two rules, each with its line
drawn where a documented answer begins:

- ``base_url_problem``, before anything is sent: a base URL whose path holds the endpoint's path,
  or ends in part of the documented API root's path but not all of it (``/v1`` or ``/api`` for
  ``/api/v1``), is a usage error naming the likely fix. Any other prefix (a gateway's
  ``/dashscope/api/v1``, a stub's own root) is accepted: the second rule stands behind it.
- ``misconfiguration``, after the answers are in: when every answer of the run says that nothing
  is there (a 404 or 405 with no documented code) or is a web page (HTML, a login or gateway
  page), the requests never reached the endpoint; the run is an error of its configuration naming
  what every request got. The line runs at what the API itself could say: one documented answer
  is enough to judge the rest as drift (a retired model answering ``404 ModelNotFound``, a
  documented code, stays drift), and so is any answer in the API's own form, however broken (a
  renamed field in every answer, JSON that does not parse, an odd status: the endpoint changed,
  so that is drift to report). A run whose keyed requests all got what the requests without a
  key got (``401 InvalidApiKey``) is its configuration too: the key is wrong, named as such.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from ..contracts.loader import Contracts
from ..contracts.outcome import classify
from ..core.inert import printable
from ..core.interaction import Interaction

__all__ = ["Answered", "base_url_problem", "misconfiguration"]


def _segments(path: str) -> list[str]:
    return [part for part in path.split("/") if part]


def base_url_problem(base_url: str, contracts: Contracts) -> str | None:
    """Why ``base_url`` cannot be the API root the profile documents, with the fix; else None."""
    profile = contracts.profile
    parts = urlsplit(base_url)
    path = parts.path
    # Shown without user info, query or fragment, where a key could hide.
    origin = f"{parts.scheme}://{parts.hostname or ''}" + (f":{parts.port}" if parts.port else "")
    root = _segments(urlsplit(profile.default_base_url).path)  # ["api", "v1"]
    endpoint = _segments(profile.path)  # ["services", "aigc", "image2video", "face-detect"]
    given = _segments(path)
    shown = printable(origin + path)
    for start in range(len(given)):
        # The endpoint's path inside it, or the base URL ending in the start of that path.
        if given[start : start + len(endpoint)] == endpoint or (
            given[start:] == endpoint[: len(given) - start]
        ):
            base = "/".join(given[:start] or root)  # nothing before it: the documented root
            fixed = printable(f"{origin}/{base}")
            return (
                f"the base URL {shown} includes the endpoint's path ({profile.path}); give the API "
                f"root, such as {fixed} (the suite adds {profile.path} itself)"
            )
    for size in range(len(root) - 1, 0, -1):
        tail = root[-size:]
        if given[-size:] == tail and given[-len(root) :] != root:
            missing = "/".join(root[: len(root) - size])
            return (
                f"the base URL {shown} ends in /{'/'.join(tail)} but the API root's path ends in "
                f"/{'/'.join(root)}: is /{missing} missing? Documented: {profile.default_base_url}"
            )
        if given[-size:] == root[:size] and given[-len(root) :] != root:
            rest = "/".join(root[size:])
            return (
                f"the base URL {shown} ends in /{'/'.join(root[:size])} but the API root's path "
                f"ends in /{'/'.join(root)}: is /{rest} missing? Documented: "
                f"{profile.default_base_url}"
            )
    return None


@dataclass(frozen=True)
class Answered:
    """One final answer of the run, as this rule needs it."""

    interaction: Interaction
    keyed: bool  # sent with the configured key


def _documented(interaction: Interaction, contracts: Contracts) -> bool:
    outcome = classify(interaction.response, contracts)
    if outcome.kind in ("passed", "failed"):
        return True
    return outcome.kind == "request_error" and any(e.code == outcome.code for e in contracts.errors)


# Statuses that say the path is not there (RFC 9110 15.5.5, 15.5.6): without a documented code,
# the request reached something other than the endpoint.
_NOTHING_THERE = frozenset({404, 405})
_PAGE_TYPES = frozenset({"text/html", "application/xhtml+xml"})


def _foreign(interaction: Interaction, contracts: Contracts) -> bool:
    """Whether an answer says the request never reached the endpoint (no word of its API)."""
    if _documented(interaction, contracts):
        return False
    response = interaction.response
    kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
    return response.status in _NOTHING_THERE or (not response.body_is_json and kind in _PAGE_TYPES)


def _key_refused(interaction: Interaction, contracts: Contracts) -> bool:
    """Whether an answer is the error table's answer to a key it does not know (kind "auth")."""
    outcome = classify(interaction.response, contracts)
    auth = {(e.status, e.code) for e in contracts.errors if e.kind == "auth"}
    return outcome.kind == "request_error" and (interaction.response.status, outcome.code) in auth


def _answer(interaction: Interaction, contracts: Contracts) -> str:
    response = interaction.response
    code = contracts.profile.response.error_code.get(response.body)
    if isinstance(code, str) and code:
        return printable(f"HTTP {response.status} {code}")[:120]
    kind = response.headers.get("content-type", "").split(";")[0].strip()
    return printable(f"HTTP {response.status}" + (f" ({kind})" if kind else ""))[:120]


def misconfiguration(
    answers: Iterable[Answered], contracts: Contracts, endpoint: str
) -> str | None:
    """Why the run's answers say its configuration is wrong, naming the fix; else None."""
    answers = list(answers)
    if not answers:
        return None
    root = endpoint.removesuffix(contracts.profile.path)
    where = f"the endpoint is at BASE{contracts.profile.path} (BASE = {printable(root)})"
    seen = sorted({_answer(a.interaction, contracts) for a in answers})
    if all(_foreign(a.interaction, contracts) for a in answers):
        got = (
            seen[0]
            if len(seen) == 1
            else f"{len(seen)} undocumented answers ({', '.join(seen[:3])})"
        )
        return (
            f"configuration: every request to {printable(endpoint)} got {got}, which says "
            f"nothing of the endpoint's API is there: is the base URL right? {where}"
        )
    keyed = [a for a in answers if a.keyed]
    unkeyed = {_answer(a.interaction, contracts) for a in answers if not a.keyed}
    refused = all(_key_refused(a.interaction, contracts) for a in keyed)
    if keyed and refused and {_answer(a.interaction, contracts) for a in keyed} <= unkeyed:
        key_env = contracts.profile.api_key_env
        return (
            f"configuration: requests with the key got what requests without one got "
            f"({', '.join(sorted(unkeyed))}): is {key_env} the key of this endpoint's account, "
            f"and the base URL its region's? {where}"
        )
    return None
