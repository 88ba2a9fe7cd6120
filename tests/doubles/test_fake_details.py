"""The fake's answers in detail, per packaged model: what tests/doubles/test_fake.py states in
general, pinned to the byte where the fake promises it (its docstrings, docs/double.md, the
contracts it serves).

It pins: each model's pass and named failure as whole answers (status, headers, compact JSON,
billing), the size limits at their boundaries, the face and crop rules, each broken request
field's rule and placeholder, the refusal a sibling gets for a rule its profile does not state
(its own first documented code at face-detect's status), the key's scheme and spacing, the media
type's parameters and case, the catalogue's draw within a model's aspect ratio (liveportrait's),
how a URL's host and file name name an outcome, the documented image URLs of each model, every
reading's play on a pass and a failure, which documented failure answers a reason a sibling's
table lacks (``image-names.json`` ``/models``), and the image of a documented failure. Sibling
contracts and fixtures are edited copies under ``tmp_path``. These are the details a mutation run of ``facedetect_contract/doubles/fake.py`` showed no test
looked at (mutation/scope.toml ``fake``).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from facedetect_contract.contracts import fixtures as fixtures_module
from facedetect_contract.contracts.fixtures import fixture_dir, load_fixtures
from facedetect_contract.contracts.loader import ContractFileError, Contracts, load_contracts
from facedetect_contract.core import geometry
from facedetect_contract.doubles import fake as fake_module
from facedetect_contract.doubles.fake import (
    NAMES_FILE,
    CatalogImages,
    FaceDetectFake,
    FakeRequest,
    FakeResponse,
    Image,
    ImageUnavailable,
    NamedImage,
    documented_failure,
    documented_image_urls,
    failure_reason,
    image_names,
    named_failure,
    named_reason,
)
from tests.helpers.models import FOLDERS as MODEL_FOLDERS

__all__: list[str] = []

KEY = "sk-fake-details-key"
FOLDERS = {folder.name: folder for folder in MODEL_FOLDERS}
MODELS = sorted(FOLDERS)
FIXTURES = Path(fixtures_module._FIXTURES)
DRAWN = "https://cdn.example.net/people/7.png"
NO_HUMAN = "https://cdn.example.net/people/no-human.png"


@functools.cache
def contracts_of(name: str) -> Contracts:
    return load_contracts(FOLDERS[name])


def fake_of(name: str, **options: Any) -> FaceDetectFake:
    return FaceDetectFake(
        api_keys={KEY}, contracts=contracts_of(name), request_ids=lambda: "rid", **options
    )


def request_body(contracts: Contracts, url: str, ratio: str | None = None) -> dict[str, Any]:
    """The model's valid request; where it has a ratio, ``ratio`` or its last documented one."""
    ratios = contracts.profile.ratio
    return contracts.profile.valid_request(url, ratio or (ratios.values[-1] if ratios else None))


def ask(
    fake: FaceDetectFake,
    body: Any,
    *,
    headers: dict[str, str] | None = None,
    method: str = "POST",
) -> FakeResponse:
    sent = headers if headers is not None else {
        "content-type": "application/json", "authorization": f"Bearer {KEY}"
    }  # fmt: skip
    return fake(FakeRequest(method, sent, json.dumps(body).encode()))


def answer(response: FakeResponse) -> tuple[int, dict[str, str], str]:
    return response.status, dict(response.headers), response.body.decode()


CT = {"content-type": "application/json;charset=UTF-8"}

# The whole answer to a drawn URL and to a no-human one, per model (and shape B where the model
# has it): its verdict where it has one, its own boxes or none, its own failure words.
WHOLE = {
    ("emoji-detect-v1", None, DRAWN): (200, '{"output":{"bbox_face":[197,156,486,445],"ext_bbox_face":[0,0,722,722]},"usage":{"image_count":1},"request_id":"rid"}', 1),
    ("emoji-detect-v1", None, NO_HUMAN): (200, '{"output":{"code":"InvalidFile.FacePose","message":"The pose of the detected face is invalid, please upload other image with the expected oriention."},"usage":{"image_count":1},"request_id":"rid"}', 1),
    ("face-detect", None, DRAWN): (200, '{"output":{"check_pass":true,"face_bbox":[197,156,486,445],"ext_bbox":[16,0,667,868]},"usage":{"image_count":1},"request_id":"rid"}', 1),
    ("face-detect", None, NO_HUMAN): (200, '{"output":{"check_pass":false,"code":"InvalidFile.NoHuman","message":"The input image has no human body. Please upload other image with single person."},"usage":{"image_count":1},"request_id":"rid"}', 1),
    ("face-detect", "B", NO_HUMAN): (400, '{"code":"InvalidFile.NoHuman","message":"The input image has no human body. Please upload other image with single person.","request_id":"rid"}', 0),
    ("liveportrait-detect", None, DRAWN): (200, '{"output":{"pass":true,"message":""},"usage":{"image_count":1},"request_id":"rid"}', 1),
    ("liveportrait-detect", None, NO_HUMAN): (200, '{"output":{"pass":false,"message":"No human face detected."},"usage":{"image_count":1},"request_id":"rid"}', 1),
    ("wan2.2-s2v-detect", None, DRAWN): (200, '{"output":{"check_pass":true,"humanoid":true},"usage":{"image_count":1},"request_id":"rid"}', 1),
    ("wan2.2-s2v-detect", None, NO_HUMAN): (200, '{"output":{"check_pass":false,"code":"InvalidFile.NoHuman","message":"The input image has no human body."},"usage":{"image_count":1},"request_id":"rid"}', 1),
    ("wan2.2-s2v-detect", "B", NO_HUMAN): (400, '{"code":"InvalidFile.NoHuman","message":"The input image has no human body.","request_id":"rid"}', 0),
}  # fmt: skip


@pytest.mark.parametrize(("model", "shape", "url"), list(WHOLE), ids=str)
def test_each_models_pass_and_named_failure_is_the_whole_documented_answer(
    model: str, shape: str | None, url: str
) -> None:
    """Byte for byte: compact UTF-8 JSON, the profile's media type with its charset, the model's
    own fields in its own order, billed once where the answer carries usage."""
    status, text, billed = WHOLE[(model, shape, url)]
    fake = fake_of(model, failure_shape=shape)
    assert answer(ask(fake, request_body(contracts_of(model), url))) == (status, CT, text)
    assert (fake.billed, fake.requests) == (billed, 1)


def failure_of(model: str, reason: str, shape: str | None = None) -> tuple[int, dict[str, Any]]:
    """The answer the model gives a named failure of ``reason``, request id apart."""
    fake = fake_of(model, failure_shape=shape)
    response = fake._portrait_failure(reason)
    return response.status, response.json()


