"""The fake answers each documented rule with the documented status, code and message."""

from __future__ import annotations

import json
import shutil
import threading
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from facedetect_contract.checks import run_checks
from facedetect_contract.contracts.loader import load_contracts
from facedetect_contract.core.interaction import Interaction, RecordedRequest, RecordedResponse
from facedetect_contract.doubles.fake import (
    CatalogImages,
    FaceDetectFake,
    FakeRequest,
    FakeResponse,
    Image,
    ImageUnavailable,
    NamedImage,
    image_names,
    named_failure,
    named_reason,
)
from facedetect_contract.generation.mutations import URL_VARIANTS

KEY = "sk-fake-test-key"
SENTINEL = "gwkey-SENTINEL-0123456789abcdef"  # no "sk-": the key-like redaction would miss it
DOCUMENTED_FACE = load_contracts().profile.example_images[0].face_box
DOC_URL = (
    "https://help-static-aliyun-doc.aliyuncs.com/file-manage-files/zh-CN/20251225/onmomb/emo.png"
)
HEADERS = {"Content-Type": "application/json", "Authorization": f"Bearer {KEY}"}


def body(url: str = DOC_URL, ratio: str | None = "1:1", **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"model": "emo-detect-v1", "input": {"image_url": url}}
    if ratio is not None:
        data["parameters"] = {"ratio": ratio}
    data.update(extra)
    return data


def call(
    double: FaceDetectFake,
    payload: Any = None,
    *,
    headers: dict[str, str] | None = None,
    raw: bytes | None = None,
    method: str = "POST",
) -> FakeResponse:
    content = (
        raw if raw is not None else json.dumps(body() if payload is None else payload).encode()
    )
    return double(FakeRequest(method, HEADERS if headers is None else headers, content))


def clean(response: FakeResponse, ratio: str = "1:1") -> None:
    """The fake's own answer passes every check: it is faithful to the contracts."""
    interaction = Interaction(
        "fake",
        RecordedRequest("POST", {}, body(ratio=ratio)),
        RecordedResponse(response.status, dict(response.headers), response.json()),
    )
    assert run_checks(interaction, load_contracts()) == []


@pytest.fixture
def double() -> FaceDetectFake:
    """A fresh fake per test (not the harness's ``fake``, which a conftest hook parametrizes
    over the failure shapes at session scope)."""
    return FaceDetectFake(api_keys={KEY})


@pytest.mark.parametrize("ratio", ["1:1", "3:4"])
def test_the_documented_request_passes_with_boxes_of_the_requested_ratio(
    double: FaceDetectFake, ratio: str
) -> None:
    response = call(double, body(ratio=ratio))
    assert response.status == 200
    output = response.json()["output"]
    assert output["face_bbox"] == list(DOCUMENTED_FACE)
    clean(response, ratio)
    assert double.billed == 1


def test_a_missing_ratio_takes_the_documented_default(double: FaceDetectFake) -> None:
    assert call(double, body(ratio=None)).json()["output"]["check_pass"] is True


@pytest.mark.parametrize(
    ("case", "headers", "payload", "raw", "method", "status", "code"),
    [
        ("no key", {"Content-Type": "application/json"}, None, None, "POST", 401, "InvalidApiKey"),
        (
            "bad key",
            {**HEADERS, "Authorization": "Bearer sk-unknown"},
            None,
            None,
            "POST",
            401,
            "InvalidApiKey",
        ),
        (
            "not bearer",
            {**HEADERS, "Authorization": f"Basic {KEY}"},
            None,
            None,
            "POST",
            401,
            "InvalidApiKey",
        ),
        (
            "async header",
            {**HEADERS, "X-DashScope-Async": "enable"},
            None,
            None,
            "POST",
            403,
            "AccessDenied",
        ),
        (
            "form content type",
            {**HEADERS, "Content-Type": "application/x-www-form-urlencoded"},
            None,
            None,
            "POST",
            400,
            "BadRequest.IllegalInput",
        ),
        ("malformed JSON", HEADERS, None, b'{"model": ', "POST", 400, "InvalidParameter"),
        ("JSON array", HEADERS, [], None, "POST", 400, "InvalidParameter"),
        ("GET", HEADERS, None, None, "GET", 400, "InvalidParameter"),
        (
            "no model",
            HEADERS,
            {"input": {"image_url": DOC_URL}},
            None,
            "POST",
            400,
            "BadRequest.EmptyModel",
        ),
        ("unknown model", HEADERS, body(model="emo-v2"), None, "POST", 404, "ModelNotFound"),
        ("model not a string", HEADERS, body(model=7), None, "POST", 400, "InvalidParameter"),
        (
            "no input",
            HEADERS,
            {"model": "emo-detect-v1"},
            None,
            "POST",
            400,
            "BadRequest.EmptyInput",
        ),
        (
            "input not an object",
            HEADERS,
            {"model": "emo-detect-v1", "input": "x"},
            None,
            "POST",
            400,
            "InvalidParameter",
        ),
        (
            "no image_url",
            HEADERS,
            {"model": "emo-detect-v1", "input": {}},
            None,
            "POST",
            400,
            "InvalidParameter",
        ),
        ("bad ratio", HEADERS, body(ratio="16:9"), None, "POST", 400, "InvalidParameter"),
        (
            "parameters not an object",
            HEADERS,
            body(parameters=[]),
            None,
            "POST",
            400,
            "InvalidParameter",
        ),
        ("file URL", HEADERS, body("file:///tmp/p.png"), None, "POST", 400, "InvalidURL"),
        ("oss URL", HEADERS, body("oss://bucket/p.png"), None, "POST", 400, "InvalidURL"),
        ("ftp URL", HEADERS, body("ftp://example.com/p.png"), None, "POST", 400, "InvalidURL"),
        (
            "refused download",
            HEADERS,
            body("http://unreachable.example/p.png"),
            None,
            "POST",
            400,
            "InvalidURL.ConnectionRefused",
        ),
        (
            "port out of range",
            HEADERS,
            body("https://b.org:99999/p.png"),
            None,
            "POST",
            400,
            "InvalidURL",
        ),
    ],
    ids=lambda value: (
        value if (isinstance(value, str) and " " in value) or value in ("GET",) else None
    ),
)
def test_each_documented_request_failure_gets_its_status_and_code_and_is_not_billed(
    double: FaceDetectFake,
    case: str,
    headers: dict[str, str],
    payload: Any,
    raw: bytes | None,
    method: str,
    status: int,
    code: str,
) -> None:
    response = call(double, payload, headers=headers, raw=raw, method=method)
    assert (response.status, response.json()["code"]) == (status, code)
    assert "usage" not in response.json()
    assert double.billed == 0
    clean(response)


