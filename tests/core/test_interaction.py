"""One exchange: strict JSON in, and a response that says why its body is not JSON when it is not."""

from __future__ import annotations

import re

import pytest

from facedetect_contract.core.interaction import MAX_JSON_DEPTH, RecordedResponse, parse_json


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b'{"score": NaN}', "NaN is not a JSON value"),
        (b'{"score": -Infinity}', "-Infinity is not a JSON value"),
        (b'{"code": "a", "code": "b"}', "the key 'code' appears twice in one object"),
        (b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1), "nested deeper than 64 levels"),
        (b"[" * 100_000, "nested deeper than 64 levels"),
        (b'{"message": "caf\xe9"}', "not UTF-8 (byte 16)"),
        (b'\xef\xbb\xbf{"code": "a"}', "BOM"),
        (b'{"code": "a"', "Expecting ',' delimiter"),
        (b'{"x1": 1e999}', "the number 1e999 is out of range"),  # would be written as Infinity
        (b"[-1E400]", "the number -1E400 is out of range"),
    ],
    ids=[
        "nan",
        "infinity",
        "duplicate-key",
        "too-deep",
        "100000-deep",
        "latin-1",
        "bom",
        "cut",
        "overflowing-float",
        "overflowing-negative-float",
    ],
)
def test_what_python_tolerates_but_json_forbids_is_refused_with_the_reason(
    content: bytes, why: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(why)):
        parse_json(content)


def test_json_as_deep_as_the_limit_and_repeated_keys_in_separate_objects_are_parsed() -> None:
    deep = b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH
    assert parse_json(deep) is not None
    assert parse_json(b'[{"a": 1}, {"a": 2}]') == [{"a": 1}, {"a": 2}]
    assert parse_json(b'{"text": "[[[[{{{{"}') == {"text": "[[[[{{{{"}
    assert parse_json('{"message": "café"}'.encode()) == {"message": "café"}
    assert parse_json(b"[1.5e308, 1e-999, 123456789012345678901234567890]") == [
        1.5e308,
        0.0,
        123456789012345678901234567890,
    ]


def test_a_body_that_is_not_json_is_kept_as_text_with_the_reason() -> None:
    response = RecordedResponse.from_bytes(
        502, {"Content-Type": "text/html"}, b"<html>bad gateway</html>"
    )
    assert (response.status, response.body, response.body_is_json) == (
        502,
        "<html>bad gateway</html>",
        False,
    )
    assert response.not_json.startswith("Expecting value")
    assert response.headers == {"content-type": "text/html"}


def test_a_body_python_would_parse_is_still_not_json_and_says_why() -> None:
    duplicated = RecordedResponse.from_bytes(200, {}, b'{"request_id": "a", "request_id": "b"}')
    assert not duplicated.body_is_json
    assert duplicated.body == '{"request_id": "a", "request_id": "b"}'
    assert duplicated.not_json == "the key 'request_id' appears twice in one object"
    latin = RecordedResponse.from_bytes(200, {}, b'{"message": "caf\xe9"}')
    assert (latin.body_is_json, latin.not_json) == (False, "not UTF-8 (byte 16)")
    assert latin.body == '{"message": "caf\ufffd"}'
    parsed = RecordedResponse.from_bytes(200, {}, b'{"request_id": "a"}')
    assert (parsed.body, parsed.body_is_json, parsed.not_json) == ({"request_id": "a"}, True, "")