def checked(model: str, image: Image, ratio: str | None = None, **options: Any) -> FakeResponse:
    url = "https://images.example/picture.png"
    fake = fake_of(model, images=CatalogImages(contracts_of(model), {url: image}), **options)
    return ask(fake, request_body(contracts_of(model), url, ratio))


@pytest.mark.parametrize("model", MODELS)
def test_the_size_limits_hold_at_their_boundaries_for_every_model(model: str) -> None:
    """The shortest side admitted (1 where the profile states none) and the longest, both
    inclusive; one pixel beyond either is the model's image-resolution failure."""
    profile = contracts_of(model).profile
    least = profile.min_side_px if profile.states("min_side_px") else 1
    most = profile.max_side_px
    failure = failure_of(model, failure_reason("image-resolution", contracts_of(model)))
    for width, height, passes in (
        (least, most, True), (most, least, True), (least - 1, most, False),
        (most, least - 1, False), (least, most + 1, False), (most + 1, least, False),
    ):  # fmt: skip
        response = checked(model, Image(width, height, "png", face=(0, 0, 1, 1)))
        got = (response.status, response.json())
        if passes:
            assert response.status == 200 and got != failure, (width, height)
        else:
            assert got[0] == failure[0], (width, height)
            assert {k: v for k, v in got[1].items() if k != "request_id"} == {
                k: v for k, v in failure[1].items() if k != "request_id"
            }, (width, height)


@pytest.mark.parametrize("model", MODELS)
def test_a_picture_without_a_face_or_with_a_reason_fails_with_it(model: str) -> None:
    """No face is the model's no-face failure; an image's own reason wins over its face."""
    contracts = contracts_of(model)
    for image, reason in (
        (Image(1024, 1024, "png"), failure_reason("no-face", contracts)),
        (Image(1024, 1024, "png", face=(0, 0, 9, 9), reason="InvalidFile.NoHuman"),
         "InvalidFile.NoHuman"),
    ):  # fmt: skip
        response = checked(model, image)
        expected = failure_of(model, reason)
        body = response.json()
        body.pop("request_id")
        expected[1].pop("request_id")
        assert (response.status, body) == expected


def test_failure_reason_is_the_rules_code_or_else_the_rules_name() -> None:
    face, emoji = contracts_of("face-detect"), contracts_of("emoji-detect-v1")
    assert failure_reason("no-face", face) == face.profile.rejections["no-face"].code
    assert failure_reason("no-face", emoji) == "no-face"


def test_a_format_is_judged_in_any_case_and_an_undocumented_one_is_refused() -> None:
    face = (10, 10, 410, 410)
    assert checked("face-detect", Image(1024, 1024, "PNG", face=face)).status == 200
    refused = checked("face-detect", Image(1024, 1024, "gif", face=face)).json()
    assert (
        refused["code"] == contracts_of("face-detect").profile.rejections["format-unsupported"].code
    )


def test_a_documented_crop_wins_and_a_computed_one_is_the_ratios_box_around_the_face() -> None:
    contracts = contracts_of("face-detect")
    at = contracts.profile.boxes["crop_box"]
    face = (400, 400, 600, 600)
    documented = Image(1024, 1024, "png", face=face, crops={"3:4": (1, 2, 301, 402)})
    assert at.get(checked("face-detect", documented, "3:4").json()) == [1, 2, 301, 402]
    computed = geometry.ext_box_for(face, (1024, 1024), geometry.parse_ratio("1:1"))
    assert computed is not None
    assert at.get(checked("face-detect", documented, "1:1").json()) == list(computed)
    face_at = contracts.profile.boxes["face_box"]
    assert face_at.get(checked("face-detect", documented, "1:1").json()) == list(face)


def test_no_crop_of_the_ratio_fitting_is_the_no_crop_fits_failure() -> None:
    contracts = contracts_of("face-detect")
    wide = Image(4000, 400, "png", face=(0, 0, 400, 400))
    response = checked("face-detect", wide, "3:4")
    body = response.json()
    body.pop("request_id")
    expected = failure_of("face-detect", failure_reason("no-crop-fits", contracts))
    expected[1].pop("request_id")
    assert (response.status, body) == expected


FACE_BODY = {
    "model": "emo-detect-v1",
    "input": {"image_url": DRAWN},
    "parameters": {"ratio": "1:1"},
}


