"""The face-detect client: one httpx client for every mode, and typed results.

Users import it; the suite uses it offline (respx in front of the fake), against the stub server
and live. The key comes from the profile's key variable (``DASHSCOPE_API_KEY``) only and lives in
a ``Secret`` that is added to the request by an ``httpx.Auth`` flow, so no frame, repr or message
of this module holds it. Every answer is read within a deadline and a size cap and decoded; the
interaction keeps it as it came, for judging (a key that shares words with the API must not change
a verdict), and carries the client's redactor, through which every ``to_dict`` and ``repr`` of it
passes; the messages of the errors raised here are redacted. Whatever the transport raises
becomes a typed error whose message holds no byte of the exchange.
"""

from __future__ import annotations

import dataclasses
import email.utils
import itertools
import json
import os
import random
import re
import ssl
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import EllipsisType
from typing import Any, Literal

import httpx

from .contracts import faults
from .contracts.loader import Contracts, load_contracts
from .contracts.outcome import Outcome, classify
from .contracts.profile import NotInProfile, RatioParameter
from .core.interaction import Interaction, RecordedRequest, RecordedResponse
from .core.redaction import Redactor, Secret, mask_credentials
from .core.transport import DeadlineTransport, TLSSettingsError, deadline

__all__ = [
    "INVALID_KEY",
    "MAX_RESPONSE_BYTES",
    "AccessDenied",
    "Auth",
    "AuthenticationFailed",
    "CheckFailed",
    "CheckPassed",
    "EndpointBroken",
    "EndpointUnreachable",
    "FaceDetectClient",
    "FaceDetectError",
    "InvalidRequest",
    "ModelNotFound",
    "RequestError",
    "ServerError",
    "Throttled",
    "UnexpectedResponse",
    "endpoint_url",
    "recorded_request",
    "retry_after_seconds",
]

INVALID_KEY = "sk-invalid-0000000000000000"  # a key the endpoint cannot know, for 401 probes
# No documented answer is larger than a kilobyte; an answer beyond this is not read to its end.
MAX_RESPONSE_BYTES = 4 * 1024 * 1024

Auth = Literal["key", "none", "invalid"]
"""How a request authenticates: the configured key, no Authorization, or an unknown key."""


def _shown(url: httpx.URL) -> str:
    """A URL as it may appear in a message: scheme, host, port and path only."""
    port = f":{url.port}" if url.port else ""
    return f"{url.scheme}://{url.host}{port}{url.path}"


def endpoint_url(
    base_url: str | None = None,
    environ: Mapping[str, str] | None = None,
    contracts: Contracts | None = None,
) -> str:
    """``base_url`` (else the base-URL variable, else the default) plus the endpoint path.

    ``ValueError`` when it is not an http(s) API root; the message never repeats user info, a
    query or a fragment, where a key could hide.
    """
    profile = (contracts or load_contracts()).profile
    # Precedence: the explicit argument (an option), then the environment, then the default.
    source = "the base URL option" if base_url else f"${profile.base_url_env}"
    base = (
        base_url
        or (os.environ if environ is None else environ).get(profile.base_url_env)
        or profile.default_base_url
    )
    try:
        parsed = httpx.URL(base)
        shown = repr(_shown(parsed)) if parsed.host else "(unparseable)"
    except (httpx.InvalidURL, ValueError, TypeError):
        parsed, shown = httpx.URL("invalid:"), "(unparseable)"
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ValueError(
            f"base URL {shown} (from {source}) is not an http(s) URL; give the API root, "
            f"such as {profile.default_base_url}"
        )
    if parsed.userinfo:
        raise ValueError(
            f"base URL {shown} (from {source}) carries credentials (user:password@); remove "
            f"them: the key goes in {profile.api_key_env} only"
        )
    if parsed.query or parsed.fragment:
        raise ValueError(
            f"base URL {shown} (from {source}) carries a query or a fragment (not shown, it "
            f"may hold a key); give the API root alone"
        )
    return str(parsed.copy_with(path=parsed.path.rstrip("/") + profile.path))


def _ratio_to_send(model: str, ratio: RatioParameter) -> str:
    """The ratio ``detect`` sends when none is given: the documented default, else the one
    documented value; ``NotInProfile`` (a ``ValueError``) when the docs leave the choice open."""
    if ratio.default is not None:
        return ratio.default
    if len(ratio.values) == 1:
        return ratio.values[0]
    raise NotInProfile(
        model,
        "default_ratio",
        f"documented default ratio ({ratio.field} has none: pass one of {list(ratio.values)})",
    )


