"""Is it the run's configuration, not the endpoint, that is wrong? Decided before drift is judged.

A mistyped base URL (``/api`` forgotten, or the whole endpoint URL pasted as the base) or a
gateway that answers every request with its own page is not the provider changing the API: a run
that reported it as drift would page someone at night for a typo. Two rules, each with its line
drawn where a documented answer begins:

- ``base_url_problem``, before anything is sent: a base URL whose path holds the endpoint's path,
  or ends in part of the documented API root's path but not all of it (``/v1`` or ``/api`` for
  ``/api/v1``), is a usage error naming the likely fix. Any other prefix (a gateway's
  ``/dashscope/api/v1``, a stub's own root) is accepted: the second rule stands behind it.
- ``misconfiguration``, after the answers are in: when no answer of the run is one the contracts
  document (no check result, no documented error code, under any status), nothing was judged
  against the endpoint; the run is an error of its configuration naming what every request got.
  One documented answer is enough to judge the rest as drift: a retired model answering
  ``404 ModelNotFound`` (a documented code) stays drift. So does a run whose keyed requests got
  the answer of the request without a key, when that answer is documented (``401
  InvalidApiKey``): the key is wrong, which is the run's configuration too, named as such.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from .contracts import Contracts
from .inert import printable
from .interaction import Interaction
from .outcome import classify

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
        if given[start : start + len(endpoint)] == endpoint or (
            given[start:] and given[start:] == endpoint[: len(given) - start]
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
        if given[-size:] == root[:size] and size < len(root) and given[-len(root) :] != root:
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
    if not any(_documented(a.interaction, contracts) for a in answers):
        got = (
            seen[0]
            if len(seen) == 1
            else f"{len(seen)} undocumented answers ({', '.join(seen[:3])})"
        )
        return (
            f"configuration: every request to {printable(endpoint)} got {got}, an answer no "
            f"documented reading explains: is the base URL right? {where}"
        )
    keyed = [a for a in answers if a.keyed]
    unkeyed = {_answer(a.interaction, contracts) for a in answers if not a.keyed}
    if keyed and unkeyed and {_answer(a.interaction, contracts) for a in keyed} <= unkeyed:
        key_env = contracts.profile.api_key_env
        return (
            f"configuration: requests with the key got what requests without one got "
            f"({', '.join(sorted(unkeyed))}): is {key_env} the key of this endpoint's account, "
            f"and the base URL its region's? {where}"
        )
    return None
