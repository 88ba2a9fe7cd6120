"""A detection model on another path, as data only (issue 20): a contracts folder for an invented
model, ``portrait-detect-v1`` at ``/services/aigc/image2image/portrait-detect``, whose verdict is
``output.ok`` and whose one box is ``output.box``, written into ``tmp_path`` by copying a sibling
folder and editing its data, its documented fixtures beside it (tests/helpers/another_path.py).
No Python changes for it: the project's loader reads it, the classifier tells its documented
answers apart by its own shape, its OpenAPI document has its path and its own examples, the stub
serves it at its own path in its own shape, the shipped suite runs it offline
(``run --contracts=DIR``), and a live run (``live --contracts=DIR --base-url``) judges the stub
of it, passing, and failing naming the model when the stub drifts. Its documented fixtures are
found beside its folder (``<root>/contracts/<name>`` by ``<root>/fixtures/<name>``,
``contracts.fixtures.own_fixture_dir``), as the checkout lays its own out.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from facedetect_contract import cli
from facedetect_contract.contracts.fixtures import load_fixtures
from facedetect_contract.contracts.loader import Contracts, load_contracts
from facedetect_contract.contracts.openapi import build_openapi, documented_fixture_dir
from facedetect_contract.contracts.outcome import classify
from facedetect_contract.core.interaction import RecordedResponse
from facedetect_contract.core.pointers import Pointer
from facedetect_contract.doubles.fake import FakeRequest, FakeResponse
from facedetect_contract.doubles.server import RunningServer, serve_in_thread
from tests.helpers.another_path import (
    FAILED_MESSAGE,
    MODEL,
    PASSED_BOX,
    PATH,
    SIBLING,
    fixtures_of,
    write_portrait_detect,
)
from tests.helpers.processes import run_command, serving

__all__: list[str] = []

ROOT = Path(__file__).resolve().parents[2]
SENTINEL_KEY = "sk-another-path-sentinel-" + "5" * 16
PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy")


def load(tmp_path: Path) -> tuple[Contracts, dict[str, Any]]:
    folder = write_portrait_detect(tmp_path / "root")
    contracts = load_contracts(folder)
    fixtures = {f.name: f for f in load_fixtures(fixtures_of(folder), contracts)}
    return contracts, fixtures


def test_a_model_on_another_path_loads_from_data_alone(tmp_path: Path) -> None:
    contracts, _ = load(tmp_path)
    profile = contracts.profile
    assert (profile.model, profile.path, contracts.models) == (MODEL, PATH, (MODEL,))
    assert profile.verdict == Pointer.parse("/output/ok") and profile.verdict_name == "ok"
    assert dict(profile.boxes) == {"face_box": Pointer.parse("/output/box")}
    assert profile.response.boxes == (Pointer.parse("/output/box"),)
    assert not profile.has_ratio and not profile.response.states("crop_box")
    assert profile.path != load_contracts().profile.path


def test_its_documented_fixtures_classify_by_its_own_shape(tmp_path: Path) -> None:
    contracts, fixtures = load(tmp_path)
    passed = classify(fixtures["documented-pass"].response, contracts)
    assert (passed.kind, passed.face_box, passed.crop_box) == ("passed", tuple(PASSED_BOX), None)
    failed = classify(fixtures["documented-fail"].response, contracts)
    assert (failed.kind, failed.shape, failed.message) == ("failed", "A", FAILED_MESSAGE)
    for fixture in fixtures.values():
        outcome = classify(fixture.response, contracts)
        schema = {"passed": "check_passed", "failed": "check_failed"}[outcome.kind]
        assert not contracts.schema_errors(schema, fixture.response.body), fixture.name
        assert not contracts.schema_errors("request", fixture.request.body), fixture.name
        # Read through the folder it was copied from (output.pass) or EMO's, nothing explains it.
        assert classify(fixture.response, load_contracts(ROOT / "contracts" / SIBLING)).kind == (
            "unexplained"
        )
        assert classify(fixture.response, load_contracts()).kind == "unexplained"
    # A pass without its one box is not a pass; a renamed verdict is explained by nothing.
    body = fixtures["documented-pass"].response.body
    response = type(fixtures["documented-pass"].response)
    no_box = response(200, {}, {**body, "output": {"ok": True}}, body_is_json=True)
    assert classify(no_box, contracts).kind == "unexplained"
    renamed = response(
        200, {}, {**body, "output": {"pass": True, "box": [1, 2, 3, 4]}}, body_is_json=True
    )
    assert classify(renamed, contracts).kind == "unexplained"


def test_its_openapi_document_has_its_path_and_its_own_examples(tmp_path: Path) -> None:
    contracts, fixtures = load(tmp_path)
    from openapi_spec_validator import validate

    document = build_openapi(contracts)
    validate(document)
    assert list(document["paths"]) == [PATH]
    assert documented_fixture_dir(contracts) == tmp_path / "root" / "fixtures" / "portrait-detect"
    examples = document["paths"][PATH]["post"]["responses"]["200"]["content"]["application/json"]
    assert {n: e["value"] for n, e in examples["examples"].items()} == {
        n: f.response.body for n, f in fixtures.items()
    }


# --- served by the stub -------------------------------------------------------------------------


def _post(stub: RunningServer, path: str, body: Any, contracts: Contracts) -> RecordedResponse:
    headers = {
        "content-type": contracts.profile.content_type,
        "authorization": f"Bearer {SENTINEL_KEY}",
    }
    with httpx.Client(trust_env=False, timeout=10) as client:
        response = client.post(stub.origin + "/api/v1" + path, json=body, headers=headers)
    return RecordedResponse(response.status_code, dict(response.headers), response.json())


def test_the_stub_serves_it_at_its_own_path_in_its_own_shape(tmp_path: Path) -> None:
    """On 127.0.0.1, as ``serve`` does (its images downloaded and judged by their pixels): a
    valid request at the model's own path passes in its shape (``ok``, ``box``, nothing of its
    sibling's) and its contracts accept the answer; another model's name is its documented
    refusal; face-detect's path is the stub's 404 naming the path it serves. Served beside
    face-detect, each model answers at its own path, and the invented model's request at
    face-detect's path is face-detect's documented unknown model."""
    contracts, _ = load(tmp_path)
    emo = load_contracts()
    with serve_in_thread(api_keys=[SENTINEL_KEY], contracts=contracts) as stub:
        body = contracts.profile.valid_request(stub.image_url("portrait.png"))
        passed = _post(stub, PATH, body, contracts)
        unknown = _post(stub, PATH, {**body, "model": "no-such-model"}, contracts)
        elsewhere = _post(stub, emo.profile.path, body, contracts)
        refusal = stub.fake.reject("model-unknown")
    assert (passed.status, classify(passed, contracts).kind) == (200, "passed"), passed.body
    assert set(passed.body["output"]) == {"ok", "box"} and passed.body["output"]["ok"] is True
    assert not contracts.schema_errors("check_passed", passed.body), passed.body
    assert classify(unknown, contracts).kind == "request_error"
    assert (unknown.status, unknown.body["code"]) == (refusal.status, refusal.json()["code"])
    assert any(contracts.errors_for(code=unknown.body["code"]))
    assert (elsewhere.status, elsewhere.body["code"]) == (404, "NotFound"), elsewhere.body
    assert "/api/v1" + PATH in elsewhere.body["message"]

    with serve_in_thread(api_keys=[SENTINEL_KEY], contracts=[emo, contracts]) as both:
        ours = _post(both, PATH, contracts.profile.valid_request(both.image_url("portrait.png")),
                     contracts)  # fmt: skip
        theirs = _post(both, emo.profile.path,
                       emo.profile.valid_request(both.image_url("portrait.png")), emo)  # fmt: skip
        misplaced = _post(both, emo.profile.path, body, emo)
        emo_refusal = both.fakes[emo.profile.model].reject("model-unknown")
    assert classify(ours, contracts).kind == "passed" and "ok" in ours.body["output"]
    assert classify(theirs, emo).kind == "passed" and "check_pass" in theirs.body["output"]
    assert (misplaced.status, misplaced.body["code"]) == (
        emo_refusal.status,
        emo_refusal.json()["code"],
    )
    assert misplaced.status == 404 and classify(misplaced, emo).kind == "request_error"


# --- run offline by the shipped suite, judged live ----------------------------------------------


def clean_env(contracts: Contracts) -> dict[str, str]:
    """This environment with the key variable the profile names set to a sentinel, and no
    proxy or base URL of the user's: every request stays on 127.0.0.1."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name.lower() not in PROXY_VARIABLES and not name.startswith("DASHSCOPE_")
    }
    env[contracts.profile.api_key_env] = SENTINEL_KEY
    env["NO_PROXY"] = env["no_proxy"] = "*"
    return env