# --- results ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckPassed:
    """The portrait passed, with the boxes the model gives (its profile's ``/shape/boxes``):
    the face box and the crop box for emo-detect-v1 and emoji-detect-v1; ``None`` for a model
    that gives none (liveportrait-detect), never an ``AttributeError``."""

    face_bbox: tuple[int, int, int, int] | None
    ext_bbox: tuple[int, int, int, int] | None
    request_id: str
    image_count: int
    humanoid: bool | None
    interaction: Interaction


@dataclass(frozen=True)
class CheckFailed:
    """The portrait failed. Shape A: HTTP 200 (billed); shape B: HTTP 400 ``InvalidFile.*``.
    ``code`` and ``message`` are read where the model's failure carries them (emoji-detect-v1:
    ``output.code``; liveportrait-detect: no code, ``""``, and the reason in ``output.message``).
    """

    code: str
    message: str
    shape: str
    billed: bool
    request_id: str
    interaction: Interaction


class FaceDetectError(Exception):
    """Base of everything the client raises. ``timed_out``: a transport fault that was a
    deadline or timeout running out (not a refusal, not a broken answer)."""

    timed_out = False


class EndpointUnreachable(FaceDetectError):
    """Timeout, refused connection or other transport failure: an error of the run, not drift."""


class EndpointBroken(FaceDetectError):
    """An answer that could not be read: cut short, undecodable, over the size cap, or not
    complete by the deadline. An error of the run, not drift."""


class UnexpectedResponse(FaceDetectError):
    """A response no documented reading explains (not JSON, unknown status, malformed boxes)."""

    def __init__(self, reason: str, interaction: Interaction) -> None:
        super().__init__(f"HTTP {interaction.response.status}: {reason}")
        self.reason = reason
        self.interaction = interaction


class RequestError(FaceDetectError):
    """A documented request failure: HTTP 4xx/5xx with ``code``, ``message``, ``request_id``."""

    def __init__(
        self,
        *,
        status: int,
        code: str | None,
        message: str,
        request_id: str | None,
        retryable: bool,
        retry_after: float | None,
        interaction: Interaction,
    ) -> None:
        super().__init__(
            f"HTTP {status} {code or '(no code)'}: {message} (request id {request_id})"
        )
        self.status = status
        self.code = code
        self.message = message
        self.request_id = request_id
        self.retryable = retryable
        self.retry_after = retry_after
        self.interaction = interaction


class InvalidRequest(RequestError):
    """HTTP 400: a parameter, the URL or the image was rejected."""


class AuthenticationFailed(RequestError):
    """HTTP 401 ``InvalidApiKey``: no key or an unknown key."""


class AccessDenied(RequestError):
    """HTTP 403: account, model or workspace access, or the async header."""


class ModelNotFound(RequestError):
    """HTTP 404 ``ModelNotFound``."""


class Throttled(RequestError):
    """HTTP 429: rate or quota exceeded; ``retry_after`` holds the server's hint in seconds."""


class ServerError(RequestError):
    """HTTP 5xx: server side, retryable."""


_ERROR_CLASSES: Mapping[int, type[RequestError]] = {
    400: InvalidRequest,
    401: AuthenticationFailed,
    403: AccessDenied,
    404: ModelNotFound,
    429: Throttled,
}
_SECONDS = re.compile(r"[0-9]{1,9}")  # delay-seconds (RFC 9110 10.2.3), ASCII digits only


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """The ``Retry-After`` hint in seconds (delay-seconds or an HTTP date), ``None`` if absent
    or malformed (``²``, ``-1``, ``NaN``, ``1.5`` are all malformed)."""
    value = headers.get("retry-after")
    if value is None:
        return None
    value = value.strip()
    if _SECONDS.fullmatch(value):
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def recorded_request(
    redactor: Redactor,
    method: str,
    headers: Iterable[tuple[str, str]],
    content: bytes,
    auth: Auth,
) -> RecordedRequest:
    """The request as sent, for judging: credential headers masked (an invalid key is recorded
    as ``Bearer <invalid>``), the framing (Content-Length) left out, the body as it was. Written
    or shown, it passes ``redactor``. The client and the in-process exchange record through this,
    so the two cannot disagree."""
    recorded_headers = mask_credentials(headers)
    recorded_headers.pop("content-length", None)
    if auth == "invalid":
        recorded_headers["authorization"] = "Bearer <invalid>"
    try:
        body: Any = json.loads(content)
        body_text = None
    except ValueError:
        body, body_text = None, content.decode("utf-8", errors="replace")
    return RecordedRequest(method, recorded_headers, body, body_text, redactor=redactor)


