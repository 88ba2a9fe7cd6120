"""The key in every encoding an echo takes, and a key that shares words with the API.

Each run is a real ``pytest --live`` session (``tests/helpers/hostile.py``'s project, options and
zero-bytes-of-the-key assertion) against the stub, whose answers echo the key in one encoding a
gateway, an error page or a log formatter writes: percent-encoding of every byte in either case,
or twice; HTML character references, decimal and hex, mixed with literal characters; JSON escapes
in text; fullwidth forms; zero-width characters between the key's characters; a line wrapped
inside it. The leak check here reads every written text decoded in each of those ways too.

A key sharing a run of 8 characters with the API's own words (``team-parameters-2026``) cannot
be redacted without erasing those words from every report: a usage error naming the word. The
run's judgement never depends on the key: a run made with it (below the plugin) against an
honest stub judges every answer as it came, without a breaking finding.
"""

from __future__ import annotations

import html
import json
import re
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote

import pytest

from facedetect_contract.contracts.cases import LiveCase
from facedetect_contract.contracts.fixtures import IMAGE_DIR
from facedetect_contract.core.violations import Severity
from facedetect_contract.doubles.fake import FakeRequest, FakeResponse
from facedetect_contract.doubles.server import serve_in_thread
from facedetect_contract.live.run import LiveRun, LiveSettings
from tests.helpers.hostile import (
    KEYS,
    LIVE_ARGS,
    WRITE_EVERYTHING,
    Project,
    check_the_run,
    leaks,
)

pytestmark = pytest.mark.hostile
pytest_plugins = ["pytester"]


def _percent(key: str, pattern: str = "%{:02X}") -> str:
    return "".join(pattern.format(byte) for byte in key.encode())


def _mixed(key: str) -> str:
    spelled = (lambda c: f"&#x{ord(c):x};", lambda c: c, lambda c: f"%{ord(c):02x}")
    return "".join(spelled[i % 3](char) for i, char in enumerate(key))


ENCODINGS: dict[str, Callable[[str], str]] = {
    "percent-upper": _percent,
    "percent-lower": lambda key: _percent(key, "%{:02x}"),
    "percent-twice": lambda key: _percent(key, "%25{:02X}"),
    "html-decimal": lambda key: "".join(f"&#{ord(c)};" for c in key),
    "html-hex": lambda key: "".join(f"&#x{ord(c):02X};" for c in key),
    "mixed": _mixed,
    "json-escapes-in-text": lambda key: "".join(f"\\u{ord(c):04x}" for c in key),
    "fullwidth": lambda key: "".join(chr(ord(c) + 0xFEE0) for c in key),
    "zero-width": "\u200b".join,
    "wrapped": lambda key: f"{key[:6]}\n  {key[6:]}",
}