def edited(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(json.dumps(FACE_BODY))
    change(body)
    return body


BROKEN: list[tuple[str, Callable[[dict[str, Any]], None], str, str | None]] = [
    ("no model", lambda b: b.pop("model"), "model-missing", None),
    ("null model", lambda b: b.update(model=None), "model-missing", None),
    ("empty model", lambda b: b.update(model=""), "model-missing", None),
    ("numeric model", lambda b: b.update(model=5), "field-invalid", "model"),
    ("unknown model", lambda b: b.update(model="emo-detect-v0"), "model-unknown", None),
    ("no input", lambda b: b.pop("input"), "input-missing", None),
    ("null input", lambda b: b.update(input=None), "input-missing", None),
    ("input a string", lambda b: b.update(input="x"), "field-invalid", "input"),
    ("numeric url", lambda b: b["input"].update(image_url=5), "field-invalid", "input.image_url"),
    ("empty url", lambda b: b["input"].update(image_url=""), "field-invalid", "input.image_url"),
    ("parameters a list", lambda b: b.update(parameters=[]), "field-invalid", "parameters"),
    ("ratio unknown", lambda b: b["parameters"].update(ratio="2:1"), "ratio-invalid", None),
    ("ftp url", lambda b: b["input"].update(image_url="ftp://x.example/a.png"), "url-invalid", None),
]  # fmt: skip


@pytest.mark.parametrize(
    ("change", "rule", "value"), [b[1:] for b in BROKEN], ids=[b[0] for b in BROKEN]
)
def test_each_broken_field_is_its_rule_with_the_field_named(
    change: Callable[[dict[str, Any]], None], rule: str, value: str | None
) -> None:
    """Checked in the order the endpoint checks them; the placeholder names the dotted field."""
    contracts = contracts_of("face-detect")
    rejection = contracts.profile.rejections[rule]
    status = next(contracts.errors_for(code=rejection.code)).status
    fake = fake_of("face-detect")
    expected = {"code": rejection.code, "message": rejection.text(value), "request_id": "rid"}
    assert (ask(fake, edited(change)).status, ask(fake, edited(change)).json()) == (
        status, expected,
    )  # fmt: skip
    assert fake.billed == 0


def test_parameters_left_out_take_the_default_and_a_model_without_a_default_needs_one() -> None:
    assert ask(fake_of("face-detect"), edited(lambda b: b.pop("parameters"))).status == 200
    emoji = contracts_of("emoji-detect-v1")
    body = request_body(emoji, DRAWN)
    del body["parameters"]
    response = ask(fake_of("emoji-detect-v1"), body)
    rejection = emoji.profile.rejections["ratio-invalid"]
    assert response.json()["code"] == rejection.code
    assert response.json()["message"] == rejection.text(None)


RULES = ["model-missing", "method-not-supported", "not-json", "body-invalid", "url-invalid",
         "async-call", "model-unknown",
         "no-api-key", "field-invalid", "format-unsupported", "ratio-invalid"]  # fmt: skip


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("rule", RULES)
def test_a_rule_a_sibling_does_not_state_is_its_own_first_code_at_face_detects_status(
    model: str, rule: str
) -> None:
    """``_rejection``: the profile's own rejection where it states the rule; else the model's
    first documented code (a request error first) at the status face-detect answers the rule
    with, else at the request contract's ``x-rejected-with`` status."""
    contracts, reference = contracts_of(model), load_contracts()
    response = fake_of(model).reject(rule)
    body = response.json()
    own = contracts.profile.rejections.get(rule)
    if own is not None:
        assert body["code"] == own.code and body["message"] == own.text(None)
        return
    status = next(reference.errors_for(code=reference.profile.rejections[rule].code)).status
    rows = list(contracts.errors_for(status=status)) or [
        r for r in contracts.errors
        if r.status == contracts.schemas["request"]["x-rejected-with"]["status"]
    ]  # fmt: skip
    row = next((r for r in rows if r.kind == "request"), rows[0])
    assert (response.status, body["code"]) == (row.status, row.code)
    assert body["message"] == (row.messages[0] if row.messages else row.stub_message or row.code)
    assert body["request_id"] == "rid" and "usage" not in body


def test_a_rule_no_profile_has_is_a_key_error_naming_it() -> None:
    with pytest.raises(KeyError, match="no-such-rule"):
        fake_of("liveportrait-detect").reject("no-such-rule")


@pytest.mark.parametrize(
    ("authorization", "refusal"),
    [
        (f"Bearer {KEY}", None), (f"bearer {KEY}", None), (f"BEARER   {KEY}  ", None),
        (f"Basic {KEY}", "no-api-key"), ("Bearer ", "no-api-key"), ("Bearer    ", "no-api-key"),
        (KEY, "no-api-key"), ("", "no-api-key"), ("Bearer sk-other", "unknown-api-key"),
        (f"Bearer {KEY}x", "unknown-api-key"),
    ],
)  # fmt: skip
def test_the_key_is_a_bearer_token_in_any_case_with_spaces_trimmed(
    authorization: str, refusal: str | None
) -> None:
    fake, contracts = fake_of("face-detect"), contracts_of("face-detect")
    headers = {"Content-Type": "application/json", "AUTHORIZATION": authorization}
    response = ask(fake, FACE_BODY, headers=headers)
    if refusal is None:
        assert response.status == 200 and fake.authenticate(FakeRequest("POST", headers)) is None
    else:
        rejection = contracts.profile.rejections[refusal]
        assert response.json()["code"] == rejection.code
        assert response.json()["message"] == rejection.text(None)
        assert response.status == 401 and fake.billed == 0


def test_no_authorization_header_is_no_key() -> None:
    response = ask(fake_of("face-detect"), FACE_BODY, headers={"content-type": "application/json"})
    assert (
        response.json()["code"] == contracts_of("face-detect").profile.rejections["no-api-key"].code
    )


@pytest.mark.parametrize(
    ("content_type", "accepted"),
    [("application/json", True), ("Application/JSON; charset=utf-8", True),
     (" application/json ;x=1", True), ("application/json-patch", False), ("text/json", False),
     (None, False)],
)  # fmt: skip
def test_the_media_type_is_read_without_its_parameters_in_any_case(
    content_type: str | None, accepted: bool
) -> None:
    headers = {"authorization": f"Bearer {KEY}"}
    if content_type is not None:
        headers["Content-Type"] = content_type
    response = ask(fake_of("face-detect"), FACE_BODY, headers=headers)
    not_json = contracts_of("face-detect").profile.rejections["not-json"].code
    assert (response.status == 200) is accepted
    assert (response.json().get("code") == not_json) is not accepted


def test_the_method_is_read_in_any_case_and_a_refusal_counts_as_a_request() -> None:
    fake = fake_of("face-detect")
    assert ask(fake, FACE_BODY, method="post").status == 200
    refused = ask(fake, FACE_BODY, method="put").json()
    rejection = contracts_of("face-detect").profile.rejections["method-not-supported"]
    assert refused["message"] == rejection.text("PUT")
    assert (fake.requests, fake.billed) == (2, 1)


def test_a_body_that_is_json_but_not_an_object_or_not_json_is_body_invalid() -> None:
    fake = fake_of("face-detect")
    code = contracts_of("face-detect").profile.rejections["body-invalid"].code
    headers = {"content-type": "application/json", "authorization": f"Bearer {KEY}"}
    for raw in (b"[]", b"{", b"\xff\xfe", b'"x"'):
        assert fake(FakeRequest("POST", headers, raw)).json()["code"] == code, raw


def test_extra_headers_of_a_refusal_ride_along_with_the_media_type() -> None:
    response = fake_of("face-detect").reject("throttled", headers={"retry-after": "1"})
    assert dict(response.headers) == {**CT, "retry-after": "1"}
    assert response.status == 429


def test_an_unavailable_image_says_its_rule_and_value() -> None:
    assert str(ImageUnavailable("url-refused", "h.example")) == "url-refused: h.example"
    assert str(ImageUnavailable("download-failed")) == "download-failed"
    gone = ImageUnavailable("download-failed")
    assert (gone.rule, gone.value) == ("download-failed", None)


def test_a_fake_request_header_is_none_when_absent_and_the_first_match_otherwise() -> None:
    request = FakeRequest("POST", {"X-A": "1", "x-a": "2"})
    assert request.header("x-A") == "1" and request.header("x-b") is None


@pytest.mark.parametrize(
    ("url", "outcome"),
    [
        ("https://cdn.example/No-Human.JPG", "InvalidFile.NoHuman"),
        ("https://cdn.example/a/nohuman.png", "InvalidFile.NoHuman"),
        ("https://cdn.example/a/no-human", "InvalidFile.NoHuman"),
        ("https://cdn.example/no-human/photo.png", None),
        ("https://no-human.example/photo.png", None),
        ("https://cdn.example/no-human.png.jpg", None),
        ("https://cdn.example/a/unreachable.png", None),
        ("https://my-Unreachable.example/photo.png", "url-refused"),
        ("https://cdn.example/url-timeout.png", "url-timeout"),
    ],
)
def test_a_host_names_an_outcome_by_containing_a_host_name_and_a_file_by_its_stem(
    url: str, outcome: str | None
) -> None:
    contracts = contracts_of("face-detect")
    row = named_failure(url, contracts)
    assert (None if row is None else row.code or row.rule) == outcome
    assert named_reason(url, contracts) == (None if row is None else row.code)


def test_a_host_row_fills_its_placeholder_with_the_host_and_a_file_row_with_the_host_too() -> None:
    catalog = CatalogImages(contracts_of("face-detect"))
    with pytest.raises(ImageUnavailable) as refused:
        catalog.fetch("https://my-unreachable.example/photo.png")
    assert (refused.value.rule, refused.value.value) == ("url-refused", "my-unreachable.example")
    with pytest.raises(ImageUnavailable) as timed_out:
        catalog.fetch("https://slow.example/url-timeout.png")
    assert (timed_out.value.rule, timed_out.value.value) == ("url-timeout", "slow.example")
    with pytest.raises(ImageUnavailable) as failed:
        catalog.fetch("https://slow.example/download-failed.png")
    assert (failed.value.rule, failed.value.value) == ("download-failed", None)


def test_a_named_failure_is_a_1024_square_in_the_files_format_or_the_first_documented() -> None:
    catalog = CatalogImages(contracts_of("face-detect"))
    first = contracts_of("face-detect").profile.image_formats[0]
    assert catalog.fetch("https://x.example/no-human.WEBP") == Image(
        1024, 1024, "webp", reason="InvalidFile.NoHuman"
    )
    assert catalog.fetch("https://x.example/no-human") == Image(
        1024, 1024, first, reason="InvalidFile.NoHuman"
    )
    assert catalog.fetch("https://x.example/dir.v2/photo").format == first


LIVEPORTRAIT_DRAWS = {
    0: Image(2348, 2144, "png", (1174, 1426, 1602, 1854)),
    2: Image(3176, 1588, "png", (1078, 359, 1475, 756)),
    3: Image(1064, 2128, "png", (294, 182, 560, 448)),
    5: Image(548, 1096, "png", (206, 305, 315, 414)),
    10: Image(920, 1508, "png", (232, 1237, 462, 1467)),
}


def test_the_draw_keeps_a_models_aspect_ratio_and_its_own_least_side() -> None:
    """liveportrait states no shortest side (the double's own, 512) and an aspect ratio of at
    most 2: the draw stays within it, the same in every process (these are its answers)."""
    contracts = contracts_of("liveportrait-detect")
    catalog = CatalogImages(contracts)
    widest = contracts.profile.max_aspect_ratio
    assert widest is not None
    for i in range(40):
        image = catalog.fetch(f"https://cdn.example.net/lp/{i}.png")
        if i in LIVEPORTRAIT_DRAWS:
            assert image == LIVEPORTRAIT_DRAWS[i], i
        short, long = sorted((image.width, image.height))
        assert short >= 512 and long <= widest * short, image


@pytest.mark.parametrize("model", MODELS)
def test_each_models_documented_image_urls_are_its_examples_then_its_fixtures_once_each(
    model: str,
) -> None:
    contracts = contracts_of(model)
    at = contracts.profile.request.image_url
    shown = [at.get(i.request.body) for i in load_fixtures(fixture_dir(contracts), contracts)]
    expected = [e.url for e in contracts.profile.example_images] + shown
    urls = documented_image_urls(contracts)
    assert urls == tuple(dict.fromkeys(u for u in expected if isinstance(u, str)))
    assert len(urls) == len(set(urls)) and urls


@pytest.mark.parametrize("model", ["emoji-detect-v1", "liveportrait-detect", "wan2.2-s2v-detect"])
def test_a_siblings_documented_failure_url_fails_with_its_documented_words(model: str) -> None:
    """The catalogue answers the image of each documented failed check with that failure: a
    1024 square (at least) in its file's format, so the docs' example replays."""
    contracts = contracts_of(model)
    url = "https://example.com/portraits/documented-fail.png"
    assert CatalogImages(contracts).fetch(url) == Image(1024, 1024, "png", reason="documented-fail")
    code, message = documented_failure("documented-fail", contracts)
    body = ask(fake_of(model), request_body(contracts, url)).json()
    fields = contracts.profile.response
    assert fields.reason_message.get(body) == message
    if code:
        assert fields.reason_code.get(body) == code


def test_the_fakes_repr_counts_keys_and_names_the_shape() -> None:
    fake = FaceDetectFake(api_keys={"a", "b"}, contracts=contracts_of("wan2.2-s2v-detect"),
                          failure_shape="B")  # fmt: skip
    assert repr(fake) == "FaceDetectFake(failure_shape='B', keys=2)"
    assert repr(fake_of("emoji-detect-v1")) == "FaceDetectFake(failure_shape='A', keys=1)"


def test_a_failure_shape_against_its_reading_is_refused_naming_both() -> None:
    with pytest.raises(ValueError, match=r"failure_shape='B' is reading 'B' of question "
                       r"'failure-shape', but readings asks for 'A': give one of them"):  # fmt: skip
        FaceDetectFake(api_keys={KEY}, failure_shape="B", readings={"failure-shape": "A"})
    same = FaceDetectFake(api_keys={KEY}, failure_shape="B", readings={"failure-shape": "B"})
    assert same.failure_shape == "B" and same.readings["failure-shape"] == "B"


def test_an_image_the_model_cannot_have_is_its_rule_through_the_fake() -> None:
    contracts = contracts_of("face-detect")
    body = edited(lambda b: b["input"].update(image_url="https://h.example/file-too-large.png"))
    response = ask(fake_of("face-detect"), body)
    rejection = contracts.profile.rejections["file-too-large"]
    assert response.json()["code"] == rejection.code
    assert response.json()["message"] == rejection.text(None)


def test_a_path_python_cannot_parse_is_named_by_its_file_name_up_to_a_query() -> None:
    contracts = contracts_of("face-detect")
    assert named_reason("https://[zz/no-human.png?x=1#y", contracts) == "InvalidFile.NoHuman"
    assert named_reason("https://[zz/photo.png?no-human", contracts) is None


# The readings that change a drawn pass or a no-human failure (headers beyond the media type,
# body), per model: every other reading answers both as the defaults do (WHOLE above).
# fmt: off
READ: dict[tuple[str, str], list[tuple[int, dict[str, str], str]]] = {
    ('emoji-detect-v1', 'verdict-less-pass=empty-code'): [(200, {}, '{"output":{"bbox_face":[197,156,486,445],"ext_bbox_face":[0,0,722,722],"code":"","message":""},"usage":{"image_count":1},"request_id":"rid"}'), (200, {}, '{"output":{"code":"InvalidFile.FacePose","message":"The pose of the detected face is invalid, please upload other image with the expected oriention."},"usage":{"image_count":1},"request_id":"rid"}')],
    ('face-detect', 'failure-shape=B'): [(200, {}, '{"output":{"check_pass":true,"face_bbox":[197,156,486,445],"ext_bbox":[16,0,667,868]},"usage":{"image_count":1},"request_id":"rid"}'), (400, {}, '{"code":"InvalidFile.NoHuman","message":"The input image has no human body. Please upload other image with single person.","request_id":"rid"}')],
    ('face-detect', 'failure-details=empty'): [(200, {}, '{"output":{"check_pass":true,"face_bbox":[197,156,486,445],"ext_bbox":[16,0,667,868]},"usage":{"image_count":1},"request_id":"rid"}'), (200, {}, '{"output":{"check_pass":false,"code":"","message":""},"usage":{"image_count":1},"request_id":"rid"}')],
    ('face-detect', 'failure-details=absent'): [(200, {}, '{"output":{"check_pass":true,"face_bbox":[197,156,486,445],"ext_bbox":[16,0,667,868]},"usage":{"image_count":1},"request_id":"rid"}'), (200, {}, '{"output":{"check_pass":false},"usage":{"image_count":1},"request_id":"rid"}')],
    ('face-detect', 'humanoid-returned=returned'): [(200, {}, '{"output":{"check_pass":true,"face_bbox":[197,156,486,445],"ext_bbox":[16,0,667,868],"humanoid":true},"usage":{"image_count":1},"request_id":"rid"}'), (200, {}, '{"output":{"check_pass":false,"code":"InvalidFile.NoHuman","message":"The input image has no human body. Please upload other image with single person.","humanoid":false},"usage":{"image_count":1},"request_id":"rid"}')],
    ('face-detect', 'failure-billing=not-billed'): [(200, {}, '{"output":{"check_pass":true,"face_bbox":[197,156,486,445],"ext_bbox":[16,0,667,868]},"usage":{"image_count":1},"request_id":"rid"}'), (200, {}, '{"output":{"check_pass":false,"code":"InvalidFile.NoHuman","message":"The input image has no human body. Please upload other image with single person."},"request_id":"rid"}')],
    ('face-detect', 'box-conventions=within-one-pixel'): [(200, {}, '{"output":{"check_pass":true,"face_bbox":[197,156,486,445],"ext_bbox":[16,0,666,867]},"usage":{"image_count":1},"request_id":"rid"}'), (200, {}, '{"output":{"check_pass":false,"code":"InvalidFile.NoHuman","message":"The input image has no human body. Please upload other image with single person."},"usage":{"image_count":1},"request_id":"rid"}')],
    ('face-detect', 'image-url=http-only'): [(400, {}, '{"code":"InvalidURL","message":"Invalid URL provided in your request.","request_id":"rid"}'), (400, {}, '{"code":"InvalidURL","message":"Invalid URL provided in your request.","request_id":"rid"}')],
    ('face-detect', 'request-id-header=present'): [(200, {'x-request-id': 'rid'}, '{"output":{"check_pass":true,"face_bbox":[197,156,486,445],"ext_bbox":[16,0,667,868]},"usage":{"image_count":1},"request_id":"rid"}'), (200, {'x-request-id': 'rid'}, '{"output":{"check_pass":false,"code":"InvalidFile.NoHuman","message":"The input image has no human body. Please upload other image with single person."},"usage":{"image_count":1},"request_id":"rid"}')],
    ('liveportrait-detect', 'failure-billing=not-billed'): [(200, {}, '{"output":{"pass":true,"message":""},"usage":{"image_count":1},"request_id":"rid"}'), (200, {}, '{"output":{"pass":false,"message":"No human face detected."},"request_id":"rid"}')],
    ('liveportrait-detect', 'message-on-pass=absent'): [(200, {}, '{"output":{"pass":true},"usage":{"image_count":1},"request_id":"rid"}'), (200, {}, '{"output":{"pass":false,"message":"No human face detected."},"usage":{"image_count":1},"request_id":"rid"}')],
    ('wan2.2-s2v-detect', 'failure-status=B'): [(200, {}, '{"output":{"check_pass":true,"humanoid":true},"usage":{"image_count":1},"request_id":"rid"}'), (400, {}, '{"code":"InvalidFile.NoHuman","message":"The input image has no human body.","request_id":"rid"}')],
    ('wan2.2-s2v-detect', 'humanoid-on-failure=both'): [(200, {}, '{"output":{"check_pass":true,"humanoid":true},"usage":{"image_count":1},"request_id":"rid"}'), (200, {}, '{"output":{"check_pass":false,"code":"InvalidFile.NoHuman","message":"The input image has no human body.","humanoid":false},"usage":{"image_count":1},"request_id":"rid"}')],
}
# fmt: on
EVERY_READING = [
    (model, f"{question}={reading.id}")
    for model in MODELS
    for question, asked in contracts_of(model).questions.items()
    for reading in asked.playable
]


@pytest.mark.parametrize(("model", "reading"), EVERY_READING, ids=str)
def test_each_reading_answers_a_pass_and_a_named_failure_as_its_play_says(
    model: str, reading: str
) -> None:
    """Each reading's play applied to the answer (set, remove, offset, the failure kind, the
    added header) and nothing else; billing follows the answer's usage."""
    question, _, chosen = reading.partition("=")
    fake = fake_of(model, readings={question: chosen})
    expected = READ.get((model, reading)) or [
        (WHOLE[(model, None, url)][0], {}, WHOLE[(model, None, url)][1])
        for url in (DRAWN, NO_HUMAN)
    ]
    got = []
    for url in (DRAWN, NO_HUMAN):
        response = ask(fake, request_body(contracts_of(model), url))
        headers = dict(response.headers)
        assert headers.pop("content-type") == CT["content-type"]
        got.append((response.status, headers, response.body.decode()))
    assert got == expected
    billing = contracts_of(model).profile.response.billed_images
    bills = [billing.get(json.loads(text)) for _, _, text in got]
    assert fake.billed == sum(bill for bill in bills if isinstance(bill, int))


def readings_fake(**readings: str) -> FaceDetectFake:
    return fake_of("face-detect", readings=readings)


def test_ratio_required_refuses_no_parameters_with_its_code_and_no_ratio_naming_the_field() -> None:
    contracts = contracts_of("face-detect")
    fake = readings_fake(**{"ratio-default": "required"})
    empty = next(contracts.errors_for(code="BadRequest.EmptyParameters"))
    response = ask(fake, edited(lambda b: b.pop("parameters")))
    assert (response.status, response.json()) == (
        empty.status, {"code": empty.code, "message": empty.messages[0], "request_id": "rid"},
    )  # fmt: skip
    response = ask(fake, edited(lambda b: b.update(parameters={})))
    field_invalid = contracts.profile.rejections["field-invalid"]
    assert response.json()["message"] == field_invalid.text("parameters.ratio")
    assert ask(fake, FACE_BODY).status == 200


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (lambda b: b.update(extra=1), "extra"),
        (lambda b: b["input"].update(extra=1), "input.extra"),
        (lambda b: b["parameters"].update(extra={"a": 1}), "parameters.extra"),
    ],
)
def test_unknown_fields_rejected_names_the_first_unknown_field_at_its_depth(
    change: Callable[[dict[str, Any]], None], named: str
) -> None:
    rejection = contracts_of("face-detect").profile.rejections["field-invalid"]
    refused = ask(readings_fake(**{"unknown-fields": "rejected"}), edited(change))
    assert refused.json()["message"] == rejection.text(named)
    assert ask(readings_fake(), edited(change)).status == 200