class _BearerAuth(httpx.Auth):
    def __init__(self, secret: Secret) -> None:
        self._secret = secret

    def auth_flow(self, request: httpx.Request):  # type: ignore[no-untyped-def]  # httpx's generator protocol
        request.headers["Authorization"] = "Bearer " + self._secret.reveal()
        yield request

    def __repr__(self) -> str:
        return "_BearerAuth(<redacted>)"


# What a transport failure says, by type: never the exception's own text, which may quote bytes.
_TRANSPORT_FAULTS: tuple[tuple[type[BaseException], type[FaceDetectError], str], ...] = (
    (httpx.ConnectTimeout, EndpointUnreachable, "no connection within the deadline"),
    (httpx.ConnectError, EndpointUnreachable, "the connection was refused or failed"),
    (httpx.TimeoutException, EndpointBroken, "no complete answer within the deadline"),
    (httpx.DecodingError, EndpointBroken, "the body does not decode as its Content-Encoding says"),
    (httpx.RemoteProtocolError, EndpointBroken, "the answer broke HTTP (cut short or malformed)"),
    (httpx.LocalProtocolError, EndpointBroken, "the request could not be sent as HTTP"),
    (httpx.NetworkError, EndpointBroken, "the connection broke during the exchange"),
    (httpx.UnsupportedProtocol, EndpointUnreachable, "the URL's scheme is not HTTP"),
)


