"""Keeping API keys out of everything the suite writes, prints, logs or raises.

A key is held in a ``Secret`` (no repr, no str, no pickle). Every text that leaves the process
(fixtures, reports, messages, log records) passes a ``Redactor`` first, and the client redacts each
answer after decoding it, before anything can cut or re-encode it. The redactor matches the key
in any letter case, in part (any run of 8 or more of its characters: a key cut at a boundary or
glued to other text), and in the encodings an echo can take: base64 and URL-safe base64 (of the
key and of ``Bearer <key>``, padded or not) and hex as whole forms; and, character by character,
so that mixed forms and runs of 8 match too, what gateways, error pages and log formatters write:
percent-encoding of any byte in either case (``%7a``, ``%7A``, double ``%257A``), HTML character
references (``&#122;``, ``&#x7A;``, leading zeros, the named ``&amp;``...), JSON escapes left in
text (``\\u007a``, ``\\/``), Unicode fullwidth forms, and whitespace or zero-width characters
inserted between characters (a wrapped line). Not matched, as no echo writes them: base32, the key
reversed, ``+`` for a space (a key holds none). Redaction acts on decoded values, never on
serialised JSON.

Only what is written or shown is redacted: the suite judges the answer as it came (a key that
shares words with the API must not change a verdict), and refuses a key whose redaction would
erase the API's own words from every report (``key_problem``).
"""

from __future__ import annotations

import base64
import binascii
import functools
import logging
import os
import re
import threading
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping
from html.entities import html5
from typing import Any

__all__ = [
    "REDACTED",
    "Redactor",
    "Secret",
    "key_problem",
    "mask_credentials",
    "redact_headers",
    "redact_log_records",
    "redact_text",
    "redact_tree",
]

REDACTED = "<redacted>"
# The shortest run of a key's characters that is redacted where it appears: shorter runs occur
# in ordinary text. A key must be at least this long to be accepted.
MIN_RUN = 8
# An encoded form (base64, hex) of a key is matched in part from this many characters on; its
# grams are taken every FORM_STRIDE characters, so that any run of FORM_RUN holds one.
FORM_STRIDE = 4
FORM_RUN = MIN_RUN + FORM_STRIDE - 1
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
# What may stand between two characters of an echoed key: whitespace (a wrapped line, a folded
# header; none lies past U+3000) and the invisible characters a formatter or a hostile echo
# inserts. A str.translate table: dropping them that way is ten times faster than re.sub.
_DROP_SEPARATORS = dict.fromkeys(
    [c for c in range(0x3001) if chr(c).isspace()]
    + [0xAD, 0x180E, 0xFEFF]
    + [*range(0x200B, 0x2010), *range(0x2060, 0x2065)]
)
# The same characters, for a regex character class.
_SEPARATORS = "".join(re.escape(chr(c)) for c in _DROP_SEPARATORS)
# One character written in an encoding an echo takes; each group decodes it (see _decoded).
_ENCODED = re.compile(
    r"%(?:25)*([0-9A-Fa-f]{2})"  # percent-encoding, either case, encoded again any times
    r"|&#0*([0-9]{1,7});?"  # HTML decimal reference (the ';' is optional in HTML too)
    r"|&#[xX]0*([0-9A-Fa-f]{1,6});?"  # HTML hex reference
    r"|&(amp|lt|gt|quot|apos);"  # what html.escape and gateways' error pages write
    r"|\\+u([0-9A-Fa-f]{4})"  # a JSON escape left in text, escaped again any times
    r"|\\([\"\\/])"  # the other JSON escapes a key's characters can take
    r"|([\uff01-\uff5e])"  # fullwidth forms of printable ASCII
)
_DROPPED = frozenset(map(chr, _DROP_SEPARATORS))
_HINTS = re.compile(f"[%&\\\\\uff01-\uff5e{_SEPARATORS}]")


