"""A live run of every contracts folder (``contracts/*``) against the in-process fake of that
model: it sends the profile's model, no ratio where the model has none (and no ratio probe), is
paced at the profile's documented rate, and passes; a breaking drift of that model (its verdict
renamed, for a model without a verdict a box missing, a check's result moved to another status)
fails the run naming the finding."""

from __future__ import annotations

import copy
import json
import math
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from facedetect_contract.contracts.cases import CasesFileError, default_cases, load_cases
from facedetect_contract.contracts.loader import Contracts, load_contracts
from facedetect_contract.contracts.outcome import classify
from facedetect_contract.core.interaction import RecordedResponse
from facedetect_contract.core.pacing import GUARD_S
from facedetect_contract.doubles.fake import FaceDetectFake
from facedetect_contract.doubles.offline import fake_handler
from facedetect_contract.live.judging import failing
from facedetect_contract.live.plan import probe_names
from facedetect_contract.live.run import LiveRun, LiveSettings
from facedetect_contract.report import LiveReport, render_html
from tests.helpers.models import FOLDERS, NAMES
from tests.helpers.processes import run_command, serving

ROOT = Path(__file__).resolve().parents[2]
KEY = "sk-unit-" + "cd34" * 8
Handler = Callable[[httpx.Request], httpx.Response]
SERVE = (sys.executable, "-m", "facedetect_contract", "serve")
LIVE = (sys.executable, "-m", "facedetect_contract", "live")


@pytest.fixture(scope="module", params=FOLDERS, ids=NAMES)
def contracts(request: pytest.FixtureRequest) -> Contracts:
    return load_contracts(request.param)


def run_against_fake(
    tmp_path: Path,
    contracts: Contracts,
    *,
    wrap: Callable[[Handler], Handler] | None = None,
    sent: list[bytes] | None = None,
    **settings: Any,
) -> LiveRun:
    """A live run of ``contracts``' own default cases against the fake of that model."""
    serve = fake_handler(FaceDetectFake(api_keys={KEY}, contracts=contracts))
    handler = wrap(serve) if wrap is not None else serve

    def handle(request: httpx.Request) -> httpx.Response:
        if sent is not None:
            sent.append(request.read())
        return handler(request)

    options: dict[str, Any] = {"qps": 0, "examples": 3, "record_dir": tmp_path, **settings}
    return LiveRun(
        LiveSettings(**options),
        default_cases(contracts),
        contracts=contracts,
        environ={contracts.profile.api_key_env: KEY},
        transport=httpx.MockTransport(handle),
        sleep=lambda _seconds: None,
    )


def breaking(run: LiveRun) -> list[str]:
    findings = [v for verdict in run.verdicts.values() for v in verdict.violations]
    return [
        f"{v.check} {v.pointer} {v.title}"
        for v in failing(findings, strict_drift=False, acknowledged=lambda _: False)
    ]


def test_a_live_run_sends_the_models_own_request_and_passes(
    tmp_path: Path, contracts: Contracts
) -> None:
    profile = contracts.profile
    sent: list[bytes] = []
    run = run_against_fake(tmp_path, contracts, sent=sent)
    run.execute()
    report = LiveReport.from_run(run)
    assert report.outcome == "passed", (report.headline(), breaking(run), run.all_errors)
    assert profile.model in report.headline()
    bodies = [json.loads(b) for b in sent if b.startswith(b"{") and b.endswith(b"}")]
    models = {m for body in bodies if isinstance(m := profile.request.model.get(body), str)}
    # the profile's model, and the unknown-model probe built from it; never another's
    assert models <= {profile.model, f"{profile.model}-does-not-exist"}
    assert profile.model in models
    cases = [b for b in bodies if profile.request.model.get(b) == profile.model]
    if profile.ratio is None:
        assert not any(b"ratio" in b for b in sent), "a ratio went to a model without one"
        assert "probe-invalid-ratio" not in run.verdicts
    else:
        assert all(profile.ratio.field.present(body) for body in cases[: len(run.cases)])
        assert "probe-invalid-ratio" in run.verdicts
    assert {f"probe-{p}" for p in probe_names(contracts)} <= set(run.verdicts)
    if not profile.boxes:
        assert all(not case["boxes"] for case in report.cases)


def test_a_live_run_is_paced_at_the_models_documented_rate(
    tmp_path: Path, contracts: Contracts
) -> None:
    """Unless --live-qps says otherwise, the profile's QPS paces the run: a plan that does not
    fit the deadline at that rate is refused, naming the rate and what fits."""
    qps = contracts.profile.qps
    burst = max(1, int(qps))
    fits = burst * max(1, math.ceil(2 / (burst / qps + GUARD_S)))
    rate = re.escape(f"the profile's {qps:g}/s at most {fits} request(s)")
    with pytest.raises(ValueError, match=rate):
        run_against_fake(tmp_path, contracts, qps=None, deadline=2, examples=50)


def _with_json(response: httpx.Response, status: int, body: Any) -> httpx.Response:
    return httpx.Response(status, json=body, headers={"content-type": "application/json"})


def _answers(contracts: Contracts, change: Callable[[int, Any, str], tuple[int, Any]]):  # type: ignore[no-untyped-def]
    """A wrapper handing every JSON answer's status, body and outcome kind to ``change``."""

    def wrap(serve: Handler) -> Handler:
        def handle(request: httpx.Request) -> httpx.Response:
            response = serve(request)
            try:
                body = json.loads(response.read())
            except ValueError:
                return response
            kind = classify(RecordedResponse(response.status_code, {}, body), contracts).kind
            status, changed = change(response.status_code, copy.deepcopy(body), kind)
            return _with_json(response, status, changed)

        return handle

    return wrap