def _certificate_refused(exc: BaseException) -> ssl.SSLCertVerificationError | None:
    """The certificate error behind a transport fault (httpx and httpcore wrap it), if any."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        error = todo.pop()
        if error is None or id(error) in seen:
            continue
        seen.add(id(error))
        if isinstance(error, ssl.SSLCertVerificationError):
            return error
        todo += [error.__cause__, error.__context__]
    return None


# --- the client ------------------------------------------------------------------------------


class FaceDetectClient:
    """Calls the endpoint and types the answer.

    Retries the endpoint's faults (``contracts.faults``: throttled, the error table's retryable
    statuses, gateway faults) up to ``max_retries`` times, waiting ``Retry-After`` (capped at
    ``max_retry_wait``) or an exponential backoff. ``timeout`` is each attempt's deadline:
    connect and the whole answer. ``before_attempt(n)`` runs before attempt ``n`` (0 first; live
    mode paces and budgets there) and may return ``False`` to send no more attempts;
    ``on_exchange`` sees every attempt as it came (live mode judges, records and bills from it;
    its ``to_dict`` and ``repr`` are redacted). ``environ`` (default ``os.environ``) is where the
    key and base-URL variables are read; the key is read nowhere else.
    """

    def __init__(
        self,
        *,
        base_url: str | None = None,
        timeout: float = 30.0,
        max_retries: int = 2,
        backoff: float = 0.5,
        max_retry_wait: float = 30.0,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        on_exchange: Callable[[Interaction], None] | None = None,
        before_attempt: Callable[[int], bool | None] | None = None,
        contracts: Contracts | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        if max_retries < 0 or not timeout > 0:
            raise ValueError("max_retries must be >= 0 and timeout > 0")
        self._contracts = contracts or load_contracts()
        self.url = endpoint_url(base_url, environ, self._contracts)
        self._host = httpx.URL(self.url).host
        self._secret = Secret.from_env(environ, name=self._contracts.profile.api_key_env)
        self._redactor = Redactor([self._secret])
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        # Its own generator: the jitter of a retry in one thread must not move the global
        # random state under a Hypothesis draw in another (a live run draws while it sends).
        self._jitter = random.Random()
        self.max_retry_wait = max_retry_wait
        self._sleep = sleep
        self._on_exchange = on_exchange
        self._before_attempt = before_attempt
        self._counter = itertools.count(1)
        self._http = httpx.Client(
            timeout=timeout,
            transport=transport or DeadlineTransport(),
            follow_redirects=False,
            trust_env=False,  # the deadline transport carries no proxies; see the README
        )

    def __repr__(self) -> str:
        return f"FaceDetectClient(url={self.url!r}, key={'set' if self._secret else 'unset'})"

    @property
    def has_key(self) -> bool:
        """Whether the key variable was set when the client was made."""
        return self._secret is not None

    @property
    def redactor(self) -> Redactor:
        """What this client redacts everything it records with (its key, any key-like text)."""
        return self._redactor

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> FaceDetectClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- sending --------------------------------------------------------------------------------

    def exchange(
        self,
        body: Any = None,
        *,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        auth: Auth = "key",
        method: str | None = None,
        name: str | None = None,
        retry: bool = True,
    ) -> Interaction:
        """Send one request (JSON ``body`` or raw ``content``), retrying as documented.

        ``auth`` is ``"key"`` (the configured key), ``"none"`` (no Authorization) or ``"invalid"``
        (a well-formed key the endpoint cannot know). ``headers`` replace the default Content-Type
        when given, so a probe can leave it out. Returns the last attempt's interaction; raises
        ``EndpointUnreachable`` or ``EndpointBroken`` when no answer could be read.
        """
        profile = self._contracts.profile
        if auth == "key" and self._secret is None:
            raise FaceDetectError(
                f"{profile.api_key_env} is not set; export it (the suite reads the key from "
                f"there only)"
            )
        if content is None:
            content = json.dumps(body, ensure_ascii=False).encode()
        sent_headers = {"Content-Type": profile.content_type} if headers is None else dict(headers)
        http_auth: httpx.Auth | None = None
        if auth == "key" and self._secret is not None:
            http_auth = _BearerAuth(self._secret)
        elif auth == "invalid":
            sent_headers["Authorization"] = "Bearer " + INVALID_KEY
        name = name or f"exchange-{next(self._counter)}"
        attempt = 0
        interaction: Interaction | None = None
        while True:
            if self._before_attempt is not None and self._before_attempt(attempt) is False:
                if interaction is None:
                    raise FaceDetectError("the request was not sent: before_attempt refused it")
                return interaction  # no further attempt may be sent (the budget said so)
            interaction = self._send_once(
                method=method or profile.method,
                headers=sent_headers,
                content=content,
                http_auth=http_auth,
                auth=auth,
                name=name if attempt == 0 else f"{name}-retry-{attempt}",
            )
            if (
                not retry
                # The one predicate live judging also asks: an answer retried here is the one
                # it calls an error of the run when it is still the last.
                or faults.endpoint_fault(interaction.response, self._contracts) is None
                or (attempt >= self.max_retries)
            ):
                return interaction
            hint = retry_after_seconds(interaction.response.headers)
            wait = (
                hint
                if hint is not None
                else self.backoff * (2**attempt) * (1 + self._jitter.random() / 4)
            )
            self._sleep(min(wait, self.max_retry_wait))
            attempt += 1

    def _send_once(
        self,
        *,
        method: str,
        headers: Mapping[str, str],
        content: bytes,
        http_auth: httpx.Auth | None,
        auth: Auth,
        name: str,
    ) -> Interaction:
        started = time.monotonic()
        try:
            with (
                deadline(self.timeout),
                self._http.stream(
                    method, self.url, content=content, headers=headers, auth=http_auth
                ) as response,
            ):
                raw, complete = self._read_capped(response)
                request_headers = response.request.headers
        except AssertionError:
            raise  # a test double's verdict (respx: no route matched), not a network fault
        except Exception as exc:  # whatever the transport raised: typed, and without its text
            raise self._transport_fault(exc, method) from None
        redactor = self._redactor
        response_headers = dict(response.headers.multi_items())
        if complete:
            parsed = RecordedResponse.from_bytes(response.status_code, response_headers, raw)
        else:
            parsed = RecordedResponse(
                response.status_code,
                {name.lower(): value for name, value in response_headers.items()},
                raw[:200].decode("utf-8", errors="replace"),
                body_is_json=False,
                not_json=f"larger than {MAX_RESPONSE_BYTES} bytes, not read to its end",
            )
        interaction = Interaction(
            name=name,
            request=recorded_request(
                redactor, method, request_headers.multi_items(), content, auth
            ),
            response=dataclasses.replace(parsed, redactor=redactor),
            provenance={"kind": "recorded", "host": self._host},
            elapsed=time.monotonic() - started,
        )
        if self._on_exchange is not None:
            self._on_exchange(interaction)
        return interaction

    @staticmethod
    def _read_capped(response: httpx.Response) -> tuple[bytes, bool]:
        """The decoded body, up to the cap; ``False`` when the answer went on beyond it."""
        chunks, total = [], 0
        for chunk in response.iter_bytes():
            chunks.append(chunk)
            total += len(chunk)
            if total > MAX_RESPONSE_BYTES:
                return b"".join(chunks)[: MAX_RESPONSE_BYTES + 1], False
        return b"".join(chunks), True

    def _transport_fault(self, exc: BaseException, method: str) -> FaceDetectError:
        where = f"on {method} {_shown(httpx.URL(self.url))}"
        if isinstance(exc, TLSSettingsError):  # our own message: the variable, the fix
            return EndpointUnreachable(f"endpoint unreachable: {exc} ({where})")
        refused = _certificate_refused(exc)
        if refused is not None:
            reason = refused.verify_message or refused.reason or "no reason given"
            return EndpointUnreachable(
                self._redactor.text(
                    f"endpoint unreachable: certificate verification failed: {reason} ({where}); "
                    f"use the endpoint's real certificate, or trust its CA with SSL_CERT_FILE"
                )
            )
        for kind, error, says in _TRANSPORT_FAULTS:
            if isinstance(exc, kind):
                prefix = (
                    "endpoint unreachable" if error is EndpointUnreachable else "endpoint broken"
                )
                fault = error(f"{prefix}: {says} ({type(exc).__name__} {where})")
                fault.timed_out = isinstance(exc, httpx.TimeoutException)
                return fault
        return EndpointBroken(
            f"endpoint broken: the exchange failed ({type(exc).__name__} {where})"
        )

    # -- typed results ------------------------------------------------------------------------

    def detect(
        self,
        image_url: str,
        ratio: str | EllipsisType | None = ...,
        *,
        model: str | None = None,
        name: str | None = None,
    ) -> CheckPassed | CheckFailed:
        """Check a portrait. Returns the passed or failed check; raises ``RequestError`` otherwise.

        ``ratio`` left as it is sends the documented default (``"1:1"``), or the one documented
        value of a model without a default (emoji-detect-v1); ``ratio=None`` leaves the
        parameters out (the endpoint then applies its default). A model without a ratio
        parameter (liveportrait-detect) is sent none; a ratio given for it is a ``ValueError``
        naming the model.
        """
        contracts = self._contracts
        profile = contracts.profile
        fields = profile.request
        body: dict[str, Any] = {}
        fields.model.put(body, model or profile.model)
        fields.image_url.put(body, image_url)
        if profile.ratio is None:
            if ratio is not None and ratio is not ...:
                raise ValueError(
                    f"ratio {ratio!r}: {profile.model} has no ratio parameter (its profile's "
                    f"/shape/ratio is null); call detect without a ratio"
                )
        elif ratio is not None:
            fields.ratio.put(
                body, _ratio_to_send(profile.model, profile.ratio) if ratio is ... else ratio
            )
        return self.result(self.exchange(body, name=name))

    def outcome(self, interaction: Interaction) -> Outcome:
        """What the answer says (see ``outcome.classify``)."""
        return classify(interaction.response, self._contracts)

    def result(self, interaction: Interaction) -> CheckPassed | CheckFailed:
        """The typed result of a response, or the typed error it stands for."""
        outcome = self.outcome(interaction)
        if outcome.kind == "passed":  # the boxes the model has (classify checked each)
            return CheckPassed(
                face_bbox=outcome.face_box,
                ext_bbox=outcome.crop_box,
                request_id=outcome.request_id or "",
                image_count=outcome.billed_images,
                humanoid=outcome.humanoid,
                interaction=interaction,
            )
        if outcome.kind == "failed":
            return CheckFailed(
                code=outcome.code or "",
                message=outcome.message or "",
                shape=outcome.shape or "",
                billed=outcome.billed_images > 0,
                request_id=outcome.request_id or "",
                interaction=interaction,
            )
        status = interaction.response.status
        shown = self._redactor.text  # an error's text is shown: the answer's words, redacted
        if outcome.kind == "request_error":
            error_class = _ERROR_CLASSES.get(status, ServerError if status >= 500 else RequestError)
            body = interaction.response.body
            fallback = str(body)[:200] if not interaction.response.body_is_json else ""
            raise error_class(
                status=status,
                code=None if outcome.code is None else shown(outcome.code),
                message=shown(outcome.message if outcome.message is not None else fallback),
                request_id=None if outcome.request_id is None else shown(outcome.request_id),
                retryable=faults.endpoint_fault(interaction.response, self._contracts) is not None,
                retry_after=retry_after_seconds(interaction.response.headers),
                interaction=interaction,
            )
        raise UnexpectedResponse(shown(outcome.reason), interaction)
