"""Keys never leave the process: redaction of headers, text and written fixtures."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest

from facedetect_contract.fixtures import load_fixtures, write_fixture
from facedetect_contract.redaction import Secret, redact_headers, redact_text

# Not "sk-..." on purpose: the generic key pattern must not be what hides it.
SENTINEL = "gwkey-SENTINEL-0123456789abcdef"


def test_credential_headers_keep_their_scheme_but_lose_their_value() -> None:
    cleaned = redact_headers(
        {"Authorization": f"Bearer {SENTINEL}", "X-Api-Key": SENTINEL, "Accept": "json"}
    )
    assert cleaned == {
        "authorization": "Bearer <redacted>",
        "x-api-key": "<redacted>",
        "accept": "json",
    }


def test_placeholders_survive_redaction() -> None:
    assert redact_headers({"authorization": "Bearer <invalid>"}) == {
        "authorization": "Bearer <invalid>"
    }


@pytest.mark.parametrize(
    "text",
    [
        f"key {SENTINEL} here",
        f'"Authorization": "Bearer {SENTINEL}"',
        "bearer abc.def-ghi",
        "sk-0123456789abcdef",
    ],
)
def test_key_like_text_is_redacted(text: str) -> None:
    assert "<redacted>" in redact_text(text, [SENTINEL])
    assert SENTINEL not in redact_text(text, [SENTINEL])


def test_an_empty_or_padded_key_is_refused_with_the_fix() -> None:
    with pytest.raises(ValueError, match="bare key"):
        Secret(" sk-x ")
    assert Secret.from_env({"DASHSCOPE_API_KEY": "  "}) is None


def test_a_written_fixture_holds_no_key_even_when_a_response_echoes_it(tmp_path: Path) -> None:
    fixture = load_fixtures()[0]
    data = fixture.to_dict()
    data["response"]["body"]["message"] = f"your key {SENTINEL} is fine"
    echoed = type(fixture).from_dict(data)
    path = write_fixture(echoed, tmp_path, [Secret(SENTINEL)])
    text = path.read_text()
    assert SENTINEL not in text
    assert json.loads(text)["response"]["body"]["message"] == "your key <redacted> is fine"
    assert [p.name for p in tmp_path.iterdir()] == [path.name], "no temp file left behind"


def test_a_secret_never_shows_its_value() -> None:
    secret = Secret(SENTINEL)
    assert SENTINEL not in f"{secret} {secret!r} {secret:>80}"
    with pytest.raises(TypeError):
        pickle.dumps(secret)
    assert secret.reveal() == SENTINEL