@pytest.mark.parametrize(
    ("reading", "header", "passes"),
    [("resolved", "enable", True), ("resolved", " enable ", True), ("resolved", "Enable", False),
     ("resolved", None, False), ("refused", "enable", False)],
)  # fmt: skip
def test_an_oss_url_is_admitted_only_with_the_header_enabled(
    reading: str, header: str | None, passes: bool
) -> None:
    url = "oss://dashscope-instant/abc/photo.png"
    headers = {"content-type": "application/json", "authorization": f"Bearer {KEY}"}
    if header is not None:
        headers["X-DashScope-OssResourceResolve"] = header
    fake = readings_fake(**{"oss-url": reading})
    response = ask(fake, edited(lambda b: b["input"].update(image_url=url)), headers=headers)
    url_invalid = contracts_of("face-detect").profile.rejections["url-invalid"]
    if passes:
        assert response.status == 200
    else:
        assert response.json()["code"] == url_invalid.code


def test_an_oss_url_with_the_header_is_still_judged_by_its_name() -> None:
    url = "oss://dashscope-instant/abc/no-human.png"
    headers = {"content-type": "application/json", "authorization": f"Bearer {KEY}",
               "x-dashscope-ossresourceresolve": "enable"}  # fmt: skip
    response = ask(
        readings_fake(), edited(lambda b: b["input"].update(image_url=url)), headers=headers
    )
    assert response.json()["output"]["code"] == "InvalidFile.NoHuman"