def test_an_unknown_field_is_ignored(double: FaceDetectFake) -> None:
    assert call(double, body(extra="x")).status == 200


@pytest.mark.parametrize("shape", ["A", "B"])
@pytest.mark.parametrize("reason", sorted(load_contracts().portrait_codes))
def test_a_failed_portrait_check_is_answered_in_the_chosen_shape(shape: str, reason: str) -> None:
    fake = FaceDetectFake(api_keys={KEY}, failure_shape=shape)
    name = reason.split(".")[1]
    kebab = "".join("-" + c.lower() if c.isupper() else c for c in name).lstrip("-")
    response = call(fake, body(f"https://example.com/{kebab}.png"))
    if shape == "A":
        assert response.status == 200
        assert response.json()["output"] == {
            "check_pass": False,
            "code": reason,
            "message": response.json()["output"]["message"],
        }
        assert fake.billed == 1
    else:
        assert (response.status, response.json()["code"]) == (400, reason)
        assert fake.billed == 0
    clean(response)


class FixedImages:
    def __init__(self, image: Image | ImageUnavailable) -> None:
        self.image = image

    def fetch(self, url: str) -> Image:
        if isinstance(self.image, ImageUnavailable):
            raise self.image
        return self.image


@pytest.mark.parametrize(
    ("image", "status", "code"),
    [
        (Image(300, 900, "png", face=(10, 10, 100, 100)), 200, "InvalidFile.Resolution"),
        (Image(800, 7001, "png", face=(10, 10, 100, 100)), 200, "InvalidFile.Resolution"),
        (Image(800, 800, "gif", face=(10, 10, 100, 100)), 400, "InvalidImage.FileFormat"),
        (Image(800, 800, "png"), 200, "InvalidFile.NoHuman"),
        (Image(800, 400, "png", face=(0, 0, 790, 400)), 200, "InvalidFile.BodyProportion"),
        (
            ImageUnavailable("url-timeout", "images.example"),
            400,
            "InvalidURL.Timeout",
        ),
    ],
    ids=[
        "short side 300",
        "long side 7001",
        "gif",
        "no face",
        "face fills a 3:4 crop",
        "download timeout",
    ],
)
def test_image_limits_are_enforced_as_documented(
    image: Image | ImageUnavailable, status: int, code: str
) -> None:
    fake = FaceDetectFake(api_keys={KEY}, images=FixedImages(image))
    response = call(fake, body(ratio="3:4"))
    answer = response.json()
    assert response.status == status
    assert (answer.get("output") or answer)["code"] == code
    clean(response, "3:4")


def test_the_same_generated_url_always_gets_the_same_answer(double: FaceDetectFake) -> None:
    url = "https://cdn.example.net/people/42.jpg"
    first, second = call(double, body(url)).json(), call(double, body(url)).json()
    assert first.pop("request_id") != second.pop("request_id")
    assert first == second


def test_the_fake_repr_does_not_show_its_keys(double: FaceDetectFake) -> None:
    assert KEY not in repr(double)


def test_a_fake_request_never_shows_its_headers() -> None:
    request = FakeRequest("POST", {"Authorization": f"Bearer {SENTINEL}"}, b"{}")
    assert SENTINEL not in repr(request)


@pytest.mark.parametrize(
    "url", ["http://[::1]:8000/portrait.png", "http://127.0.0.1:8000/portrait.png"]
)
def test_an_ip_literal_host_is_a_downloadable_url(double: FaceDetectFake, url: str) -> None:
    """The contract admits IP literals (open question image-url): the image is fetched and
    checked, and this one passes: 200, both boxes, billed, faithful to every check."""
    response = call(double, body(url))
    assert response.status == 200
    output = response.json()["output"]
    assert output["check_pass"] is True and len(output["face_bbox"]) == 4
    assert response.json()["usage"] == {"image_count": 1} and double.billed == 1
    clean(response)


@pytest.mark.parametrize(
    "url", ["https://example.com/portrait.gif", "https://example.com/scan.tiff"]
)
def test_an_unsupported_image_format_is_answered_as_such_offline_too(
    double: FaceDetectFake, url: str
) -> None:
    response = call(double, body(url))
    assert (response.status, response.json()["code"]) == (400, "InvalidImage.FileFormat")


@pytest.mark.parametrize(("family", "url"), URL_VARIANTS, ids=[url for _, url in URL_VARIANTS])
def test_the_fake_refuses_exactly_the_image_urls_the_contract_refuses(
    double: FaceDetectFake, family: str, url: str
) -> None:
    """URL acceptance is the contract's pattern, not a rule of the double's own."""
    answer = call(double, body(url)).json()
    refused = answer.get("code") == "InvalidURL"
    assert refused is not load_contracts().accepts_image_url(url), answer