def _decoded(match: re.Match[str]) -> str:
    """The one character an ``_ENCODED`` match stands for."""
    # The last seven groups: ``_TOKEN`` puts its separator group before them.
    percent, decimal, hexa, named, unicode, escaped, wide = match.groups()[-7:]
    if escaped is not None:
        return escaped
    if named is not None:
        return html5[f"{named};"]
    if wide is not None:
        return chr(ord(wide) - 0xFEE0)
    number = (
        int(percent, 16)
        if percent is not None
        else int(decimal)
        if decimal is not None
        else int(hexa or unicode, 16)
    )
    return chr(number) if number <= 0x10FFFF else "\ufffd"


_TOKEN = re.compile(f"(?P<separator>[{_SEPARATORS}]+)|{_ENCODED.pattern}")
# Percent-encoded once only: a key holding '%41', encoded once, reads '%2541', which _TOKEN takes
# for 'A' encoded twice.
_TOKEN_ONCE = re.compile(_TOKEN.pattern.replace("%(?:25)*(", "%(", 1))
_ENCODED_ONCE = re.compile(_ENCODED.pattern.replace("%(?:25)*(", "%(", 1))
# Where the two readings of percent-encoding differ: an encoded '%' ('%25ab' is '%ab' read once,
# the byte 0xAB read twice). Elsewhere they read the same.
_ENCODED_PERCENT = "%25"


