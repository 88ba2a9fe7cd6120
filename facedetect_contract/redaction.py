"""Keeping API keys out of everything the suite writes, prints, logs or raises.

A key is held in a ``Secret`` (no repr, no str, no pickle). Every text that leaves the process
(fixtures, reports, messages, log records) passes a ``Redactor`` first, and the client redacts each
answer after decoding it, before anything can cut or re-encode it. The redactor matches the key
in any letter case, in part (any run of 8 or more of its characters: a key cut at a boundary or
glued to other text), and in the encodings an echo can take: base64 and URL-safe base64 (of the
key and of ``Bearer <key>``), hex and percent-encoding. JSON escapes need no pattern: redaction
acts on decoded values, never on serialised JSON.
"""

from __future__ import annotations

import base64
import binascii
import functools
import logging
import os
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import quote

__all__ = [
    "REDACTED",
    "Redactor",
    "Secret",
    "redact_headers",
    "redact_log_records",
    "redact_text",
    "redact_tree",
]

REDACTED = "<redacted>"
# The shortest run of a key's characters that is redacted where it appears: shorter runs occur
# in ordinary text. A key must be at least this long to be accepted.
MIN_RUN = 8
MAX_KEY_LENGTH = 4096

# Header names whose value is a credential in any HTTP API this suite may meet through a gateway.
_SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "x-api-key", "api-key", "cookie", "set-cookie"}
)
# Those of them whose value is "<scheme> <credentials>" (RFC 9110, 11.6.2 and 11.7.2): the scheme
# is kept. Any other's value is all credential (a cookie's first word is a cookie).
_SCHEME_HEADERS = frozenset({"authorization", "proxy-authorization"})
# Key-like text with no configured key to match it: DashScope keys ('sk-' and 32 hex characters)
# and bearer tokens.
_KEY_LIKE = re.compile(
    r"(?<![A-Za-z0-9])sk-[A-Za-z0-9_-]{8,}|\bBearer\s+[^\s\"'<>]+", re.IGNORECASE
)
_PLACEHOLDER = re.compile(r"(\w+ )?<[a-z]+>")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


