"""openapi-core 0.23 judges real stub traffic against the committed OpenAPI document.

The document is loaded as shipped (``contracts/face-detect/openapi.json``), ``servers`` and all:
every request routes through the document's own loopback entries (``http://{host}:{port}/api/v1``
and ``http://{host}:{port}/qwen/api/v1``). Nothing is rewritten: the research draft replaced
``servers`` to get past ``ServerNotFound``, which hid that the shipped ``{base}`` entry routed
no request at all (openapi-core reads a URL without ``://`` as relative, and a variable matches
one path segment at most).

Measured against the current package, both failure shapes, the stub downloading the fixture
images and answering from its offline catalogue: every stub answer validates as a response
(200 pass, 200 verdict false, 400 InvalidFile.*, InvalidImage.FileFormat, InvalidURL,
InvalidParameter, BadRequest.*, 401, 403, 404, 429 with Retry-After); every valid request
validates as a request; each invalid request the document can describe is a request error.
What it cannot describe is not one: a wrong key (any bearer token passes ``security``), the
``X-DashScope-Async`` header (told in the operation's prose; the suite's request-headers contract
still forbids it) and an undeclared method (``OperationNotFound``: the document has no place for
the documented 400 to a GET). The negative controls, stubs whose ``response_hook`` breaks the
answer, show the response check can fail. ``ResponseNotFound`` for an undocumented status
(yielded by ``iter_response_errors``, raised by ``validate_response``) is an ``OpenAPIError``,
not a ``ResponseValidationError``.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from openapi_core import OpenAPI
from openapi_core.exceptions import OpenAPIError
from openapi_core.templating.paths.exceptions import OperationNotFound, ServerNotFound
from openapi_core.templating.responses.exceptions import ResponseNotFound
from openapi_core.validation.request.exceptions import (
    InvalidRequestBody,
    MissingRequiredRequestBody,
    RequestBodyValidationError,
    SecurityValidationError,
)
from openapi_core.validation.response.exceptions import InvalidData, ResponseValidationError

from facedetect_contract.contracts.fixtures import IMAGE_DIR
from facedetect_contract.contracts.loader import load_contracts
from facedetect_contract.contracts.openapi import OPENAPI_FILE
from facedetect_contract.doubles.fake import CatalogImages, FakeRequest, FakeResponse
from facedetect_contract.doubles.server import ResponseHook, RunningServer, serve_in_thread
from facedetect_contract.plugin import TEST_KEY

from .openapi_httpx import HttpxOpenAPIRequest, HttpxOpenAPIResponse

pytestmark = pytest.mark.outside

CONTRACTS = load_contracts()
PROFILE = CONTRACTS.profile
DOCUMENT = CONTRACTS.directory / OPENAPI_FILE
AUTH = {"Authorization": f"Bearer {TEST_KEY}"}
JSON = {"Content-Type": PROFILE.content_type}
# The fixture images the stub serves, and one it does not: every kind of download answer.
IMAGES = (
    "portrait.png",
    "photo.jpg",
    "no-human.png",
    "multi-human.png",
    "dark.png",
    "small.png",
    "not-an-image.png",
    "portrait.gif",
    "missing.png",
)
_NO_PARAMETERS = object()


@dataclasses.dataclass(frozen=True)
class Judgement:
    """What openapi-core says of one exchange."""

    request_errors: list[Exception]
    response_errors: list[Exception]

    def names(self) -> tuple[list[str], list[str]]:
        return (
            [type(e).__name__ for e in self.request_errors],
            [type(e).__name__ for e in self.response_errors],
        )


def judge(openapi: OpenAPI, response: httpx.Response) -> Judgement:
    """Every request and response error openapi-core finds in the exchange httpx made."""
    request = HttpxOpenAPIRequest(response.request)
    request_errors = list(openapi.iter_request_errors(request))
    try:
        response_errors = list(
            openapi.iter_response_errors(request, HttpxOpenAPIResponse(response))
        )
    except OpenAPIError as exc:  # a finder error raised rather than yielded
        response_errors = [exc]
    return Judgement(request_errors, response_errors)


def request_body(image_url: str, ratio: object = "1:1", model: str = PROFILE.model) -> Any:
    """A request body, its fields where the profile says they go."""
    fields = PROFILE.request
    body: dict[str, Any] = {}
    fields.model.put(body, model)
    fields.image_url.put(body, image_url)
    if ratio is not _NO_PARAMETERS:
        fields.ratio.put(body, ratio)
    return body


@pytest.fixture(scope="module")
def openapi() -> OpenAPI:
    """The committed document, as shipped (openapi-core validates it while loading)."""
    return OpenAPI.from_file_path(str(DOCUMENT))


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10.0) as http:
        yield http


@pytest.fixture(scope="module", params=[False, True], ids=["downloading", "catalog"])
def stub(request: pytest.FixtureRequest, failure_shape: str) -> Iterator[RunningServer]:
    """The stub of one failure shape, downloading fixtures/images/ or answering from its catalogue."""
    with serve_in_thread(
        api_keys=[TEST_KEY],
        images_dir=IMAGE_DIR,
        failure_shape=failure_shape,
        catalog=request.param,
    ) as running:
        yield running


def passing_url(stub: RunningServer) -> str:
    """An image URL the stub passes: the catalogue's answer to any other URL is a draw.

    The catalogue hashes the whole URL, port included, so a fixture image's URL on a stub with
    a random port fails the check one time in eight; the documented example always passes.
    """
    if isinstance(stub.fake.images, CatalogImages):
        return PROFILE.example_images[0].url
    return stub.image_url("portrait.png")


@pytest.mark.parametrize("image", IMAGES)
def test_every_stub_answer_to_a_valid_request_validates_as_request_and_response(
    openapi: OpenAPI, stub: RunningServer, client: httpx.Client, image: str
) -> None:
    response = client.post(stub.url, json=request_body(stub.image_url(image)), headers=AUTH)
    assert judge(openapi, response).names() == ([], [])
    verdict = PROFILE.response.verdict
    if image == "portrait.png" and not isinstance(stub.fake.images, CatalogImages):
        assert response.status_code == 200 and verdict.get(response.json()) is True
    if image == "no-human.png":  # a failed check, answered in the stub's shape
        shape = next(k for k in PROFILE.answers if k.shape == stub.fake.failure_shape)
        assert response.status_code == shape.status


@pytest.mark.parametrize(
    "ratio", [*CONTRACTS.ratios, _NO_PARAMETERS], ids=[*CONTRACTS.ratios, "no-parameters"]
)
def test_each_documented_ratio_and_leaving_parameters_out_are_valid_and_answered_validly(
    openapi: OpenAPI, stub: RunningServer, client: httpx.Client, ratio: object
) -> None:
    response = client.post(stub.url, json=request_body(passing_url(stub), ratio), headers=AUTH)
    assert response.status_code == 200
    assert judge(openapi, response).names() == ([], [])


@pytest.mark.parametrize("example", PROFILE.example_images, ids=lambda e: e.url.rsplit("/", 2)[1])
def test_the_documented_example_urls_are_valid_and_answered_validly(
    openapi: OpenAPI, stub: RunningServer, client: httpx.Client, example: Any
) -> None:
    # In every mode, downloading or from the catalogue, the stub answers a documented example
    # with its documented boxes (it never fetches the public host).
    response = client.post(stub.url, json=request_body(example.url), headers=AUTH)
    assert response.status_code == 200
    assert judge(openapi, response).names() == ([], [])
    assert PROFILE.response.face_box.get(response.json()) == list(example.face_box)


def test_a_throttled_answer_with_retry_after_validates(
    openapi: OpenAPI, failure_shape: str, client: httpx.Client
) -> None:
    with serve_in_thread(
        api_keys=[TEST_KEY], images_dir=IMAGE_DIR, failure_shape=failure_shape, throttle_first=1
    ) as throttled:
        response = client.post(
            throttled.url, json=request_body(throttled.image_url("portrait.png")), headers=AUTH
        )
    assert response.status_code == PROFILE.throttle_status and response.headers["retry-after"]
    assert judge(openapi, response).names() == ([], [])


def _without(body: dict[str, Any], name: str) -> dict[str, Any]:
    body = copy.deepcopy(body)
    del body[name]
    return body


# (id, request kwargs from (image URL, valid body), the request error openapi-core must raise)
INVALID_REQUESTS: list[tuple[str, Callable[[str, Any], dict[str, Any]], type[Exception]]] = [
    (
        "bad ratio",
        lambda url, body: {"json": request_body(url, "16:9"), "headers": AUTH},
        InvalidRequestBody,
    ),
    (
        "unknown model",
        lambda url, body: {
            "json": request_body(url, model=PROFILE.model + "-not-deployed"),
            "headers": AUTH,
        },
        InvalidRequestBody,
    ),
    (
        "no input",
        lambda url, body: {
            "json": _without(body, PROFILE.request.image_url.parent.name),
            "headers": AUTH,
        },
        InvalidRequestBody,
    ),
    (
        "ftp url",
        lambda url, body: {
            "json": request_body("ftp://" + url.split("://", 1)[1]),
            "headers": AUTH,
        },
        InvalidRequestBody,
    ),
    ("no key", lambda url, body: {"json": body}, SecurityValidationError),
    (
        "wrong content type",
        lambda url, body: {
            "content": json.dumps(body).encode(),
            "headers": {**AUTH, "Content-Type": "text/plain"},
        },
        RequestBodyValidationError,
    ),
    (
        "malformed json",
        lambda url, body: {"content": json.dumps(body).encode()[:-1], "headers": {**AUTH, **JSON}},
        RequestBodyValidationError,
    ),
    (
        "empty body",
        lambda url, body: {"content": b"", "headers": {**AUTH, **JSON}},
        MissingRequiredRequestBody,
    ),
]


@pytest.mark.parametrize(
    ("build", "error"),
    [pytest.param(build, error, id=name) for name, build, error in INVALID_REQUESTS],
)
def test_each_invalid_request_the_document_describes_is_a_request_error_answered_validly(
    openapi: OpenAPI,
    stub: RunningServer,
    client: httpx.Client,
    build: Callable[[str, Any], dict[str, Any]],
    error: type[Exception],
) -> None:
    url = passing_url(stub)
    response = client.post(stub.url, **build(url, request_body(url)))
    judgement = judge(openapi, response)
    assert [type(e) for e in judgement.request_errors] == [error], judgement.request_errors
    assert judgement.response_errors == []  # the stub's rejection is a documented answer
    assert 400 <= response.status_code < 500


def test_rules_told_only_in_prose_or_by_the_key_are_beyond_the_document(
    openapi: OpenAPI, stub: RunningServer, client: httpx.Client
) -> None:
    body = request_body(passing_url(stub))
    wrong_key = client.post(stub.url, json=body, headers={"Authorization": "Bearer sk-unknown"})
    async_header = client.post(
        stub.url, json=body, headers={**AUTH, PROFILE.async_header: "enable"}
    )
    assert (wrong_key.status_code, async_header.status_code) == (401, 403)
    assert judge(openapi, wrong_key).names() == ([], [])
    assert judge(openapi, async_header).names() == ([], [])
    undeclared = judge(openapi, client.get(stub.url, headers=AUTH))
    assert [type(e) for e in undeclared.request_errors] == [OperationNotFound]


@pytest.mark.parametrize(
    ("prefix", "routes"), [("/qwen/api/v1", True), ("/other/api/v1", False)], ids=["qwen", "other"]
)
def test_a_gateway_prefix_routes_only_where_the_document_lists_a_server_for_it(
    openapi: OpenAPI, failure_shape: str, client: httpx.Client, prefix: str, routes: bool
) -> None:
    with serve_in_thread(
        api_keys=[TEST_KEY], images_dir=IMAGE_DIR, failure_shape=failure_shape, prefix=prefix
    ) as gateway:
        response = client.post(
            gateway.url, json=request_body(gateway.image_url("portrait.png")), headers=AUTH
        )
    assert response.status_code == 200
    judgement = judge(openapi, response)
    if routes:
        assert judgement.names() == ([], [])
    else:  # the control: a prefix the document does not list is not routed
        assert [type(e) for e in judgement.request_errors] == [ServerNotFound]


# --- negative controls: a stub whose answers break the document --------------------------------


def _rewrite_body(
    change: Callable[[Any], None], *, statuses: tuple[int, ...] = (200,)
) -> ResponseHook:
    def hook(request: FakeRequest, response: FakeResponse) -> FakeResponse:
        if response.status not in statuses:
            return response
        body = response.json()
        change(body)
        return dataclasses.replace(response, body=json.dumps(body).encode())

    return hook


def _extra_output_field(body: Any) -> None:
    PROFILE.response.verdict.parent.child("undocumented").put(body, True)


def _no_request_id(body: Any) -> None:
    del body[PROFILE.response.request_id.name]


def _short_box(body: Any) -> None:
    PROFILE.response.face_box.put(body, [1, 2, 3])


def _teapot(request: FakeRequest, response: FakeResponse) -> FakeResponse:
    return dataclasses.replace(response, status=418)


CONTROLS: list[tuple[str, ResponseHook, str, type[Exception]]] = [
    ("extra output field", _rewrite_body(_extra_output_field), TEST_KEY, InvalidData),
    ("no request_id on a pass", _rewrite_body(_no_request_id), TEST_KEY, InvalidData),
    (
        "no request_id on a 401",
        _rewrite_body(_no_request_id, statuses=(401,)),
        "sk-unknown",
        InvalidData,
    ),
    ("a three-number box", _rewrite_body(_short_box), TEST_KEY, InvalidData),
    ("undocumented status 418", _teapot, TEST_KEY, ResponseNotFound),
]


@pytest.mark.parametrize(
    ("hook", "key", "error"),
    [pytest.param(hook, key, error, id=name) for name, hook, key, error in CONTROLS],
)
def test_a_stub_whose_answer_breaks_the_document_gives_a_response_error(
    openapi: OpenAPI,
    failure_shape: str,
    client: httpx.Client,
    hook: ResponseHook,
    key: str,
    error: type[Exception],
) -> None:
    with serve_in_thread(
        api_keys=[TEST_KEY], images_dir=IMAGE_DIR, failure_shape=failure_shape, response_hook=hook
    ) as broken:
        response = client.post(
            broken.url,
            json=request_body(broken.image_url("portrait.png")),
            headers={"Authorization": f"Bearer {key}"},
        )
    judgement = judge(openapi, response)
    assert judgement.request_errors == []
    assert [type(e) for e in judgement.response_errors] == [error]
    # validate_response raises the same; only OpenAPIError catches both kinds (ResponseNotFound
    # is a finder error, not a ResponseValidationError).
    with pytest.raises(OpenAPIError) as raised:
        openapi.validate_response(
            HttpxOpenAPIRequest(response.request), HttpxOpenAPIResponse(response)
        )
    assert type(raised.value) is error
    assert isinstance(raised.value, ResponseValidationError) == (error is not ResponseNotFound)