@pytest.mark.parametrize("model", MODELS)
def test_the_throttle_is_the_code_each_reading_names_at_its_status_with_its_first_message(
    model: str,
) -> None:
    contracts = contracts_of(model)
    for reading in contracts.questions["throttle-code"].playable:
        fake = fake_of(model, readings={"throttle-code": reading.id})
        row = next(r for r in contracts.errors_for(code=reading.id) if r.status == 429)
        message = row.messages[0] if row.messages else row.stub_message or row.code
        response = fake.reject("throttled", headers={"Retry-After": "2"})
        assert (response.status, response.json()) == (
            429, {"code": reading.id, "message": message, "request_id": "rid"},
        ), reading.id  # fmt: skip
        assert response.headers["Retry-After"] == "2"


def test_the_async_header_is_refused_naming_the_header_whatever_its_value() -> None:
    contracts = contracts_of("face-detect")
    rejection = contracts.profile.rejections["async-call"]
    status = next(contracts.errors_for(code=rejection.code)).status
    for value in ("enable", ""):
        headers = {"content-type": "application/json", "authorization": f"Bearer {KEY}",
                   "X-DashScope-Async": value}  # fmt: skip
        response = ask(fake_of("face-detect"), FACE_BODY, headers=headers)
        assert (response.status, response.json()) == (
            status, {"code": rejection.code, "message": rejection.text("x-dashscope-async"),
                     "request_id": "rid"},
        )  # fmt: skip