@pytest.mark.parametrize(
    "url",
    ["https://b.org*/x.png", "http://user:pw@127.0.0.1:8000/p.png", "HTTP://EXAMPLE.COM/p.png"],
)
def test_a_url_the_contract_admits_gets_a_check_result(double: FaceDetectFake, url: str) -> None:
    response = call(double, body(url))
    assert response.status == 200 or response.json()["code"].startswith("InvalidFile."), url


# --- the rules, one by one ---------------------------------------------------------------------

CONTRACTS = load_contracts()
FAKE_KEYS = (
    KEY,
    SENTINEL,
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJzZW50aW5lbCJ9.c2VudGluZWwtc2lnbmF0dXJl",
    "k~e_y.S+E/N=T-1N3L!42:sentinel",
)


def message_of(code: str, index: int = 0) -> str:
    """The documented message of ``code`` (errors.json), the first one unless told."""
    return next(CONTRACTS.errors_for(code=code)).messages[index]


def error_answer(response: FakeResponse) -> tuple[int, str, str]:
    answer = response.json()
    assert set(answer) == {"code", "message", "request_id"}, answer  # an error body, no usage
    return response.status, answer["code"], answer["message"]


# Requests and answers: header names in any case; JSON bodies in UTF-8, as the type says.


def test_a_request_header_is_found_by_its_name_in_any_case() -> None:
    request = FakeRequest("POST", {"X-One": "1", "x-two": "2"})
    assert (request.header("x-one"), request.header("X-TWO"), request.header("three")) == (
        "1",
        "2",
        None,
    )


@pytest.mark.parametrize("shape", ["A", "B"])
def test_every_answer_is_utf_8_json_with_the_documented_content_type(shape: str) -> None:
    fake = FaceDetectFake(api_keys={KEY}, failure_shape=shape)
    answers = [
        call(fake),
        call(fake, body("https://example.com/no-human.png")),
        call(fake, headers={}),
        call(fake, body("http://unreachable.例え.jp/p.png")),
    ]
    for response in answers:
        assert response.headers == {"content-type": "application/json;charset=UTF-8"}
        assert response.json() == json.loads(response.body.decode("utf-8"))
    assert "unreachable.例え.jp".encode() in answers[-1].body  # UTF-8 itself, not \\u escapes
    assert b": " not in answers[0].body and b", " not in answers[0].body  # compact


def test_an_unavailable_image_names_its_rule_and_value() -> None:
    refused = ImageUnavailable("url-refused", "images.example")
    assert (refused.rule, refused.value, str(refused)) == (
        "url-refused",
        "images.example",
        "url-refused: images.example",
    )
    assert str(ImageUnavailable("download-failed")) == "download-failed"
    assert ImageUnavailable("download-failed").value is None


# Request ids: every answer carries one, unique, in the body.


def test_every_answer_carries_a_fresh_request_id(double: FaceDetectFake) -> None:
    ids = [
        call(double).json()["request_id"],
        call(double, headers={}).json()["request_id"],
        call(double, body("https://example.com/no-human.png")).json()["request_id"],
    ]
    assert len(set(ids)) == 3
    assert all(uuid.UUID(i).version == 4 for i in ids)


@pytest.mark.parametrize("shape", ["A", "B"])
def test_request_ids_can_be_injected_and_reach_every_kind_of_answer(shape: str) -> None:
    ids = iter(["rid-1", "rid-2", "rid-3"])
    fake = FaceDetectFake(api_keys={KEY}, failure_shape=shape, request_ids=lambda: next(ids))
    assert call(fake).json()["request_id"] == "rid-1"
    assert call(fake, body("https://example.com/no-human.png")).json()["request_id"] == "rid-2"
    assert call(fake, headers={}).json()["request_id"] == "rid-3"


# Authentication: "Bearer <key>"; a missing key and an unknown key are told apart.


@pytest.mark.parametrize(
    ("authorization", "message"),
    [
        (f"Bearer {KEY}", None),
        (f"bearer {KEY}", None),
        (f"BEARER {KEY}", None),
        (f"Bearer  {KEY}", None),
        (f"Bearer {KEY} ", None),
        (None, "No API-key provided."),
        ("", "No API-key provided."),
        ("Bearer", "No API-key provided."),
        ("Bearer ", "No API-key provided."),
        ("Bearer    ", "No API-key provided."),
        (f"Basic {KEY}", "No API-key provided."),
        (KEY, "No API-key provided."),
        ("Bearer sk-unknown-0000", "Invalid API-key provided."),
        (f"Bearer {KEY}x", "Invalid API-key provided."),
        (f"Bearer {KEY.upper()}", "Invalid API-key provided."),
    ],
    ids=[
        "bearer",
        "lower-case scheme",
        "upper-case scheme",
        "two spaces",
        "trailing space",
        "no header",
        "empty",
        "scheme alone",
        "scheme and a space",
        "scheme and spaces",
        "basic",
        "no scheme",
        "unknown key",
        "key and more",
        "key in capitals",
    ],
)
def test_the_key_is_a_bearer_token_and_each_refusal_says_which_it_is(
    double: FaceDetectFake, authorization: str | None, message: str | None
) -> None:
    headers = {"Content-Type": "application/json"}
    if authorization is not None:
        headers["Authorization"] = authorization
    request = FakeRequest("POST", headers, json.dumps(body()).encode())
    refused = double.authenticate(request)
    response = double(request)
    if message is None:
        assert refused is None and response.status == 200
    else:
        assert refused is not None and error_answer(refused) == (401, "InvalidApiKey", message)
        assert error_answer(response) == (401, "InvalidApiKey", message)
        assert double.billed == 0