def test_a_breaking_drift_of_the_models_shape_fails_the_run_naming_it(
    tmp_path: Path, contracts: Contracts
) -> None:
    """The verdict renamed (a model without one: its crop box missing) is a breaking finding at
    that field."""
    profile = contracts.profile
    if profile.verdict is not None:
        at = profile.verdict

        def change(status: int, body: Any, kind: str) -> tuple[int, Any]:
            output = at.parent.get(body)
            if isinstance(output, dict) and at.name in output:
                output[f"{at.name}_renamed"] = output.pop(at.name)
            return status, body
    else:
        at = list(profile.boxes.values())[-1]

        def change(status: int, body: Any, kind: str) -> tuple[int, Any]:
            output = at.parent.get(body)
            if kind == "passed" and isinstance(output, dict):
                output.pop(at.name, None)
            return status, body

    run = run_against_fake(tmp_path, contracts, wrap=_answers(contracts, change))
    run.execute()
    found = breaking(run)
    assert LiveReport.from_run(run).outcome == "drift"
    assert any(at.name in text for text in found), found


def test_a_check_result_moved_to_another_status_fails_the_run_naming_it(
    tmp_path: Path, contracts: Contracts
) -> None:
    """A failed check (a model whose cases pass only: a passed one) answered with HTTP 202."""
    expects = {case.expect for case in default_cases(contracts)}
    moved = "failed" if "fail" in expects else "passed"

    def change(status: int, body: Any, kind: str) -> tuple[int, Any]:
        return (202 if kind == moved else status), body

    run = run_against_fake(tmp_path, contracts, wrap=_answers(contracts, change))
    run.execute()
    found = breaking(run)
    assert LiveReport.from_run(run).outcome == "drift"
    assert any("202" in text for text in found), found


# emoji-detect-v1's documented rate is 1/s: its run unpaced (the rate is test_..._paced_...'s).
# Two processes and a paced run each: the slow tier, beside tests/test_serve_live.py.
@pytest.mark.outside
@pytest.mark.parametrize(
    ("folder", "options"),
    [
        ("liveportrait-detect", ()),
        ("emoji-detect-v1", ("--live-qps", "0")),
        ("wan2.2-s2v-detect", ()),
    ],
    ids=["liveportrait-detect", "emoji-detect-v1", "wan2.2-s2v-detect"],
)
def test_live_against_serve_of_the_same_contracts_exits_0(
    tmp_path: Path, folder: str, options: tuple[str, ...]
) -> None:
    """End to end, two processes: ``serve --contracts contracts/<model>`` with no other option
    (the model's documented images are answered as documented, never fetched) and ``live
    --contracts contracts/<model> --base-url`` at it, with the model's default cases."""
    key = "sk-e2e-" + "ef56" * 8
    env = {**os.environ, "DASHSCOPE_API_KEY": key}
    env.pop("DASHSCOPE_HTTP_BASE_URL", None)
    contracts_dir = str(ROOT / "contracts" / folder)
    with serving(["--contracts", contracts_dir], cwd=tmp_path, env=env) as base_url:
        live = run_command(
            ["live", "--contracts", contracts_dir, "--base-url", base_url, *options],
            cwd=tmp_path,
            env=env,
        )
    assert live.returncode == 0, live.stdout + live.stderr
    model = load_contracts(Path(contracts_dir)).profile.model
    assert "passed: 0 breaking, 0 additive finding(s);" in live.stdout
    assert f"sent to {model}" in live.stdout


def test_the_html_report_draws_no_box_for_a_model_without_boxes_and_names_the_model(
    tmp_path: Path, contracts: Contracts
) -> None:
    run = run_against_fake(tmp_path, contracts)
    run.execute()
    page = render_html.render(LiveReport.from_run(run))
    figures = page.split('<div class="cases">', 1)[1].split("<h2>", 1)[0]
    assert f"sent to {contracts.profile.model}" in page
    assert figures.count("<figure") == len(run.cases)
    drawn = figures.count('data-which="live"') + figures.count("<rect")
    if contracts.profile.boxes:
        assert "<svg" in figures and drawn > 0
    else:
        assert "<svg" not in figures and "<rect" not in figures
        assert "crop</span>" not in figures and " at None" not in figures


def test_a_cases_file_follows_the_models_ratio(tmp_path: Path) -> None:
    """liveportrait-detect: a case without a ratio is accepted (and sends none); a case with one
    is an error naming the file, the case and the field. EMO still requires its ratio."""
    portrait = load_contracts(ROOT / "contracts" / "liveportrait-detect")
    path = tmp_path / "cases.json"
    case = {"name": "portrait", "image_url": "https://example.com/p.png", "expect": "pass"}
    path.write_text(json.dumps([case]), encoding="utf-8")
    (loaded,) = load_cases(path, portrait)
    assert loaded.ratio is None
    assert loaded.body(portrait) == {
        "model": "liveportrait-detect",
        "input": {"image_url": "https://example.com/p.png"},
    }
    path.write_text(json.dumps([{**case, "ratio": "1:1"}]), encoding="utf-8")
    with pytest.raises(CasesFileError) as raised:
        load_cases(path, portrait)
    assert str(raised.value).startswith(f"{path}: entry 0 ('portrait'): field 'ratio' is \"1:1\"")
    assert "liveportrait-detect has no ratio parameter" in str(raised.value)
    path.write_text(json.dumps([case]), encoding="utf-8")
    with pytest.raises(CasesFileError, match="field 'ratio' is missing"):
        load_cases(path, load_contracts(ROOT / "contracts" / "face-detect"))