@pytest.mark.outside
def test_the_shipped_suite_runs_it_offline_and_passes(tmp_path: Path) -> None:
    """``python -m facedetect_contract run --contracts=DIR``: exit 0, tests passed and none
    failed, the model's own two documented fixtures replayed among them."""
    folder = write_portrait_detect(tmp_path / "root")
    done = run_command(
        ["run", f"--contracts={folder}", "-rA"], cwd=tmp_path, env=clean_env(load_contracts(folder))
    )
    shown = done.stdout + done.stderr
    assert done.returncode == 0, shown[-4000:]
    summary = shown.strip().splitlines()[-1]
    passed = re.search(r"(\d+) passed", summary)
    assert passed is not None and int(passed.group(1)) > 0, summary
    assert not re.search(r"\d+ (failed|errors?)\b", summary), summary
    for name in ("documented-pass", "documented-fail"):
        assert re.search(rf"^PASSED \S*test_replay\.py::\S*\[{name}\]", shown, re.M), name


def _renaming_the_verdict(request: FakeRequest, response: FakeResponse) -> FakeResponse:
    """The stub's answer with ``output.ok`` renamed ``output.ok_renamed`` (a breaking drift)."""
    try:
        body = json.loads(response.body)
    except ValueError:
        return response
    output = body.get("output") if isinstance(body, dict) else None
    if not isinstance(output, dict) or "ok" not in output:
        return response
    output["ok_renamed"] = output.pop("ok")
    return FakeResponse(response.status, response.headers, json.dumps(body).encode())