@pytest.mark.parametrize("key", FAKE_KEYS, ids=["sk", "gateway", "jwt", "punctuation"])
def test_any_of_its_keys_is_accepted_and_none_is_shown(key: str) -> None:
    fake = FaceDetectFake(api_keys=FAKE_KEYS)
    response = call(fake, headers={**HEADERS, "Authorization": f"Bearer {key}"})
    assert response.status == 200
    assert repr(fake) == "FaceDetectFake(failure_shape='A', keys=4)"
    for place, shown in enumerate((repr(fake), str(fake), repr(response))):
        if key.lower() in shown.lower():  # by hand: a failure must not print the key
            raise AssertionError(f"text #{place} shows the key")


# The request, rule by rule: each broken rule gets its documented status, code and message.


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "get"])
def test_only_post_is_supported_and_the_refusal_names_the_method(
    double: FaceDetectFake, method: str
) -> None:
    answer = error_answer(call(double, method=method))
    assert answer == (
        400,
        "InvalidParameter",
        f"Request method '{method.upper()}' is not supported.",
    )
    assert call(double, method="post").status == 200


@pytest.mark.parametrize("value", ["enable", "disable", ""])
@pytest.mark.parametrize("name", ["X-DashScope-Async", "x-dashscope-async"])
def test_the_async_header_is_refused_whatever_its_value(
    double: FaceDetectFake, name: str, value: str
) -> None:
    """Open question async-header, reading "rejected": 403 AccessDenied, not billed."""
    assert error_answer(call(double, headers={**HEADERS, name: value})) == (
        403,
        "AccessDenied",
        "Current user api does not support asynchronous calls.",
    )
    assert double.billed == 0


@pytest.mark.parametrize(
    ("content_type", "accepted"),
    [
        ("application/json", True),
        ("Application/JSON", True),
        ("application/json; charset=utf-8", True),
        ("application/json;charset=UTF-8", True),
        (" application/json ;x=y", True),
        ("application/json; charset=utf-8; q=1", True),
        (None, False),
        ("", False),
        ("text/json", False),
        ("application/jsonx", False),
        ("application/json-patch+json", False),
        ("text/plain; application/json", False),
    ],
)
def test_the_body_must_be_declared_json(
    double: FaceDetectFake, content_type: str | None, accepted: bool
) -> None:
    headers = {"Authorization": f"Bearer {KEY}"}
    if content_type is not None:
        headers["Content-Type"] = content_type
    response = call(double, headers=headers)
    if accepted:
        assert response.status == 200
    else:
        assert error_answer(response) == (
            400,
            "BadRequest.IllegalInput",
            "The input parameter requires json format.",
        )


@pytest.mark.parametrize(
    "raw",
    [b"\xff\xfe{}", b"[" * 10_000 + b"]" * 10_000, b'"text"', b"7", b"null", b"[]", b"", b"{"],
    ids=["not UTF-8", "nested too deep", "string", "number", "null", "array", "empty", "cut"],
)
def test_a_body_that_is_not_a_json_object_is_refused(double: FaceDetectFake, raw: bytes) -> None:
    assert error_answer(call(double, raw=raw)) == (
        400,
        "InvalidParameter",
        "Required body invalid, please check the request body format.",
    )


def field_invalid(name: str) -> tuple[int, str, str]:
    return (
        400,
        "InvalidParameter",
        f"Required parameter({name}) missing or invalid, please check the request parameters.",
    )


MODEL_MISSING = (400, "BadRequest.EmptyModel", 'Required parameter "model" missing from request.')
INPUT_MISSING = (400, "BadRequest.EmptyInput", "Required input parameter missing from request.")
RATIO_INVALID = (
    400,
    "InvalidParameter",
    "The request parameter is invalid, please check the request parameter.",
)


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"input": {"image_url": DOC_URL}}, MODEL_MISSING),
        (body(model=None), MODEL_MISSING),
        (body(model=""), MODEL_MISSING),
        (body(model=7), field_invalid("model")),
        (body(model=["emo-detect-v1"]), field_invalid("model")),
        (body(model="emo-detect-v2"), (404, "ModelNotFound", "Model can not be found.")),
        (body(model="EMO-DETECT-V1"), (404, "ModelNotFound", "Model can not be found.")),
        ({"model": "emo-detect-v1"}, INPUT_MISSING),
        ({"model": "emo-detect-v1", "input": None}, INPUT_MISSING),
        ({"model": "emo-detect-v1", "input": "x"}, field_invalid("input")),
        ({"model": "emo-detect-v1", "input": [DOC_URL]}, field_invalid("input")),
        ({"model": "emo-detect-v1", "input": {}}, field_invalid("input.image_url")),
        (body(""), field_invalid("input.image_url")),
        (body(None), field_invalid("input.image_url")),  # type: ignore[arg-type]
        (body(7), field_invalid("input.image_url")),  # type: ignore[arg-type]
        (body(parameters=[]), field_invalid("parameters")),
        (body(parameters=None), field_invalid("parameters")),
        (body(parameters="1:1"), field_invalid("parameters")),
        (body(ratio="16:9"), RATIO_INVALID),
        (body(ratio=None, parameters={"ratio": None}), RATIO_INVALID),
        (body(ratio=None, parameters={"ratio": 1}), RATIO_INVALID),
        (body(ratio="1:1 "), RATIO_INVALID),
        (
            body("ftp://example.com/p.png"),
            (400, "InvalidURL", "Invalid URL provided in your request."),
        ),
        (
            body("http://exa mple.com/p.png"),
            (400, "InvalidURL", "Invalid URL provided in your request."),
        ),
    ],
    ids=[
        "no model",
        "null model",
        "empty model",
        "model a number",
        "model a list",
        "unknown model",
        "model in capitals",
        "no input",
        "null input",
        "input a string",
        "input a list",
        "no image_url",
        "empty image_url",
        "null image_url",
        "image_url a number",
        "parameters a list",
        "null parameters",
        "parameters a string",
        "ratio 16:9",
        "null ratio",
        "ratio a number",
        "ratio with a space",
        "ftp URL",
        "URL with a space",
    ],
)
def test_each_broken_field_gets_its_documented_status_code_and_message(
    double: FaceDetectFake, payload: dict[str, Any], expected: tuple[int, str, str]
) -> None:
    response = call(double, payload)
    assert error_answer(response) == expected
    assert double.billed == 0
    clean(response)


