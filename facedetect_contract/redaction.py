"""Keeping API keys out of everything the suite writes or prints.

Redaction happens where bytes leave the process (fixtures, reports, messages), not where they are
read, so a new writer cannot forget it: ``Secret`` never shows its value, and ``redact_headers`` /
``redact_text`` are applied by every writer.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = [
    "API_KEY_ENV",
    "REDACTED",
    "Secret",
    "redact_headers",
    "redact_text",
    "redact_tree",
]

API_KEY_ENV = "DASHSCOPE_API_KEY"
REDACTED = "<redacted>"

# Header names whose value is a credential in any HTTP API this suite may meet through a gateway.
_SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "x-api-key", "api-key", "cookie"}
)
# DashScope keys look like 'sk-' followed by 32 hex characters; gateways use other forms.
_KEY_LIKE = re.compile(r"\bsk-[A-Za-z0-9_-]{8,}|\bBearer\s+[^\s\"'<>]+", re.IGNORECASE)
_PLACEHOLDER = re.compile(r"(\w+ )?<[a-z]+>")


class Secret:
    """An API key that never appears in ``repr``, ``str``, f-strings, pickles or logs."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not value or value != value.strip():
            raise ValueError(
                f"{API_KEY_ENV} is empty or has surrounding whitespace; set it to the bare key"
            )
        self._value = value

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Secret | None:
        """The key from ``DASHSCOPE_API_KEY``, or ``None`` when it is unset or empty."""
        value = (os.environ if environ is None else environ).get(API_KEY_ENV, "")
        return cls(value.strip()) if value.strip() else None

    def reveal(self) -> str:
        """The key itself: only for the Authorization header of an outgoing request."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret({REDACTED})"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("a Secret cannot be pickled")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash((Secret, self._value))


def redact_text(text: str, secrets: Iterable[Secret | str | None] = ()) -> str:
    """``text`` with every given secret and anything key-like replaced by ``<redacted>``."""
    for secret in secrets:
        value = secret.reveal() if isinstance(secret, Secret) else secret
        if value:
            text = text.replace(value, REDACTED)
    return _KEY_LIKE.sub(
        lambda m: ("Bearer " if m.group(0).lower().startswith("bearer") else "") + REDACTED, text
    )


def redact_headers(
    headers: Mapping[str, str], secrets: Iterable[Secret | str | None] = ()
) -> dict[str, str]:
    """Lower-cased headers with credentials replaced; ``Bearer <redacted>`` keeps the scheme."""
    cleaned: dict[str, str] = {}
    for name, value in headers.items():
        lower = name.lower()
        if lower in _SECRET_HEADERS and _PLACEHOLDER.fullmatch(value):
            cleaned[lower] = value  # already a placeholder such as 'Bearer <invalid>'
        elif lower in _SECRET_HEADERS:
            scheme = value.split(" ", 1)[0] if " " in value else ""
            cleaned[lower] = f"{scheme} {REDACTED}".strip()
        else:
            cleaned[lower] = redact_text(value, secrets)
    return cleaned


def redact_tree(value: Any, secrets: Iterable[Secret | str | None] = ()) -> Any:
    """A copy of a JSON value with every string (keys too) passed through ``redact_text``.

    Redact before serialising: on serialised JSON a match can swallow the backslash of an
    escaped quote and leave invalid JSON behind.
    """
    secrets = list(secrets)
    if isinstance(value, str):
        return redact_text(value, secrets)
    if isinstance(value, Mapping):
        return {redact_text(str(k), secrets): redact_tree(v, secrets) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_tree(item, secrets) for item in value]
    return value