def test_the_request_response_and_image_records_are_frozen_with_their_documented_defaults() -> None:
    request = FakeRequest("GET", {})
    assert request.body == b""
    named = NamedImage("x")
    assert (named.code, named.rule, named.where, named.value) == (None, None, "file", None)
    records: tuple[object, ...] = (request, FakeResponse(200, {}, b"{}"), Image(1, 1, "png"), named)
    for record in records:
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(record, "format", "x")  # noqa: B010 - any field: a frozen record refuses it


def copied_once(model: str) -> Contracts:
    """A fresh load of a packaged folder (not the cached one): a cache keyed by it starts empty."""
    return load_contracts(FOLDERS[model])


def message_of(code: str) -> str:
    return next(contracts_of("face-detect").errors_for(code=code)).messages[0]


def copied(tmp_path: Path, model: str, edit: Callable[[Path], None]) -> Contracts:
    """A copy of a packaged contracts folder under another name, edited."""
    directory = tmp_path / f"{model}-copy"
    shutil.copytree(FOLDERS[model], directory)
    edit(directory)
    return load_contracts(directory)


def renamed(directory: Path) -> None:
    """The model renamed (its request enum too): a model with no documented fixtures."""
    for name in ("endpoint.json", "request.schema.json"):
        path = directory / name
        path.write_text(path.read_text().replace('"liveportrait-detect"', '"liveportrait-new"'))


def test_a_model_without_documented_failures_is_told_what_to_add(tmp_path: Path) -> None:
    """``documented_failure``: a model whose table lacks the reason and whose docs show no
    failure is a ContractFileError naming the names file, the model, the folder and the reason."""
    contracts = copied(tmp_path, "liveportrait-detect", renamed)
    with pytest.raises(ContractFileError) as refused:
        documented_failure("InvalidFile.NoHuman", contracts)
    text = str(refused.value)
    assert text.startswith(f"{NAMES_FILE}: at /models/liveportrait-new: no documented failed ")
    assert str(fixture_dir(contracts)) in text
    assert "the reason 'InvalidFile.NoHuman'" in text and text.endswith("name one of []")


def with_portrait_rows(
    rows: list[dict[str, Any]], failed_b: dict[str, Any]
) -> Callable[[Path], None]:
    def edit(directory: Path) -> None:
        table = json.loads((directory / "errors.json").read_text())
        table["errors"] += rows
        (directory / "errors.json").write_text(json.dumps(table))
        profile = json.loads((directory / "endpoint.json").read_text())
        kind = profile["answers"]["check-failed-b"]
        kind.pop("status", None)
        kind.update(failed_b)
        (directory / "endpoint.json").write_text(json.dumps(profile))

    return edit


PORTRAIT_ROW = {"kind": "portrait", "retryable": False, "source": "https://x.invalid/"}


def test_a_code_the_names_table_lacks_is_named_by_its_code_after_the_category_lower_cased(
    tmp_path: Path,
) -> None:
    edit = with_portrait_rows(
        [PORTRAIT_ROW | {"status": 422, "code": "InvalidFile.Pose.Head", "messages": ["Turned."]}],
        {"status_at_least": 400},
    )
    contracts = copied(tmp_path, "face-detect", edit)
    assert NamedImage("pose.head", code="InvalidFile.Pose.Head") in image_names(contracts)
    fake = FaceDetectFake(api_keys={KEY}, contracts=contracts, failure_shape="B",
                          request_ids=lambda: "rid")  # fmt: skip
    url = "https://i.example/POSE.head.png"
    response = ask(fake, edited(lambda b: b["input"].update(image_url=url)))
    assert (response.status, response.json()) == (
        422, {"code": "InvalidFile.Pose.Head", "message": "Turned.", "request_id": "rid"},
    )  # fmt: skip
    # a reason the table lacks: the first documented failure's words at the kind's least status
    other = fake._portrait_failure("Not.In.The.Table")
    assert other.status == 400 and other.json()["code"] == "InvalidFile.NoHuman"