class Secret:
    """An API key that never appears in ``repr``, ``str``, f-strings, pickles or logs."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not value or value != value.strip():
            raise ValueError("the API key is empty or has surrounding whitespace; set the bare key")
        if not all("!" <= char <= "~" for char in value):
            raise ValueError(
                "the API key holds a character that is not printable ASCII (a space, a newline, "
                "a non-ASCII letter): HTTP cannot send it in a header; set the key as issued"
            )
        if not MIN_RUN <= len(value) <= MAX_KEY_LENGTH:
            raise ValueError(
                f"the API key is {len(value)} characters long; a key of {MIN_RUN} to "
                f"{MAX_KEY_LENGTH} characters is expected: check what the variable holds"
            )
        self._value = value

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, *, name: str | None = None
    ) -> Secret | None:
        """The key from the profile's key variable (or ``name``); ``None`` when unset or empty.

        ``ValueError`` (which names the variable, never the value) for a malformed key.
        """
        if name is None:
            from .contracts import load_contracts  # noqa: PLC0415  # the profile names the variable

            name = load_contracts().profile.api_key_env
        value = (os.environ if environ is None else environ).get(name, "")
        if not value.strip():
            return None
        try:
            return cls(value.strip())
        except ValueError as exc:
            raise ValueError(f"{name}: {exc}") from None

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


def _base64_cores(text: str) -> set[str]:
    """The parts of ``text``'s base64 forms that do not depend on what surrounds it.

    base64 maps 3 bytes to 4 characters, so text placed at offset 0, 1 or 2 (mod 3) inside a
    longer string encodes differently; the middle of each alignment is the same wherever it is.
    """
    data = text.encode()
    cores: set[str] = set()
    for offset in range(3):
        padded = b"\0" * offset + data
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            encoded = encode(padded).decode()
            start = 4 if offset else 0  # the first quantum holds the unknown prefix
            end = (len(padded) // 3) * 4  # the last, partial quantum holds the unknown suffix
            core = encoded[start:end]
            if len(core) >= MIN_RUN:
                cores.add(core)
    return cores


class Redactor:
    """Replaces every form of the given keys, and anything key-like, by ``<redacted>``."""

    def __init__(self, secrets: Iterable[Secret | str | None] = ()) -> None:
        values = []
        for secret in secrets:
            value = secret.reveal() if isinstance(secret, Secret) else secret
            if value and len(value) >= MIN_RUN and value not in values:
                values.append(value)
        self._keys = tuple(values)
        forms: set[str] = set()
        for value in values:
            forms |= _base64_cores(value) | _base64_cores(f"Bearer {value}")
            forms.add(binascii.hexlify(value.encode()).decode())
            forms.add(quote(value, safe=""))
        # Longest first, so that a whole form wins over a run inside it.
        ordered = sorted(forms - set(values), key=len, reverse=True)
        self._forms = (
            re.compile("|".join(map(re.escape, ordered)), re.IGNORECASE) if ordered else None
        )
        self._lowered = tuple(value.translate(_ASCII_LOWER) for value in values)
        grams = {
            key[i : i + MIN_RUN] for key in self._lowered for i in range(len(key) - MIN_RUN + 1)
        }
        self._grams = re.compile("|".join(map(re.escape, sorted(grams)))) if grams else None

    def __repr__(self) -> str:
        return f"Redactor(keys={len(self._keys)})"

    def _runs(self, text: str) -> list[tuple[int, int]]:
        """Spans of ``text`` that are runs of at least MIN_RUN characters of a key (any case).

        The search finds each run by its first MIN_RUN characters, leftmost first, and the run
        is then extended as far as it stays a part of one key.
        """
        assert self._grams is not None
        lowered = text.translate(_ASCII_LOWER)  # keys are ASCII; other characters keep their place
        spans: list[tuple[int, int]] = []
        position = 0
        while (match := self._grams.search(lowered, position)) is not None:
            start, end = match.span()
            gram = lowered[start:end]
            for key in self._lowered:
                offset = key.find(gram)
                while offset >= 0:
                    length = MIN_RUN
                    while (
                        start + length < len(lowered)
                        and offset + length < len(key)
                        and lowered[start + length] == key[offset + length]
                    ):
                        length += 1
                    end = max(end, start + length)
                    offset = key.find(gram, offset + 1)
            spans.append((start, end))
            position = end
        return spans

    def text(self, text: str) -> str:
        """``text`` with every form of the keys and anything key-like replaced."""
        if self._forms is not None:  # first: a run of the key inside a form must not break it
            text = self._forms.sub(REDACTED, text)
        if self._grams is not None and self._grams.search(text.translate(_ASCII_LOWER)):
            pieces, last = [], 0
            for start, end in self._runs(text):
                pieces += [text[last:start], REDACTED]
                last = end
            text = "".join(pieces) + text[last:]
        return _KEY_LIKE.sub(
            lambda m: ("Bearer " if m.group(0).lower().startswith("bearer") else "") + REDACTED,
            text,
        )

    def tree(self, value: Any) -> Any:
        """A copy of a JSON value with every string (keys too) redacted.

        Redact before serialising: on serialised JSON a match can swallow the backslash of an
        escaped quote and leave invalid JSON behind, and an escaped key (``\\u0073k-``) would not
        match at all.
        """
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {self.text(str(k)): self.tree(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.tree(item) for item in value]
        return value

    def headers(self, headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, str]:
        """Lower-cased headers, names and values redacted; a credential header loses its value.

        ``Authorization`` (and ``Proxy-Authorization``) keep the scheme, ``Bearer <redacted>``;
        the other credential headers (cookies, API-key headers) become ``<redacted>`` whole. A
        placeholder such as ``Bearer <invalid>`` is kept as it is.
        """
        items = headers.items() if isinstance(headers, Mapping) else headers
        cleaned: dict[str, str] = {}
        for name, value in items:
            lower = self.text(name).lower()
            if lower in _SECRET_HEADERS and _PLACEHOLDER.fullmatch(value):
                cleaned[lower] = value
            elif lower in _SECRET_HEADERS:
                words = value.split(None, 1)  # the scheme ends at any whitespace (a tab too)
                has_scheme = lower in _SCHEME_HEADERS and len(words) == 2
                scheme = words[0] if has_scheme else ""
                cleaned[lower] = f"{self.text(scheme)} {REDACTED}".strip()
            else:
                cleaned[lower] = self.text(value)
        return cleaned


@functools.lru_cache(maxsize=32)
def _redactor(values: tuple[str, ...]) -> Redactor:
    return Redactor(values)


def _of(secrets: Iterable[Secret | str | None]) -> Redactor:
    values = tuple(
        value for value in (s.reveal() if isinstance(s, Secret) else s for s in secrets) if value
    )
    return _redactor(values)


def redact_text(text: str, secrets: Iterable[Secret | str | None] = ()) -> str:
    """``text`` with every form of the given secrets and anything key-like redacted."""
    return _of(secrets).text(text)


def redact_headers(
    headers: Mapping[str, str], secrets: Iterable[Secret | str | None] = ()
) -> dict[str, str]:
    """See ``Redactor.headers``."""
    return _of(secrets).headers(headers)


def redact_tree(value: Any, secrets: Iterable[Secret | str | None] = ()) -> Any:
    """See ``Redactor.tree``."""
    return _of(secrets).tree(value)


_factory_lock = threading.Lock()


def redact_log_records(secrets: Iterable[Secret | str | None]) -> Callable[[], None]:
    """Redact every log record made from now on, by any logger (httpx's and httpcore's too).

    A record factory, not a filter: a filter sees only the records of the logger it is attached
    to (not its children's), and a handler filter only the handlers it is given; the factory
    sees every record as it is made. The message is rendered and redacted at once, and so is
    any traceback. Returns the function that removes it again.
    """
    redactor = Redactor(secrets)
    with _factory_lock:
        previous = logging.getLogRecordFactory()

        def factory(*args: object, **kwargs: object) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            try:
                message = record.getMessage()
            except Exception:  # a malformed %-format: keep its parts, redacted
                message = f"{record.msg!r} % {record.args!r}"
            record.msg, record.args = redactor.text(message), None
            if record.exc_info:
                record.exc_text = redactor.text(
                    logging.Formatter().formatException(record.exc_info)
                )
                record.exc_info = None
            if record.stack_info:
                record.stack_info = redactor.text(record.stack_info)
            return record

        logging.setLogRecordFactory(factory)

    def uninstall() -> None:
        with _factory_lock:
            if logging.getLogRecordFactory() is factory:
                logging.setLogRecordFactory(previous)

    return uninstall