@pytest.fixture
def portrait_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The invented model's folder, the key variable its profile names set to a sentinel, the
    user's base URL and proxies gone, the test in ``tmp_path``."""
    folder = write_portrait_detect(tmp_path / "root")
    for name in list(os.environ):
        if name.lower() in PROXY_VARIABLES or name.startswith("DASHSCOPE_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv(load_contracts(folder).profile.api_key_env, SENTINEL_KEY)
    monkeypatch.chdir(tmp_path)
    return folder


def _live(folder: Path, stub: RunningServer, capsys: pytest.CaptureFixture[str]) -> Any:
    """``live --contracts=DIR --base-url STUB`` in this process, unpaced: its exit status, its
    printed summary and its JSON report."""
    report = Path("drift.json")
    report.unlink(missing_ok=True)
    status = cli.main(
        ["live", f"--contracts={folder}", "--base-url", stub.base_url, "--live-qps", "0",
         "--drift-report", str(report)]
    )  # fmt: skip
    out, err = capsys.readouterr()
    assert SENTINEL_KEY not in out + err, "the live run showed the key"
    assert report.is_file(), out + err
    return status, out, json.loads(report.read_text(encoding="utf-8"))


def test_a_live_run_judges_the_stub_of_it_and_fails_naming_it_when_it_drifts(
    portrait_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Its own default cases (its documented fixtures) against its stub: exit 0, passed, every
    case met and requests judged; the stub answering with the verdict renamed: exit 1, drift,
    a breaking finding at ``ok``, the model named."""
    contracts = load_contracts(portrait_folder)
    with serve_in_thread(api_keys=[SENTINEL_KEY], contracts=contracts) as stub:
        status, out, report = _live(portrait_folder, stub, capsys)
    summary = f"status {status}; {out}"
    assert (status, report["outcome"], report["exit_status"]) == (0, "passed", 0), summary
    assert report["counts"]["breaking"] == report["counts"]["errors"] == 0, summary
    judged = [row for row in report["requests"] if row["outcome"] == "judged"]
    assert judged and any(row["kind"] == "case" for row in judged), report["requests"]
    cases = {row["name"]: row["outcome"] for row in report["cases"]}
    assert cases == {"documented-pass": "passed", "documented-fail": "failed"}, cases
    assert f"sent to {MODEL}" in out and PATH in out, out

    with serve_in_thread(
        api_keys=[SENTINEL_KEY], contracts=contracts, response_hook=_renaming_the_verdict
    ) as drifting:
        status, out, report = _live(portrait_folder, drifting, capsys)
    assert (status, report["outcome"], report["exit_status"]) == (1, "drift", 1), out
    assert report["counts"]["breaking"] > 0, out
    assert any(
        f["pointer"] == "/output/ok" and f["severity"] == "breaking" for f in report["findings"]
    ), report["findings"]
    assert f"sent to {MODEL}" in out and "drift" in out, out


@pytest.mark.outside
def test_live_against_serve_of_it_exits_0_as_two_processes(tmp_path: Path) -> None:
    """End to end as a user runs it: ``serve --contracts=DIR --port 0`` and ``live
    --contracts=DIR --base-url`` at it, the profile's key variable set to a sentinel."""
    folder = write_portrait_detect(tmp_path / "root")
    env = clean_env(load_contracts(folder))
    with serving([f"--contracts={folder}"], cwd=tmp_path, env=env) as base_url:
        live = run_command(
            ["live", f"--contracts={folder}", "--base-url", base_url], cwd=tmp_path, env=env
        )
    assert live.returncode == 0, live.stdout + live.stderr
    assert SENTINEL_KEY not in live.stdout + live.stderr
    assert "passed: 0 breaking, 0 additive finding(s);" in live.stdout, live.stdout
    assert f"sent to {MODEL}" in live.stdout and PATH in live.stdout, live.stdout