@pytest.mark.parametrize("parameters", [{}, {"other": 1}], ids=["empty", "other field only"])
def test_parameters_without_a_ratio_take_the_documented_default(
    double: FaceDetectFake, parameters: dict[str, Any]
) -> None:
    """Open question ratio-default, reading "optional": answered as for 1:1."""
    response = call(double, body(ratio=None, parameters=parameters))
    assert response.json()["output"]["ext_bbox"] == [71, 9, 840, 778]  # the documented 1:1 box


# Getting the image: the download's own failures, with the value the server fills in.


@pytest.mark.parametrize(
    ("unavailable", "expected"),
    [
        (
            ImageUnavailable("url-refused", "images.example"),
            (
                400,
                "InvalidURL.ConnectionRefused",
                "Connection to images.example refused, please provide available URL.",
            ),
        ),
        (
            ImageUnavailable("url-timeout", "images.example"),
            (
                400,
                "InvalidURL.Timeout",
                "Download images.example timeout, please check network connection.",
            ),
        ),
        (
            ImageUnavailable("download-failed"),
            (400, "InvalidParameter", "Failed to download multimodal content."),
        ),
        (
            ImageUnavailable("url-not-an-image"),
            (
                400,
                "InvalidURL",
                "The request URL is invalid, make sure the url is correct and is an image.",
            ),
        ),
        (
            ImageUnavailable("file-too-large", 10485760),
            (400, "InvalidFile.Size", "The image file is larger than 10485760 bytes."),
        ),
        (
            ImageUnavailable("file-unreadable"),
            (400, "InvalidFile.Openerror", "The image file cannot be opened."),
        ),
    ],
    ids=lambda value: value.rule if isinstance(value, ImageUnavailable) else None,
)
def test_an_image_that_cannot_be_had_gets_the_documented_answer(
    unavailable: ImageUnavailable, expected: tuple[int, str, str]
) -> None:
    fake = FaceDetectFake(api_keys={KEY}, images=FixedImages(unavailable))
    response = call(fake)
    assert error_answer(response) == expected
    assert fake.billed == 0
    clean(response)


def test_an_unreachable_host_is_refused_naming_the_host(double: FaceDetectFake) -> None:
    response = call(double, body("http://unreachable.example:8080/photos/p.png"))
    assert error_answer(response) == (
        400,
        "InvalidURL.ConnectionRefused",
        "Connection to unreachable.example refused, please provide available URL.",
    )
    assert call(double, body("https://example.com/unreachable/p.png")).status == 200


# The portrait check: format, size, the picture itself, a crop that fits.


@pytest.mark.parametrize(
    ("width", "height", "passes"),
    [(400, 400, True), (399, 800, False), (800, 399, False), (7000, 900, True),
     (900, 7000, True), (7001, 900, False), (400, 7000, True), (399, 7001, False)],
)  # fmt: skip
def test_the_shortest_side_is_at_least_400_and_the_longest_at_most_7000(
    width: int, height: int, passes: bool
) -> None:
    face = (100, 100, 200, 200)
    fake = FaceDetectFake(api_keys={KEY}, images=FixedImages(Image(width, height, "png", face)))
    response = call(fake)
    output = response.json()["output"]
    if passes:
        assert output["check_pass"] is True
    else:
        assert output == {
            "check_pass": False,
            "code": "InvalidFile.Resolution",
            "message": message_of("InvalidFile.Resolution"),
        }
    clean(response)


@pytest.mark.parametrize("fmt", ["PNG", "Jpg", "jpeg", "bmp", "WEBP"])
def test_each_documented_format_in_any_case_is_accepted(fmt: str) -> None:
    image = Image(800, 800, fmt, face=(300, 300, 500, 500))
    fake = FaceDetectFake(api_keys={KEY}, images=FixedImages(image))
    assert call(fake).json()["output"]["check_pass"] is True


@pytest.mark.parametrize("fmt", ["gif", "tiff", "heic", ""])
def test_an_undocumented_format_is_refused_before_anything_else_is_judged(fmt: str) -> None:
    image = Image(100, 100, fmt, reason="InvalidFile.MultiHuman")  # too small, several people
    fake = FaceDetectFake(api_keys={KEY}, images=FixedImages(image))
    response = call(fake)
    assert error_answer(response) == (
        400,
        "InvalidImage.FileFormat",
        "The image format is not supported.",
    )
    assert fake.billed == 0


@pytest.mark.parametrize("shape", ["A", "B"])
def test_a_picture_that_fails_gets_its_own_reason_once_its_size_is_admitted(shape: str) -> None:
    for image, code in (
        (Image(300, 300, "png", reason="InvalidFile.MultiHuman"), "InvalidFile.Resolution"),
        (Image(800, 800, "png", (300, 300, 500, 500), "InvalidFile.Value"), "InvalidFile.Value"),
        (Image(800, 800, "png"), "InvalidFile.NoHuman"),
    ):
        fake = FaceDetectFake(api_keys={KEY}, images=FixedImages(image), failure_shape=shape)
        response = call(fake)
        answer = response.json()
        assert (answer.get("output") or answer)["code"] == code
        clean(response)