class _Decoding:
    """``text`` with every encoded character decoded and every separator dropped, and the way
    back: a span of the decoded text to the span of ``text`` it came from."""

    __slots__ = ("_decoded_at", "_kinds", "_source_at", "_source_end", "text")

    def __init__(self, text: str, tokens: re.Pattern[str] = _TOKEN) -> None:
        pieces: list[str] = []
        # Segments, in order: where each starts in the decoded text and in ``text``, its
        # length in ``text``, and whether it is literal (one character for one) or one token.
        self._decoded_at: list[int] = []
        self._source_at: list[int] = []
        self._source_end: list[int] = []
        self._kinds: list[bool] = []
        at, last = 0, 0
        for match in tokens.finditer(text):
            start, end = match.span()
            if start > last:
                self._segment(at, last, start, literal=True)
                pieces.append(text[last:start])
                at += start - last
            # A separator, or one written as an escape (a terminal shows U+200B as '\u200b').
            if match.lastgroup != "separator" and (char := _decoded(match)) not in _DROPPED:
                self._segment(at, start, end, literal=False)
                pieces.append(char)
                at += 1
            last = end
        if last < len(text):
            self._segment(at, last, len(text), literal=True)
            pieces.append(text[last:])
        self.text = "".join(pieces)

    def _segment(self, at: int, start: int, end: int, *, literal: bool) -> None:
        self._decoded_at.append(at)
        self._source_at.append(start)
        self._source_end.append(end)
        self._kinds.append(literal)

    def source(self, start: int, end: int) -> tuple[int, int]:
        """The span of the original text that decoded to ``[start, end)`` (``end > start``)."""
        first = bisect_right(self._decoded_at, start) - 1
        last = bisect_right(self._decoded_at, end - 1) - 1
        begin = self._source_at[first] + (
            start - self._decoded_at[first] if self._kinds[first] else 0
        )
        finish = (
            self._source_at[last] + end - self._decoded_at[last]
            if self._kinds[last]
            else self._source_end[last]
        )
        return begin, finish


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
    def from_env(cls, environ: Mapping[str, str] | None = None, *, name: str) -> Secret | None:
        """The key from the variable ``name`` (the profile names it: ``api_key_env``); ``None``
        when unset or empty.

        ``ValueError`` (which names the variable, never the value) for a malformed key.
        """
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
        # Matched in lower-cased text (a regex with IGNORECASE is several times slower); longest
        # first, so that a whole form wins over a run inside it.
        lowered = {form.translate(_ASCII_LOWER) for form in forms - set(values)}
        lowered_forms = sorted(lowered, key=len, reverse=True)
        self._forms = re.compile("|".join(map(re.escape, lowered_forms))) if lowered_forms else None
        self._lowered = tuple(value.translate(_ASCII_LOWER) for value in values)
        grams = {
            key[i : i + MIN_RUN] for key in self._lowered for i in range(len(key) - MIN_RUN + 1)
        }
        self._grams = re.compile("|".join(map(re.escape, sorted(grams)))) if grams else None
        # A form cut short (a message quotes the first 120 characters of an answer: judged as
        # it came, the answer is cut before it is redacted) is matched by its runs of FORM_RUN
        # characters or more: each holds one of these grams, taken every FORM_STRIDE characters
        # (all of them would cost a substring scan each, on every answer).
        self._form_sources = tuple(lowered_forms)
        form_grams = {
            form[i : i + MIN_RUN]
            for form in lowered_forms
            for i in range(0, len(form) - MIN_RUN + 1, FORM_STRIDE)
        }
        # Found where they overlap too (a lookahead): a gram that begins just before a run would
        # otherwise hide the run's only gram ('3334353' + '67776b65792' holds one at each).
        self._form_grams = (
            re.compile(f"(?=({'|'.join(map(re.escape, sorted(form_grams)))}))")
            if form_grams
            else None
        )
        self._parts = tuple(grams | form_grams)

    def __repr__(self) -> str:
        return f"Redactor(keys={len(self._keys)})"

    # It holds the keys: never pickled (a pickle is a file), shared rather than copied.
    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("a Redactor cannot be pickled")

    def __copy__(self) -> Redactor:
        return self

    def __deepcopy__(self, memo: dict[int, object]) -> Redactor:
        return self

    def _runs(self, lowered: str) -> list[tuple[int, int]]:
        """Spans of ``lowered`` that are runs of at least MIN_RUN characters of a key.

        The search finds each run by its first MIN_RUN characters, leftmost first, and the run
        is then extended as far as it stays a part of one key.
        """
        assert self._grams is not None
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

    def _spans(self, text: str) -> list[tuple[int, int]]:
        """Spans of ``text`` holding a form of a key or a run of one, merged, in order."""
        lowered = text.translate(_ASCII_LOWER)
        spans: list[tuple[int, int]] = []
        if self._forms is not None:
            spans += [m.span() for m in self._forms.finditer(lowered)]
        if self._form_grams is not None:  # a form cut short: where no whole form is
            wholes = list(spans)
            spans += [
                (start, end)
                for start, end in self._form_runs(lowered)
                if not any(start < w_end and w_start < end for w_start, w_end in wholes)
            ]
        if self._grams is not None:
            spans += self._runs(lowered)
        return _merged(spans)

    def _form_runs(self, lowered: str) -> list[tuple[int, int]]:
        """Spans of ``lowered`` that are runs of FORM_RUN or more characters of a form, found by
        a gram and extended both ways as far as they stay part of that form."""
        assert self._form_grams is not None
        spans: list[tuple[int, int]] = []
        for match in self._form_grams.finditer(lowered):
            start, end = match.span(1)
            gram = lowered[start:end]
            for form in self._form_sources:
                offset = form.find(gram)
                while offset >= 0:
                    left = 0
                    while (
                        left < min(start, offset)
                        and lowered[start - left - 1] == form[offset - left - 1]
                    ):
                        left += 1
                    right = MIN_RUN
                    while (
                        start + right < len(lowered)
                        and offset + right < len(form)
                        and lowered[start + right] == form[offset + right]
                    ):
                        right += 1
                    if left + right >= FORM_RUN:
                        spans.append((start - left, start + right))
                    offset = form.find(gram, offset + 1)
        return spans

    def _found(self, text: str) -> bool:
        """Whether ``text`` holds a form or a run of a key: substring tests, which are several
        times faster than the regexes that then find where."""
        lowered = text.translate(_ASCII_LOWER)
        return any(part in lowered for part in self._parts)

    def text(self, text: str) -> str:
        """``text`` with every form of the keys and anything key-like replaced."""
        if self._keys:
            text = self._replaced(text)
        return _KEY_LIKE.sub(
            lambda m: ("Bearer " if m.group(0).lower().startswith("bearer") else "") + REDACTED,
            text,
        )

    def _replaced(self, text: str) -> str:
        """``text`` with the spans of every view of it that hold a key replaced: as it is, and
        decoded (percent-encoding read as often as it was applied, and read once too where the
        text holds an encoded '%'). The views' spans are merged, so that a run one view sees does
        not cut the whole key another view sees."""
        spans: list[tuple[int, int]] = []
        # The view as it is, always: decoding can take a key's first characters into an escape
        # that the text around it began ('&#' before '000000000-...' reads as one character).
        if self._found(text):
            spans += self._spans(text)
        # With nothing encoded and nothing between characters, the view as it is is the only one.
        if _HINTS.search(text) is None:
            return _replace(text, _merged(spans)) if spans else text
        # '%25' reads differently once and as often as it can be read: a key holding '%'
        # ('%2541' is its '%41'), or a run after an encoded '%' ('%25ab' is '%ab', not U+00AB).
        readings = [(_ENCODED, _TOKEN)]
        if _ENCODED_PERCENT in text:
            readings.append((_ENCODED_ONCE, _TOKEN_ONCE))
        for encoded, tokens in readings:
            # Cheap first: is a key there once decoded? Most text with a space is not.
            if self._found(encoded.sub(_decoded, text).translate(_DROP_SEPARATORS)):
                decoding = _Decoding(text, tokens)
                spans += [decoding.source(*span) for span in self._spans(decoding.text)]
        return _replace(text, _merged(spans)) if spans else text

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


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start < merged[-1][1]:  # overlapping; adjacent ones stay two
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _replace(text: str, spans: list[tuple[int, int]]) -> str:
    pieces, last = [], 0
    for start, end in spans:
        pieces += [text[last:start], REDACTED]
        last = end
    return "".join(pieces) + text[last:]