def decoded_views(text: str) -> list[str]:
    """``text`` as a reader (GitHub's Markdown, a browser, a URL decoder) may see it."""
    views = [text]
    once = text
    for _ in range(3):  # percent-encoding applied up to three times
        once = unquote(once)
        views.append(once)
    views.append(html.unescape(text))
    views.append(re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text))
    views.append(unicodedata.normalize("NFKC", text))
    views.append(re.sub(r"[\s\u200b-\u200f\u2060\ufeff]+", "", text))
    everything = text  # every decoder in turn: a mixed spelling needs them all
    for decode in (
        lambda t: re.sub(r"\\+u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), t),
        unquote,
        unquote,
        unquote,
        html.unescape,
        lambda t: unicodedata.normalize("NFKC", t),
        lambda t: re.sub(r"[\s\u200b-\u200f\u2060\ufeff]+", "", t),
    ):
        everything = decode(everything)
    views.append(everything)
    return views


def echoing(encoding: str, key: str) -> Callable[[FakeRequest, FakeResponse], FakeResponse]:
    """Every JSON answer gains ``gateway_echo`` (the key encoded); error messages quote it."""
    echoed = ENCODINGS[encoding](key)

    def hook(request: FakeRequest, response: FakeResponse) -> FakeResponse:
        try:
            body = json.loads(response.body)
        except ValueError:
            return response
        if isinstance(body, dict):
            body["gateway_echo"] = f"upstream saw key={echoed}"
            if isinstance(body.get("message"), str):
                body["message"] += f" (key {echoed})"
        return FakeResponse(response.status, response.headers, json.dumps(body).encode())

    return hook


def run_live(
    pytester: pytest.Pytester, key: str, *, hook: Callable[..., FakeResponse] | None = None
) -> tuple[pytest.RunResult, Project, dict[str, str]]:
    project = Project(pytester, key)
    with serve_in_thread(api_keys=[key], images_dir=IMAGE_DIR, response_hook=hook) as stub:
        before = project.prepare(stub)
        result = pytester.runpytest(
            "--live",
            "--dashscope-base-url",
            stub.base_url,
            "--live-cases",
            "cases.json",
            "--live-examples",
            "2",
            *LIVE_ARGS,
            "--strict-drift",
            *WRITE_EVERYTHING,
        )
    return result, project, before


def written_texts(path: Path, result: pytest.RunResult) -> dict[str, str]:
    texts = {"terminal": "\n".join(result.outlines + result.errlines)}
    for file in [
        path / "junit.xml",
        *sorted((path / "report").glob("*")),
        *sorted((path / "recorded").glob("*.json")),
    ]:
        texts[str(file.relative_to(path))] = file.read_text(encoding="utf-8")
    return texts


@pytest.mark.parametrize("encoding", sorted(ENCODINGS))
def test_the_key_echoed_in_any_encoding_leaks_nowhere(
    pytester: pytest.Pytester, encoding: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = KEYS[sorted(ENCODINGS).index(encoding) % len(KEYS)]  # every shape of key, in turn
    monkeypatch.setenv("DASHSCOPE_API_KEY", key)
    monkeypatch.delenv("DASHSCOPE_HTTP_BASE_URL", raising=False)
    started = time.monotonic()
    result, project, before = run_live(pytester, key, hook=echoing(encoding, key))
    wall = time.monotonic() - started
    check_the_run(result, wall, project, before, f"echo-{encoding}")  # the plain forms
    leaked = {
        f"{where} (view {index})": forms
        for where, text in written_texts(project.path, result).items()
        for index, view in enumerate(decoded_views(text))
        if (forms := leaks(view, key))
    }
    assert not leaked, f"{encoding}: the key leaked: {sorted(leaked)}"


WORDY_KEY = "team-parameters-2026"  # a gateway token: 'parameters' is a field of the API


def test_a_key_sharing_a_word_of_the_api_is_a_usage_error_naming_the_word(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DASHSCOPE_API_KEY", WORDY_KEY)
    monkeypatch.delenv("DASHSCOPE_HTTP_BASE_URL", raising=False)
    result, project, _before = run_live(pytester, WORDY_KEY)
    output = "\n".join(result.outlines + result.errlines)
    assert int(result.ret) == 4, output[-2000:]  # pytest's usage error
    assert "API's own word" in output and "parameters" in output
    assert WORDY_KEY not in output
    assert not (project.path / "recorded").exists() or not any(
        (project.path / "recorded").glob("live-*.json")
    )


def test_a_key_sharing_a_word_of_the_api_changes_no_verdict(tmp_path: Path) -> None:
    """Below the plugin's refusal: the 3:4 case is judged at 3:4, nothing breaks."""
    with serve_in_thread(api_keys=[WORDY_KEY], images_dir=IMAGE_DIR) as stub:
        cases = tuple(
            LiveCase(
                name=f"portrait {ratio}",
                image_url=stub.image_url("portrait.png"),
                ratio=ratio,
                expect="pass",
            )
            for ratio in ("1:1", "3:4")
        )
        run = LiveRun(
            LiveSettings(qps=0, examples=0, record_dir=tmp_path, base_url=stub.base_url),
            cases,
            environ={"DASHSCOPE_API_KEY": WORDY_KEY},
        )
        try:
            run.execute()
        finally:
            run.close()
    judged = [v for v in run.verdicts.values() if v.status == "judged"]
    assert judged and len(judged) == len(run.verdicts), [v.reason for v in run.verdicts.values()]
    breaking = [
        f"{v.planned.name}: {f.title}"
        for v in judged
        for f in v.violations
        if f.severity is Severity.BREAKING
    ]
    assert not breaking, breaking
    assert not run.run_findings or all(
        f.severity is not Severity.BREAKING for f in run.run_findings
    )