def test_a_failure_kind_below_400_answers_in_the_verdict_shape(tmp_path: Path) -> None:
    """Only a 4xx failure kind is an error body; one at 399 carries the verdict, code, message."""
    contracts = copied(tmp_path, "face-detect", with_portrait_rows([], {"status_at_least": 399}))
    fake = FaceDetectFake(api_keys={KEY}, contracts=contracts, failure_shape="B")
    response = fake._portrait_failure("InvalidFile.NoHuman")
    body = response.json()
    body.pop("request_id")
    assert response.status == 200
    assert body == {"code": "InvalidFile.NoHuman", "message": message_of("InvalidFile.NoHuman"),
                    "usage": {"image_count": 1}}  # fmt: skip


@pytest.mark.parametrize(
    ("shape", "status", "text"),
    [("A", 200, '{"output":{"check_pass":false,"code":"","message":""},"usage":{"image_count":1},"request_id":"rid"}'),
     ("B", 400, '{"code":"InvalidFile.NoHuman","message":"The input image has no human body.","request_id":"rid"}')],
)  # fmt: skip
def test_a_reason_a_sibling_lacks_is_its_documented_words_and_an_error_body_needs_a_code(
    shape: str, status: int, text: str
) -> None:
    """wan2.2 states no image-resolution rule: a too small image fails with its documented
    failure's (empty) words; as an error body (shape B) that needs a code, its first portrait
    code with that code's message."""
    response = checked("wan2.2-s2v-detect", Image(10, 10, "png", face=(0, 0, 1, 1)),
                       failure_shape=shape)  # fmt: skip
    assert (response.status, response.body.decode()) == (status, text)


def test_a_rule_answered_at_a_status_the_model_lacks_falls_back_to_its_request_status(
    tmp_path: Path,
) -> None:
    """No row at face-detect's status for the rule nor at ``x-rejected-with``: the model's
    first row below 500 that is no throttling (a request error first)."""

    def elsewhere(directory: Path) -> None:
        path = directory / "request.schema.json"
        schema = json.loads(path.read_text())
        schema["x-rejected-with"] = {"status": 418}
        path.write_text(json.dumps(schema))
        errors = directory / "errors.json"  # the common page's 403 rows gone: none at 403
        table = json.loads(errors.read_text())
        table["errors"] = [row for row in table["errors"] if row["status"] != 403]
        errors.write_text(json.dumps(table))

    contracts = copied(tmp_path, "liveportrait-detect", elsewhere)
    assert not list(contracts.errors_for(status=403))  # face-detect answers async-call 403
    response = FaceDetectFake(api_keys={KEY}, contracts=contracts).reject("async-call")
    rows = [r for r in contracts.errors if r.status < 500 and r.kind != "throttling"]
    first = next((r for r in rows if r.kind == "request"), rows[0])  # a request error first
    assert (response.status, response.json()["code"]) == (first.status, first.code)


def test_an_edit_of_a_field_the_answer_lacks_leaves_it_absent() -> None:
    """A play's ``remove`` of an absent field and ``offset`` of an absent box change nothing."""
    removing = fake_of("face-detect", readings={"failure-details": "absent"})
    response = removing._respond(200, {"output": {}}, kind="check-failed-a")
    assert response.json() == {"output": {}, "request_id": "rid"}
    offsetting = fake_of("face-detect", readings={"box-conventions": "within-one-pixel"})
    response = offsetting._respond(200, {"output": {"ext_bbox": [1, 2]}}, kind="check-passed")
    assert response.json() == {"output": {"ext_bbox": [1, 2]}, "request_id": "rid"}
    assert offsetting._respond(200, {}, kind="check-passed").json() == {"request_id": "rid"}


def test_the_names_table_is_ascii_so_its_encoding_cannot_matter() -> None:
    NAMES_FILE.read_bytes().decode("ascii")