@pytest.mark.parametrize("reason", sorted(CONTRACTS.portrait_codes))
def test_a_failed_check_carries_the_documented_message_in_both_shapes(reason: str) -> None:
    """Shape A: 200, the verdict false, the reason in output, billed. Shape B: 400, the
    reason as the error code, no usage, not billed. The message is the first documented."""
    image = Image(800, 800, "png", reason=reason)
    a = FaceDetectFake(api_keys={KEY}, images=FixedImages(image), failure_shape="A")
    b = FaceDetectFake(api_keys={KEY}, images=FixedImages(image), failure_shape="B")
    answer_a, answer_b = call(a), call(b)
    assert answer_a.status == 200
    assert answer_a.json() == {
        "output": {"check_pass": False, "code": reason, "message": message_of(reason)},
        "usage": {"image_count": 1},
        "request_id": answer_a.json()["request_id"],
    }
    assert error_answer(answer_b) == (400, reason, message_of(reason))
    assert (a.billed, b.billed) == (1, 0)


def test_a_pass_is_the_documented_body_billed_once(double: FaceDetectFake) -> None:
    response = call(double)
    assert response.status == 200
    assert response.json() == {
        "output": {
            "check_pass": True,
            "face_bbox": [302, 286, 610, 593],
            "ext_bbox": [71, 9, 840, 778],
        },
        "usage": {"image_count": 1},
        "request_id": response.json()["request_id"],
    }
    assert double.billed == 1


def test_a_documented_crop_is_answered_for_its_ratio_and_another_ratio_is_computed() -> None:
    crop = (10, 20, 730, 980)
    image = Image(1000, 1000, "png", face=(300, 300, 500, 500), crops={"3:4": crop})
    fake = FaceDetectFake(api_keys={KEY}, images=FixedImages(image))
    assert call(fake, body(ratio="3:4")).json()["output"]["ext_bbox"] == list(crop)
    response = call(fake, body(ratio="1:1"))
    x1, y1, x2, y2 = response.json()["output"]["ext_bbox"]
    assert x2 - x1 == y2 - y1 and x1 <= 300 and y1 <= 300 and x2 >= 500 and y2 >= 500
    clean(response)


@pytest.mark.parametrize("shape", ["A", "B"])
def test_no_crop_of_the_ratio_fits_around_the_face_is_body_proportion(shape: str) -> None:
    image = Image(800, 400, "png", face=(0, 0, 790, 400))
    fake = FaceDetectFake(api_keys={KEY}, images=FixedImages(image), failure_shape=shape)
    response = call(fake, body(ratio="3:4"))
    answer = response.json()
    assert (answer.get("output") or answer)["code"] == "InvalidFile.BodyProportion"
    assert response.status == (200 if shape == "A" else 400)


# Billing and counting: passes and shape A failures are billed, nothing else; counts are exact
# under concurrency (the stub server serves threads).


def test_billing_counts_only_billed_answers_and_requests_counts_every_one() -> None:
    fake = FaceDetectFake(api_keys={KEY})
    call(fake)
    call(fake, body("https://example.com/no-human.png"))
    call(fake, headers={})
    call(fake, method="GET")
    assert (fake.billed, fake.requests) == (2, 4)


def test_counts_are_exact_under_concurrent_requests() -> None:
    fake = FaceDetectFake(api_keys={KEY})

    def work() -> None:
        for _ in range(25):
            call(fake)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert (fake.billed, fake.requests) == (200, 200)


# The fake's own API: its options, and the answers the stub server builds with it.


def test_a_failure_shape_the_profile_does_not_answer_is_refused_naming_the_shapes() -> None:
    with pytest.raises(ValueError, match=r"failure_shape must be one of \['A', 'B'\] .*not 'C'"):
        FaceDetectFake(api_keys={KEY}, failure_shape="C")


def test_the_throttle_answer_is_a_429_with_its_retry_after() -> None:
    """The stub server's --qps: a 429 naming the throttle, with Retry-After (throttle-code)."""
    fake = FaceDetectFake(api_keys={KEY})
    response = fake.reject("throttled", headers={"Retry-After": "1"})
    assert error_answer(response) == (
        429,
        "Throttling.RateQuota",
        "Requests rate limit exceeded, please try again later.",
    )
    assert response.headers == {
        "content-type": "application/json;charset=UTF-8",
        "Retry-After": "1",
    }
    assert fake.billed == 0


def test_a_rejection_can_be_given_as_the_profiles_rule_itself(double: FaceDetectFake) -> None:
    rule = CONTRACTS.profile.rejection("url-refused")
    assert error_answer(double.reject(rule, "h.example")) == error_answer(
        double.reject("url-refused", "h.example")
    )
    assert error_answer(double.error(418, "Teapot", "short and stout")) == (
        418,
        "Teapot",
        "short and stout",
    )


# The offline catalogue: the documented examples, named scenarios, and a stable draw.


def test_the_documented_example_images_are_in_the_catalogue_as_documented() -> None:
    catalog = CatalogImages()
    for example in CONTRACTS.profile.example_images:
        assert catalog.fetch(example.url) == Image(
            example.width, example.height, example.format, example.face_box,
            crops=example.crop_boxes,
        )  # fmt: skip


