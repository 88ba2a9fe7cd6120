"""Choosing models at the surface: ``--model NAME`` (a packaged folder by its profile's model)
and repeatable ``--contracts``. ``run``, ``live``, pytest, ``serve`` and ``openapi`` take several
models (each test once per model, one live run, one stub, one document); ``history`` takes one
and refuses several with a usage error (never the first taken silently); a model no packaged
folder has exits 4 naming the known models.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from openapi_spec_validator import validate

from facedetect_contract.cli import USAGE_ERROR, main
from facedetect_contract.contracts.loader import (
    CONTRACT_DIR,
    Contracts,
    load_contracts,
    packaged_models,
)
from facedetect_contract.contracts.openapi import OPENAPI_FILE, build_openapi_for
from facedetect_contract.contracts.outcome import classify
from facedetect_contract.core.interaction import RecordedResponse
from tests.helpers.processes import ROOT, child_env, default_sigint, run_command

pytest_plugins = ["pytester"]

KNOWN = packaged_models()
MODELS = [load_contracts(folder) for folder in KNOWN.values()]
KEY = "SENTINEL-models-cli-key-never-shown"
SEVERAL = "takes one model"


def command(*words: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return run_command(words, cwd=cwd, env=child_env(PYTHONPATH=str(ROOT)), timeout=timeout)


def models_args(models: list[Contracts]) -> list[str]:
    return [word for c in models for word in ("--model", c.profile.model)]


def request_body(contracts: Contracts, url: str) -> dict[str, Any]:
    """A valid request for the model (the profile's own: a ratio only where it has one)."""
    return contracts.profile.valid_request(url)


@pytest.mark.process  # a child process: the slow tier
def test_serve_with_every_model_answers_each_in_its_own_shape() -> None:
    """``serve --model`` x4 as a process: its base URL printed once, each model's pass and
    named failure answered as that model's contracts classify them."""
    words = ["serve", "--port", "0", "--catalog", "--key-env", "MODELS_CLI_KEY"]
    env = {**os.environ, "MODELS_CLI_KEY": KEY}
    process = subprocess.Popen(
        [sys.executable, "-m", "facedetect_contract", *words, *models_args(MODELS)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=default_sigint,  # noqa: PLW1509  # one call, no lock held: safe after fork
    )
    answers: dict[str, list[str]] = {}
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        found = re.fullmatch(r"serving (http://127\.0\.0\.1:\d+/api/v1)\n", line)
        assert found, line
        base_url = found.group(1)
        with httpx.Client(trust_env=False, timeout=10) as client:
            for contracts in MODELS:
                auth = {"authorization": f"Bearer {KEY}"}
                kinds: list[str] = []
                for name in ("anyone.png", "no-human.png"):
                    body = request_body(contracts, f"https://example.com/{name}")
                    response = client.post(
                        base_url + contracts.profile.path, json=body, headers=auth
                    )
                    answer = RecordedResponse(
                        response.status_code, dict(response.headers), response.json()
                    )
                    kinds.append(classify(answer, contracts).kind)
                answers[contracts.profile.model] = kinds
        process.terminate()
        out, err = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert answers == {c.profile.model: ["passed", "failed"] for c in MODELS}
    assert (line + out).count("serving ") == 1
    assert KEY not in line + out + err


@pytest.mark.process  # a child process: the slow tier
@pytest.mark.parametrize("words", [["serve", "--port", "0"], ["openapi"], ["live"]])
def test_a_model_no_packaged_folder_has_exits_4_naming_the_known_models(
    words: list[str], tmp_path: Path
) -> None:
    """As a process with a deadline: a stub that ignored the name would serve until killed."""
    done = command(*words, "--model", "nope", cwd=tmp_path, timeout=60)
    assert done.returncode == USAGE_ERROR, done.stdout + done.stderr
    assert "--model nope" in done.stderr
    for model in KNOWN:
        assert model in done.stderr


@pytest.mark.process  # a child process: the slow tier
def test_run_with_an_unknown_model_exits_4_naming_the_known_models(tmp_path: Path) -> None:
    done = command("run", "--model", "nope", "test_replay.py", cwd=tmp_path)
    assert done.returncode == pytest.ExitCode.USAGE_ERROR, done.stdout + done.stderr
    assert "--model nope" in done.stderr
    assert all(model in done.stderr for model in KNOWN)


@pytest.mark.process  # a child process: the slow tier
def test_run_with_one_model_judges_that_models_documented_fixtures(tmp_path: Path) -> None:
    """``run --model liveportrait-detect test_replay.py`` offline passes, replaying that model's
    own fixtures (their names, not face-detect's): the replay tests are what it checks."""
    chosen = "liveportrait-detect"
    done = command("run", "--model", chosen, "-v", "test_replay.py", cwd=tmp_path)
    assert done.returncode == pytest.ExitCode.OK, done.stdout[-3000:] + done.stderr
    own = sorted(p.stem for p in (ROOT / "fixtures" / KNOWN[chosen].name).glob("*.json"))
    for name in own:
        assert (
            f"test_replay.py::test_every_fixture_replays_through_the_client_to_its_expected_result[{name}] PASSED"
            in done.stdout
        )
    assert "documented-pass-1-1" not in done.stdout  # face-detect's fixture


@pytest.mark.process  # a child process: the slow tier
def test_run_with_two_models_replays_each_models_own_fixtures_under_its_name(
    tmp_path: Path,
) -> None:
    """``run --model A --model B test_replay.py``: each replay test once per model, its id
    after its model, each model's own fixtures (never one model's with the other's contracts)."""
    chosen = MODELS[:2]
    done = command("run", *models_args(chosen), "-v", "test_replay.py", cwd=tmp_path)
    assert done.returncode == pytest.ExitCode.OK, done.stdout[-3000:] + done.stderr
    for contracts in chosen:
        model = contracts.profile.model
        own = sorted(p.stem for p in (ROOT / "fixtures" / contracts.directory.name).glob("*.json"))
        assert own
        for name in own:
            assert (
                "test_every_fixture_replays_through_the_client_to_its_expected_result"
                f"[{model}-{name}] PASSED" in done.stdout
            ), name
        assert f"[{model}] PASSED" in done.stdout  # a test taking the contracts alone
    listed = re.findall(r"expected_result\[([^\]]+)\] PASSED", done.stdout)
    assert len(listed) == sum(
        len(list((ROOT / "fixtures" / c.directory.name).glob("*.json"))) for c in chosen
    )


@pytest.mark.process  # a child process: the slow tier
def test_history_refuses_two_models_with_a_clear_usage_error(tmp_path: Path) -> None:
    """``history`` writes the contract change of one folder: two models are a usage error
    naming both (never the first taken silently)."""
    history = tmp_path / "history.jsonl"
    history.write_text("")
    folders = [word for c in MODELS[:2] for word in ("--contracts", str(c.directory))]
    done = command("history", str(history), *folders, cwd=tmp_path)
    assert done.returncode == USAGE_ERROR, done.stdout + done.stderr
    assert SEVERAL in done.stderr
    for contracts in MODELS[:2]:
        assert contracts.profile.model in done.stderr


@pytest.mark.parametrize(
    "choose",
    [
        lambda: models_args(MODELS[:2]),
        lambda: ["--contracts", str(MODELS[0].directory), "--model", MODELS[1].profile.model],
    ],
    ids=["two-models", "a-folder-and-a-model"],
)
def test_live_with_two_models_refuses_a_cases_entry_naming_no_model_before_sending(
    choose: Any, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run of several models needs each cases entry to name its model: one that does not is
    a usage error naming the file, the entry and the field, before anything is sent (the port
    is one nothing listens on), and the key is never shown."""
    cases = tmp_path / "cases.json"
    cases.write_text(json.dumps([{"name": "x", "image_url": "https://e.example/x.png",
                                  "expect": "pass"}]))  # fmt: skip
    for contracts in MODELS[:2]:
        monkeypatch.setenv(contracts.profile.api_key_env, KEY)
    status = main(["live", *choose(), "--live-cases", str(cases),
                   "--base-url", "http://127.0.0.1:9/api/v1"])  # fmt: skip
    assert status == USAGE_ERROR
    err = capsys.readouterr().err
    assert f"{cases}: entry 0 ('x'): field 'model'" in err, err
    assert all(c.profile.model in err for c in MODELS[:2])
    assert KEY not in err


def test_the_ini_key_chooses_one_model_or_several(pytester: pytest.Pytester) -> None:
    """``facedetect_models`` in the ini file: one model chooses its folder; with two, a test
    that takes the contracts runs once per model, its id the model's."""
    pytester.makepyfile(
        "def test_model(facedetect_contracts):\n"
        "    print('MODEL', facedetect_contracts.profile.model)\n"
    )
    pytester.makeini("[pytest]\nfacedetect_models = liveportrait-detect\n")
    result = pytester.runpytest("-s", "-p", "facedetect_contract.plugin")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*MODEL liveportrait-detect*"])
    pytester.makeini("[pytest]\nfacedetect_models = liveportrait-detect emo-detect-v1\n")
    result = pytester.runpytest("-s", "-v", "-p", "facedetect_contract.plugin")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        ["*test_model?liveportrait-detect? MODEL liveportrait-detect*", "*MODEL emo-detect-v1*"]
    )


def test_the_openapi_document_of_several_models_validates_with_each_models_examples(
    tmp_path: Path,
) -> None:
    """One document for every model: valid OpenAPI 3.1, the shared path once, the request and
    responses ``oneOf`` by model, each model's documented fixtures among the examples under its
    own name; written by ``openapi --model ... --write PATH``; the committed document unchanged."""
    committed = (CONTRACT_DIR / OPENAPI_FILE).read_text(encoding="utf-8")
    document = build_openapi_for(MODELS)
    validate(document)
    paths = {c.profile.path for c in MODELS}
    assert sorted(document["paths"]) == sorted(paths)
    operation = document["paths"][MODELS[0].profile.path]["post"]
    body_schema = operation["requestBody"]["content"][MODELS[0].profile.content_type]["schema"]
    assert len(body_schema["oneOf"]) == len(MODELS)
    examples = {
        name
        for response in operation["responses"].values()
        for media in response.get("content", {}).values()
        for name in media.get("examples", {})
    }
    for contracts in MODELS:
        model = contracts.profile.model
        assert any(name.startswith(f"{model}/") for name in examples), model
    target = tmp_path / "models.json"
    assert main(["openapi", *models_args(MODELS), "--write", str(target)]) == 0
    assert json.loads(target.read_text(encoding="utf-8")) == document
    assert main(["openapi", *models_args(MODELS), "--check"]) == USAGE_ERROR
    assert (CONTRACT_DIR / OPENAPI_FILE).read_text(encoding="utf-8") == committed
    assert main(["openapi", "--check"]) == 0