def test_a_documented_failures_image_takes_its_format_from_its_file_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The catalogue's image of a documented failed check: a square of the least side admitted,
    at least 1024, in the format its file name's extension gives in any case, else the first
    documented one (a dot in a folder's name is no extension); a documented failure the names
    table names keeps the table's outcome."""
    fixtures = tmp_path / "fixtures"
    contracts = copied(tmp_path, "liveportrait-detect", lambda _: None)
    folder = fixtures / contracts.directory.name
    folder.mkdir(parents=True)
    shown = json.loads((FIXTURES / "liveportrait-detect" / "documented-fail.json").read_text())
    urls = {
        "documented-fail": "https://example.com/v1.2/Shown.WEBP",
        "bare": "https://example.com/v1.2/shown",
        "named": "https://example.com/a/no-human.png",
    }
    for name, url in urls.items():
        shown["name"] = name
        shown["request"]["body"]["input"]["image_url"] = url
        (folder / f"{name}.json").write_text(json.dumps(shown))
    monkeypatch.setattr(fixtures_module, "_FIXTURES", fixtures)
    images = CatalogImages(contracts).images
    first = contracts.profile.image_formats[0]
    assert images == {
        urls["documented-fail"]: Image(1024, 1024, "webp", reason="documented-fail"),
        urls["bare"]: Image(1024, 1024, first, reason="bare"),
    }


@pytest.mark.parametrize("url", ["file:///srv/url-timeout.png", "https://[zz/url-timeout.png"])
def test_a_url_without_a_host_python_reads_fills_the_placeholder_with_nothing(url: str) -> None:
    """No host (none in the URL, or one Python cannot parse): the host placeholder is empty."""
    with pytest.raises(ImageUnavailable) as timed_out:
        CatalogImages(contracts_of("face-detect")).fetch(url)
    assert (timed_out.value.rule, timed_out.value.value) == ("url-timeout", "")


def with_errors(change: Callable[[list[dict[str, Any]]], None]) -> Callable[[Path], None]:
    def edit(directory: Path) -> None:
        table = json.loads((directory / "errors.json").read_text())
        change(table["errors"])
        (directory / "errors.json").write_text(json.dumps(table))

    return edit


def test_a_played_code_is_its_row_at_the_rules_status_with_its_first_message_or_stub(
    tmp_path: Path,
) -> None:
    """``reject`` with a play's code: the code's row at the status the rule is answered with
    (not another row of the code), its first message, else the project's stub message, else
    the code itself; a refusal naming a code answers its first row the same way."""

    def change(rows: list[dict[str, Any]]) -> None:
        burst = next(r for r in rows if r["code"] == "Throttling.BurstRate")
        burst["stub_message"] = "Slow down."
        rows.insert(0, burst | {"status": 400, "messages": ["Elsewhere."]})
        empty = next(r for r in rows if r["code"] == "BadRequest.EmptyParameters")
        empty["messages"] = []

    contracts = copied(tmp_path, "face-detect", with_errors(change))
    fake = FaceDetectFake(
        api_keys={KEY},
        contracts=contracts,
        request_ids=lambda: "rid",
        readings={"throttle-code": "Throttling.BurstRate", "ratio-default": "required"},
    )
    response = fake.reject("throttled")
    assert (response.status, response.json()) == (
        429,
        {"code": "Throttling.BurstRate", "message": "Slow down.", "request_id": "rid"},
    )
    refused = ask(fake, edited(lambda b: b.pop("parameters")))
    assert (refused.status, refused.json()) == (
        400,
        {"code": "BadRequest.EmptyParameters", "message": "BadRequest.EmptyParameters",
         "request_id": "rid"},
    )  # fmt: skip


def test_a_stated_rule_keeps_its_own_code_when_a_sibling_has_a_request_row_after_another(
    tmp_path: Path,
) -> None:
    """``_rejection`` prefers the model's request error at the status over an earlier row of
    another kind, else takes the first row there."""
    request_row = {"status": 400, "code": "InvalidParameter", "kind": "request",
                   "messages": ["Bad request."], "retryable": False, "source": "https://x.invalid/"}  # fmt: skip
    image_row = request_row | {"code": "InvalidParameter.Other", "kind": "image", "messages": []}

    def change(rows: list[dict[str, Any]]) -> None:
        rows.insert(1, request_row)
        rows.append(image_row)

    contracts = copied(tmp_path, "liveportrait-detect", with_errors(change))
    fake = FaceDetectFake(api_keys={KEY}, contracts=contracts, request_ids=lambda: "rid")
    assert fake.reject("model-missing").json() == {
        "code": "InvalidParameter", "message": "Bad request.", "request_id": "rid",
    }  # fmt: skip

    def images_only(rows: list[dict[str, Any]]) -> None:  # no request row at 400 at all
        rows[:] = [r for r in rows if not (r["status"] == 400 and r["kind"] == "request")]
        rows.append(image_row)

    contracts = copied(tmp_path / "b", "liveportrait-detect", with_errors(images_only))
    first = next(r for r in contracts.errors if r.status == 400)
    response = FaceDetectFake(api_keys={KEY}, contracts=contracts).reject("model-missing")
    assert response.json()["code"] == first.code != "InvalidParameter.Other"


def test_a_failure_kind_without_its_own_pointers_uses_the_profiles_reason_fields(
    tmp_path: Path,
) -> None:
    """A failed-check kind naming no code pointer carries its code where the profile's response
    states reason_code (its message pointer is required: endpoint.schema.json)."""

    def bare(directory: Path) -> None:
        profile = json.loads((directory / "endpoint.json").read_text())
        profile["answers"]["check-failed-a"].pop("code")
        (directory / "endpoint.json").write_text(json.dumps(profile))

    contracts = copied(tmp_path, "face-detect", bare)
    fake = FaceDetectFake(api_keys={KEY}, contracts=contracts, request_ids=lambda: "rid")
    got = ask(fake, edited(lambda b: b["input"].update(image_url=NO_HUMAN)))
    assert (got.status, got.body.decode()) == WHOLE[("face-detect", None, NO_HUMAN)][:2]


def test_a_model_names_which_documented_failure_answers_each_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``image-names.json`` ``/models``: a reason's own fixture, else ``otherwise``, a
    documented failure's own name answers with it, and a model not listed answers with its
    first documented failure (by name)."""
    fixtures = tmp_path / "fixtures"
    contracts = copied(tmp_path, "liveportrait-detect", lambda _: None)
    folder = fixtures / contracts.directory.name
    folder.mkdir(parents=True)
    shown = json.loads((FIXTURES / "liveportrait-detect" / "documented-fail.json").read_text())
    for name in ("a-first", "b-reason", "c-otherwise", "d-last"):
        shown["name"] = name
        shown["response"]["body"]["output"]["message"] = f"{name} words"
        shown["request"]["body"]["input"]["image_url"] = f"https://example.com/{name}.png"
        (folder / f"{name}.json").write_text(json.dumps(shown))
    monkeypatch.setattr(fixtures_module, "_FIXTURES", fixtures)
    names = dict(fake_module._names_data())
    names["models"] = {"liveportrait-detect": {
        "reasons": {"InvalidFile.NoHuman": "b-reason"}, "otherwise": "c-otherwise"}}  # fmt: skip
    monkeypatch.setattr(fake_module, "_names_data", lambda: names)
    assert documented_failure("InvalidFile.NoHuman", contracts) == (None, "b-reason words")
    assert documented_failure("InvalidFile.Value", contracts) == (None, "c-otherwise words")
    assert documented_failure("d-last", contracts) == (None, "d-last words")
    names["models"] = {}
    documented_failure.cache_clear()
    assert documented_failure("InvalidFile.Value", contracts) == (None, "a-first words")
    documented_failure.cache_clear()


def test_a_failure_shape_no_question_names_is_played_as_given() -> None:
    """emoji's only failed-check kind (shape A) belongs to no open question: the shorthand
    plays it and names it."""
    fake = fake_of("emoji-detect-v1", failure_shape="A")
    assert fake.failure_shape == "A"
    got = ask(fake, request_body(contracts_of("emoji-detect-v1"), NO_HUMAN))
    assert (got.status, got.body.decode()) == WHOLE[("emoji-detect-v1", None, NO_HUMAN)][:2]


@pytest.mark.parametrize(
    ("row", "where"),
    [({"name": "x", "rule": "no-such-rule"}, "/names/0/rule: no rule 'no-such-rule'"),
     ({"name": "x", "code": "InvalidFile.NoHuman", "rule": "url-timeout"},
      "/names/0: give exactly one of code and rule"),
     ({"name": "x"}, "/names/0: give exactly one of code and rule")],
)  # fmt: skip
def test_a_names_table_row_with_an_unknown_rule_or_not_one_outcome_is_refused(
    monkeypatch: pytest.MonkeyPatch, row: dict[str, str], where: str
) -> None:
    contracts = copied_once("wan2.2-s2v-detect")
    monkeypatch.setattr(fake_module, "_names_data", lambda: {"names": [row]})
    with pytest.raises(ContractFileError, match=re.escape(f"{NAMES_FILE}: at {where}")):
        image_names.__wrapped__(contracts)