def test_an_image_given_to_the_catalogue_wins_over_a_documented_one() -> None:
    mine = Image(640, 480, "png", reason="InvalidFile.MultiHuman")
    catalog = CatalogImages(images={DOC_URL: mine})
    assert catalog.fetch(DOC_URL) is mine
    older = CONTRACTS.profile.example_images[1].url
    assert catalog.fetch(older).face == DOCUMENTED_FACE


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://example.com/no-human.png", "InvalidFile.NoHuman"),
        ("https://example.com/a/b/Multi-Human.JPG", "InvalidFile.MultiHuman"),
        ("https://example.com/full-body", "InvalidFile.FullBody"),
        ("https://example.com/facepose.webp?size=large", "InvalidFile.FacePose"),
        ("http://[1.2.3]/photos/no-human.png", "InvalidFile.NoHuman"),
        ("https://example.com/no-human/portrait.png", None),
        ("https://example.com/no-human.v2.png", None),
        ("https://example.com/portrait.png?as=no-human.png", None),
        ("https://example.com/nohumans.png", None),
        ("http://[1.2.3]/photo.png?as=/no-human.png", None),
        ("http://[1.2.3]/photo.png#/no-human.png", None),
        ("//[broken/no-human.png", "InvalidFile.NoHuman"),
    ],
)
def test_a_file_name_naming_a_documented_reason_provokes_it(url: str, reason: str | None) -> None:
    """In every mode (the catalogue offline, the stub's downloader): only the file name counts,
    its extension (after the last dot) apart, in any case, dashes ignored."""
    assert named_reason(url, CONTRACTS) == reason


@pytest.mark.parametrize(
    ("url", "image"),
    [
        ("https://example.com/no-human.PNG", Image(1024, 1024, "png", reason="InvalidFile.NoHuman")),
        ("https://cdn.example.net/people/7.png", Image(904, 868, "png", (197, 156, 486, 445))),
        ("http://127.0.0.1:8000/portrait.png", Image(1312, 1468, "png", (401, 436, 838, 873))),
        ("https://example.com/a.webp", Image(2476, 544, "webp", (1152, 9, 1333, 190))),
        ("https://example.com/photo", Image(2872, 1240, "jpg", (1564, 836, 1812, 1084))),
        ("https://example.com/MIXED.JPEG", Image(1816, 1600, "jpeg", (145, 589, 678, 1122))),
        ("https://cdn.example.net/people/20.jpg", Image(2296, 2296, "jpg", (822, 1428, 1587, 2193))),
        ("https://cdn.example.net/people/48.jpg", Image(2212, 1420, "jpg", (654, 716, 1127, 1189))),
    ],
)  # fmt: skip
def test_the_catalogue_draw_is_the_same_in_every_process_and_version(
    url: str, image: Image
) -> None:
    """ "The same URL always gets the same answer": the draw is a SHA-256 of the URL, never
    Python's salted hash, so answers recorded against the stub (``serve --catalog``) stay true.
    These are the answers the catalogue gave when it was written (the last two failed by draw
    until a failure came only from a name: their sizes and boxes are the draw's as before)."""
    assert CatalogImages().fetch(url) == image


@pytest.mark.parametrize("ratio", ["1:1", "3:4"])
def test_a_url_nobody_named_passes_with_a_drawn_size_and_face_within_the_documented_limits(
    ratio: str,
) -> None:
    """Failures come only from names: any other URL passes, for every ratio, with a size from
    the shortest side admitted up and a face inside the image; the fake's answer is clean."""
    catalog, profile = CatalogImages(), CONTRACTS.profile
    fake = FaceDetectFake(api_keys={KEY}, images=catalog)
    for i in range(300):
        url = f"https://cdn.example.net/people/{i}.jpg"
        image = catalog.fetch(url)
        assert image.reason is None and image.face is not None, url
        assert profile.min_side_px <= min(image.width, image.height)
        assert max(image.width, image.height) <= profile.min_side_px + 255 * 12
        assert image.format == "jpg"
        x1, y1, x2, y2 = image.face
        side, short = x2 - x1, min(image.width, image.height)
        assert y2 - y1 == side and short // 5 <= side <= short // 3
        assert min(x1, y1) >= 0 and x2 <= image.width and y2 <= image.height
        response = call(fake, body(url, ratio))
        assert response.json()["output"]["check_pass"] is True, (url, response.json())
        if i % 30 == 0:
            clean(response, ratio)


@pytest.mark.parametrize("row", image_names(CONTRACTS), ids=lambda row: row.name)
def test_every_name_of_the_table_gives_its_outcome_in_the_catalogue(row: NamedImage) -> None:
    """The names table (image-names.json): a portrait code fails the check with it, a rule is
    that request failure; the host name counts in the host, a file name in the file name."""
    host = f"{row.name}.example" if row.where == "host" else "images.example"
    url = f"https://{host}/{'portrait' if row.where == 'host' else row.name.upper()}.png"
    assert named_failure(url, CONTRACTS) == row
    response = call(FaceDetectFake(api_keys={KEY}), body(url))
    answer = response.json()
    if row.code is not None:
        assert (response.status, answer["output"]["code"]) == (200, row.code)
    else:
        rejection = CONTRACTS.profile.rejection(row.rule or "")
        assert answer["code"] == rejection.code and response.status >= 400
        if row.value == "host":
            assert host in answer["message"]
    clean(response)


def test_every_documented_portrait_code_and_image_rule_has_a_name() -> None:
    """Every documented code an image can give is named in the table."""
    names = image_names(CONTRACTS)
    assert {row.code for row in names if row.code} == CONTRACTS.portrait_codes
    image_rules = {
        "url-refused", "url-timeout", "url-not-an-image", "download-failed", "file-too-large",
        "file-unreadable",
    }  # fmt: skip
    assert {row.rule for row in names if row.rule} == image_rules