def mask_credentials(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Lower-cased headers with the credential headers' values masked (see ``Redactor.headers``)
    and every other value as it is: the request as judged, which no key's spelling can change."""
    masked: dict[str, str] = {}
    for name, value in headers:
        lower = name.lower()
        masked.update(
            _KEYLESS.headers([(lower, value)]) if lower in _SECRET_HEADERS else {lower: value}
        )
    return masked


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


_KEYLESS = Redactor()
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


def key_problem(secret: Secret | str, vocabulary: Iterable[str] = ()) -> str | None:
    """Why ``secret`` cannot be redacted without destroying what the suite writes, or ``None``.

    The rule: a key is refused when it is shorter than MIN_RUN characters (its runs would match
    ordinary text), or when redacting it changes a word of the API's ``vocabulary`` (it shares a
    run of MIN_RUN characters with a field name, an error code, a message, a model name...):
    every report, fixture and message would then lose that word. Judging never depends on the
    key (answers are judged before redaction), so this is about what the reports can still say.
    The message names the word and never the key.
    """
    value = secret.reveal() if isinstance(secret, Secret) else secret
    if len(value) < MIN_RUN:
        return (
            f"the API key is {len(value)} characters long; a key shorter than {MIN_RUN} "
            f"characters cannot be told from ordinary text, so it cannot be redacted: set the "
            f"key as issued"
        )
    redactor = Redactor([value])
    # The shortest word it would erase: the one a reader recognises soonest.
    erased = sorted(
        (word for word in vocabulary if redactor.text(word) != _KEYLESS.text(word)),
        key=lambda word: (len(word), word),
    )
    if erased:
        word = erased[0] if len(erased[0]) <= 60 else erased[0][:57] + "..."
        return (
            f"the API key shares {MIN_RUN} or more characters with the API's own word "
            f"{word!r}: redacting the key would erase that word from every report, fixture "
            f"and message. Use a key (or a gateway token) that holds no word of the API"
        )
    return None