def test_a_names_table_row_the_contracts_do_not_document_is_refused_naming_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from facedetect_contract.doubles import fake as module

    rows = (*module._names_table(), {"name": "x", "code": "InvalidFile.Nope"})
    monkeypatch.setattr(module, "_names_table", lambda: rows)
    image_names.cache_clear()
    try:
        with pytest.raises(
            ValueError,
            match=r"image-names\.json: at /names/\d+/code: "
            r"'InvalidFile\.Nope' is no portrait code",
        ):
            image_names(CONTRACTS)
    finally:
        image_names.cache_clear()


@pytest.mark.parametrize(
    ("url", "fmt"),
    [
        ("http://[1.2.3]/photos/face.PNG", "png"),
        ("http://[1.2.3]", "jpg"),
        ("//[broken/face.png", "jpg"),
        ("https://example.com/dir.d/photo", "jpg"),
    ],
)
def test_the_catalogue_answers_a_url_python_cannot_parse_from_its_file_name(
    url: str, fmt: str
) -> None:
    """The contract admits any bracketed host; the format is the file name's extension, the
    first documented one without one."""
    image = CatalogImages().fetch(url)
    assert image.format == fmt


def test_the_catalogue_refuses_a_host_named_unreachable_naming_it() -> None:
    with pytest.raises(ImageUnavailable) as raised:
        CatalogImages().fetch("http://unreachable.example:81/p.png")
    assert (raised.value.rule, raised.value.value) == ("url-refused", "unreachable.example")


def test_a_sibling_models_contracts_are_the_ones_the_fake_and_its_catalogue_follow(
    tmp_path: Path,
) -> None:
    """ARCHITECTURE, "a model on the same path": its limits are data; no code edit."""
    directory = tmp_path / "sibling"
    shutil.copytree(CONTRACTS.directory, directory)
    profile = json.loads((directory / "endpoint.json").read_text())
    profile["images"]["min_side_px"] = 2000
    (directory / "endpoint.json").write_text(json.dumps(profile))
    sibling = load_contracts(directory)
    image = Image(1000, 1000, "png", face=(400, 400, 600, 600))
    for contracts, passes in ((sibling, False), (None, True)):
        fake = FaceDetectFake(api_keys={KEY}, images=FixedImages(image), contracts=contracts)
        assert call(fake).json()["output"]["check_pass"] is passes
    fake = FaceDetectFake(api_keys={KEY}, contracts=sibling)
    codes = Counter(
        (call(fake, body(f"https://cdn.example.net/{i}.png")).json()["output"].get("code"))
        for i in range(100)
    )
    # Drawn from 2000 px up: within the limits, so every URL nobody named passes.
    assert codes == Counter({None: 100})


def sibling(tmp_path: Path, errors: list[dict[str, Any]], answers: dict[str, Any]) -> Any:
    """A sibling model's contracts folder: the project's, with more error rows and changed
    answer kinds (ARCHITECTURE, "a model on the same path": facts are data)."""
    directory = tmp_path / "sibling"
    shutil.copytree(CONTRACTS.directory, directory)
    table = json.loads((directory / "errors.json").read_text())
    table["errors"] += errors
    (directory / "errors.json").write_text(json.dumps(table))
    profile = json.loads((directory / "endpoint.json").read_text())
    for name, change in answers.items():
        profile["answers"][name] = change(profile["answers"][name])
    (directory / "endpoint.json").write_text(json.dumps(profile))
    return load_contracts(directory)


def any_status(kind: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in kind.items() if k != "status"} | {"status_at_least": kind["status"]}


@pytest.mark.parametrize("shape", ["A", "B"])
def test_portrait_reasons_are_data_any_code_shape_and_message_a_sibling_documents(
    tmp_path: Path, shape: str
) -> None:
    """A reason is named by all of its code after the category ("InvalidFile.Pose.Head" by
    pose.head.png; a code without one by itself); without a documented message it is answered
    with the project's stub message, else with its code. A failure kind that names only a
    least status answers 200 (shape A) or the error table's status (shape B)."""
    row = {"status": 400, "kind": "portrait", "retryable": False, "source": "https://x.invalid/"}
    contracts = sibling(
        tmp_path,
        [
            row | {"code": "InvalidFile.Pose.Head", "messages": [], "stub_message": "Turned."},
            row | {"code": "NoFace", "messages": []},
        ],
        {"check-failed-a": any_status, "check-failed-b": any_status},
    )
    assert named_reason("https://example.com/Pose.Head.png", contracts) == "InvalidFile.Pose.Head"
    assert named_reason("https://example.com/head.png", contracts) is None
    assert named_reason("https://example.com/no-face.jpg", contracts) == "NoFace"
    fake = FaceDetectFake(api_keys={KEY}, contracts=contracts, failure_shape=shape)
    for url, code, message in (
        ("https://example.com/pose.head.png", "InvalidFile.Pose.Head", "Turned."),
        ("https://example.com/no-face.png", "NoFace", "NoFace"),
        (
            "https://example.com/no-human.png",
            "InvalidFile.NoHuman",
            message_of("InvalidFile.NoHuman"),
        ),
    ):
        response = call(fake, body(url))
        if shape == "A":
            assert response.status == 200
            assert response.json()["output"] == {
                "check_pass": False,
                "code": code,
                "message": message,
            }
        else:
            assert error_answer(response) == (400, code, message)


def test_an_image_url_with_a_lone_surrogate_still_gets_a_check_result(
    double: FaceDetectFake,
) -> None:
    """JSON admits "\\ud800"; the contract's pattern admits the URL; the double must not fail."""
    response = call(
        double,
        raw=b'{"model": "emo-detect-v1", "input": {"image_url": "https://example.com/\\ud800.png"}}',
    )
    assert response.status == 200 and isinstance(response.json()["output"]["check_pass"], bool)
