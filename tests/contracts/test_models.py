"""Every model on the face-detect path as data (issue 20, first step): the answer's shape is the
profile's (``/shape`` and each answer kind's ``code``, ``message``, ``present``, ``absent``), not
Python's. The sibling folders shipped beside face-detect's load with the project's own loader,
their documented fixtures classify as documented, a part a model does not have raises a clear
error, and face-detect's explicit shape is what the code assumed before."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from facedetect_contract.contracts.fixtures import load_fixtures
from facedetect_contract.contracts.loader import (
    CONTRACT_DIR,
    ContractFileError,
    Contracts,
    load_contracts,
)
from facedetect_contract.contracts.outcome import classify
from facedetect_contract.contracts.profile import NotInProfile
from facedetect_contract.core.pointers import Pointer
from tests.helpers.models import FOLDERS, SIBLINGS

ROOT = Path(__file__).resolve().parents[2]
# Every contracts folder shipped beside face-detect's: a new one is covered without a test edit.
META_SCHEMAS = (
    "endpoint.schema.json",
    "errors.schema.json",
    "questions.schema.json",
    "interaction.schema.json",
)
RESULT = {"check_passed": "passed", "check_failed": "failed", "request_error": "request_error"}
SCHEMA_OF = {"passed": "check_passed", "failed": "check_failed"}


def sibling(model: str) -> Contracts:
    return load_contracts(ROOT / "contracts" / model)


@pytest.mark.parametrize("model", SIBLINGS)
def test_a_sibling_folder_loads_with_the_projects_own_loader(model: str) -> None:
    contracts = sibling(model)
    assert contracts.profile.model == model
    assert contracts.models == (model,)
    assert contracts.profile.path == load_contracts().profile.path  # the same path


@pytest.mark.parametrize("model", SIBLINGS)
def test_a_siblings_documented_fixtures_classify_as_documented(model: str) -> None:
    """Each documented fixture: its outcome (and shape and code) is the one it expects, its body
    is valid against the contract of that kind, and its request against the request contract."""
    contracts = sibling(model)
    fixtures = load_fixtures(ROOT / "fixtures" / model, contracts)
    assert {f.name for f in fixtures} >= {"documented-pass", "documented-fail"}
    for fixture in fixtures:
        data = json.loads((ROOT / "fixtures" / model / f"{fixture.name}.json").read_text())
        expect = data["expect"]
        outcome = classify(fixture.response, contracts)
        assert outcome.kind == RESULT[expect["result"]], (fixture.name, outcome.reason)
        assert outcome.shape == expect.get("shape"), fixture.name
        if "code" in expect:
            assert outcome.code == expect["code"], fixture.name
        # a check's answer is billed; a failure as an error body (a 4xx, shape B) is not
        assert outcome.billed_images == (0 if fixture.response.status >= 400 else 1), fixture.name
        schema = "error_body" if fixture.response.status >= 400 else SCHEMA_OF[outcome.kind]
        assert not contracts.schema_errors(schema, fixture.response.body)
        assert not contracts.schema_errors("request", fixture.request.body)
        assert data["provenance"]["kind"] == "documented"
        assert data["provenance"]["source"].startswith("https://")


def test_every_shipped_sibling_is_covered_and_shipped_with_its_fixtures() -> None:
    """The folder scan finds the three siblings, and each one's fixtures are in the wheel."""
    assert set(SIBLINGS) >= {"liveportrait-detect", "emoji-detect-v1", "wan2.2-s2v-detect"}
    import tomllib  # only here

    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    shipped = pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["force-include"]
    for model in SIBLINGS:
        assert shipped.get(f"fixtures/{model}") == f"facedetect_contract/_data/fixtures/{model}"


def test_wan_s2v_is_read_by_check_pass_with_humanoid_and_no_boxes() -> None:
    """wan2.2-s2v-detect: the verdict is output.check_pass, humanoid beside it, no boxes, no
    ratio; its documented failure (200, empty code and message) and the 400 a public client
    measured live (InvalidFile.NoHuman, not billed) are both failed checks (failure-status)."""
    contracts = sibling("wan2.2-s2v-detect")
    profile = contracts.profile
    assert (profile.verdict_name, dict(profile.boxes), profile.has_ratio) == (
        "check_pass",
        {},
        False,
    )
    assert profile.qps == 5 and profile.failure_shapes == ("A", "B")
    fixtures = {f.name: f for f in load_fixtures(ROOT / "fixtures/wan2.2-s2v-detect", contracts)}
    passed = classify(fixtures["documented-pass"].response, contracts)
    assert (passed.kind, passed.humanoid, passed.face_box, passed.crop_box) == (
        "passed",
        True,
        None,
        None,
    )
    failed = classify(fixtures["documented-fail"].response, contracts)
    assert (failed.kind, failed.shape, failed.code, failed.message) == ("failed", "A", "", "")
    response = fixtures["documented-pass"].response
    live_400 = type(response)(
        400,
        {},
        {
            "code": "InvalidFile.NoHuman",
            "message": "The input image has no human body.",
            "request_id": "7b1e9c3a-0d4f-4e7b-9a51-xxxxxx",
        },
        body_is_json=True,
    )
    seen = classify(live_400, contracts)
    assert (seen.kind, seen.shape, seen.code, seen.billed_images) == (
        "failed",
        "B",
        "InvalidFile.NoHuman",
        0,
    )
    assert not contracts.schema_errors("error_body", live_400.body)
    readings = {r.id for r in contracts.questions["failure-status"].readings}
    assert readings == {"A", "B"}
    # Without humanoid a pass breaks its contract (the page lists it); a box is not documented.
    bare = {**response.body, "output": {"check_pass": True}}
    assert contracts.schema_errors("check_passed", bare)
    boxed = {**response.body, "output": {**response.body["output"], "face_bbox": [1, 2, 3, 4]}}
    assert contracts.schema_errors("check_passed", boxed)
    # Read as liveportrait (output.pass), the same 200 answers are explained by nothing (the
    # 400 of shape B is an error body, a request error whatever the model).
    for fixture in fixtures.values():
        kind = classify(fixture.response, sibling("liveportrait-detect")).kind
        assert kind == ("request_error" if fixture.response.status >= 400 else "unexplained")


def test_liveportrait_answers_are_read_by_its_own_verdict_and_message() -> None:
    """The verdict is output.pass; a failure's reason is output.message; a pass has no boxes."""
    contracts = sibling("liveportrait-detect")
    fixtures = {f.name: f for f in load_fixtures(ROOT / "fixtures/liveportrait-detect", contracts)}
    passed = classify(fixtures["documented-pass"].response, contracts)
    assert (passed.face_box, passed.crop_box, passed.code) == (None, None, None)
    failed = classify(fixtures["documented-fail"].response, contracts)
    assert (failed.code, failed.message) == (None, "No human face detected.")
    # Read through EMO's shape (check_pass), the same answers are explained by nothing.
    emo = load_contracts()
    for fixture in fixtures.values():
        assert classify(fixture.response, emo).kind == "unexplained"


def test_emoji_is_told_apart_by_its_boxes_and_its_output_code() -> None:
    """No verdict: the boxes are the pass, output.code the failure (a 200, billed); a 200 with
    neither is unexplained, and a pass missing a box is not a pass."""
    contracts = sibling("emoji-detect-v1")
    fixtures = {f.name: f for f in load_fixtures(ROOT / "fixtures/emoji-detect-v1", contracts)}
    passed = classify(fixtures["documented-pass"].response, contracts)
    assert (passed.face_box, passed.crop_box) == ((212, 194, 460, 441), (63, 30, 609, 575))
    failed = classify(fixtures["documented-fail"].response, contracts)
    assert (failed.kind, failed.code) == ("failed", "InvalidFile.FacePose")
    assert failed.message is not None and failed.message.startswith("The pose of the detected")
    body = fixtures["documented-pass"].response.body
    neither = type(fixtures["documented-pass"].response)(
        200, {}, {**body, "output": {"other": 1}}, body_is_json=True
    )
    assert classify(neither, contracts).kind == "unexplained"
    one_box = type(neither)(
        200, {}, {**body, "output": {"bbox_face": [1, 2, 3, 4]}}, body_is_json=True
    )
    assert classify(one_box, contracts).kind != "passed"
    assert classify(fixtures["documented-fail"].response, load_contracts()).kind == "unexplained"


def raises_clearly(model: str, read: Callable[[], object], part: str) -> None:
    with pytest.raises(NotInProfile) as raised:
        read()
    message = str(raised.value)
    assert model in message and part in message, message
    assert "KeyError" not in message and not isinstance(raised.value, KeyError)


def test_a_part_a_model_does_not_have_raises_a_clear_error_and_can_be_asked_first() -> None:
    live = sibling("liveportrait-detect")
    profile = live.profile
    assert (profile.has_ratio, dict(profile.boxes), profile.response.boxes) == (False, {}, ())
    assert profile.verdict_name == "pass"
    for read, part in (
        (lambda: live.ratios, "ratio"),
        (lambda: live.default_ratio, "ratio"),
        (lambda: profile.request.ratio, "ratio"),
        (lambda: profile.response.face_box, "face box"),
        (lambda: profile.response.crop_box, "crop box"),
        (lambda: profile.ratio_box, "ratio"),
        (lambda: profile.ratio_tolerance_px, "ratio"),
        (lambda: profile.price, "price"),
        (lambda: profile.min_side_px, "minimum"),
        (lambda: profile.iou_min, "behaviour"),
    ):
        raises_clearly("liveportrait-detect", read, part)
    assert not profile.request.states("ratio") and profile.request.states("image_url")
    emoji = sibling("emoji-detect-v1")
    assert emoji.profile.verdict is None and emoji.profile.verdict_name is None
    assert emoji.profile.has_ratio and emoji.ratios == ("1:1",)
    raises_clearly("emoji-detect-v1", lambda: emoji.profile.response.verdict, "verdict")
    raises_clearly("emoji-detect-v1", lambda: emoji.default_ratio, "default ratio")
    assert emoji.profile.qps == 1 and profile.qps == 5


def test_face_detects_explicit_shape_is_what_the_code_assumed_before() -> None:
    """Regression guard: the values the classifier and the accessors took from Python before
    (verdict check_pass, two boxes, the ratio at parameters.ratio, the reason in output for shape
    A and at the top for shape B and request errors) now come from endpoint.json, unchanged."""
    contracts = load_contracts()
    profile, fields = contracts.profile, contracts.profile.response
    parse = Pointer.parse
    assert profile.verdict == fields.verdict == parse("/output/check_pass")
    assert profile.verdict_name == "check_pass"
    assert dict(profile.boxes) == {
        "face_box": parse("/output/face_bbox"),
        "crop_box": parse("/output/ext_bbox"),
    }
    assert fields.boxes == (fields.face_box, fields.crop_box)
    assert profile.ratio_box == fields.crop_box
    assert profile.has_ratio and profile.request.ratio == parse("/parameters/ratio")
    assert (contracts.ratios, contracts.default_ratio) == (("1:1", "3:4"), "1:1")
    assert profile.output == parse("/output")
    where = {k.name: (k.code, k.message, k.present, k.absent) for k in profile.answers}
    assert where == {
        "check-passed": (None, None, (), ()),
        "check-failed-a": (fields.reason_code, fields.reason_message, (), ()),
        "check-failed-b": (fields.error_code, fields.error_message, (), ()),
        "request-error": (fields.error_code, fields.error_message, (), ()),
    }
    assert (fields.reason_code, fields.error_code) == (parse("/output/code"), parse("/code"))
    assert [k.verdict for k in profile.answers] == [True, False, None, None]
    for name in ("price", "currency", "free_images", "min_side_px", "iou_min", "ratio_box"):
        assert profile.states(name), name


def edited(tmp_path: Path, edit: Callable[[dict[str, Any]], None]) -> Path:
    directory = tmp_path / "edited"
    shutil.copytree(CONTRACT_DIR, directory)
    path = directory / "endpoint.json"
    profile = json.loads(path.read_text(encoding="utf-8"))
    edit(profile)
    path.write_text(json.dumps(profile), encoding="utf-8")
    return directory


def _set(*path_and_value: Any) -> Callable[[dict[str, Any]], None]:
    *path, value = path_and_value

    def edit(profile: dict[str, Any]) -> None:
        node = profile
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = value

    return edit


def _drop_crop_box(profile: dict[str, Any]) -> None:
    del profile["shape"]["boxes"]["crop_box"]


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (_set("shape", "verdict", "/output/passed"), "at /shape/verdict"),
        (_set("shape", "verdict", None), "at /answers/check-passed/verdict"),
        (_set("shape", "boxes", "head_box", "/output/head"), "at /shape/boxes"),
        (_set("shape", "boxes", "face_box", "/output/bbox_face"), "at /shape/boxes/face_box"),
        (_drop_crop_box, "at /geometry/ratio_box"),
        (_set("shape", "ratio", {"field": "/parameters/size"}), "at /shape/ratio/field"),
        (_set("answers", "check-failed-a", "message", "/output/reason"), "check-failed-a/message"),
        (_set("response", "verdict", "/output/check_pass"), "at /response"),
        (_set("request", "ratio", "/parameters/ratio"), "at /request"),
    ],
    ids=[
        "verdict-not-in-schema",
        "verdict-null-but-kinds-have-one",
        "box-role-unknown",
        "box-not-in-schema",
        "ratio-box-not-a-box",
        "ratio-field-not-described",
        "message-not-in-schema",
        "verdict-in-the-old-place",
        "ratio-in-the-old-place",
    ],
)
def test_a_profile_with_an_invalid_shape_is_a_load_error_naming_the_file_and_field(
    tmp_path: Path, edit: Callable[[dict[str, Any]], None], field: str
) -> None:
    directory = edited(tmp_path, edit)
    with pytest.raises(ContractFileError) as raised:
        load_contracts(directory)
    message = str(raised.value)
    assert str(directory / "endpoint.json") in message and field in message, message


@pytest.mark.parametrize("model", SIBLINGS)
def test_a_siblings_data_file_shapes_are_face_detects(model: str) -> None:
    """One meta-schema per data file: the sibling folders carry face-detect's, byte for byte."""
    for name in META_SCHEMAS:
        copy = (ROOT / "contracts" / model / name).read_bytes()
        assert copy == (CONTRACT_DIR / name).read_bytes(), f"{model}/{name} drifted"


@pytest.mark.parametrize("model", SIBLINGS)
def test_every_fact_of_a_sibling_has_its_public_page_dated_and_its_notes(model: str) -> None:
    """The model's own page is dated; every open question has its section in the model's notes,
    and the notes cite that page."""
    contracts = sibling(model)
    own = contracts.profile.source(contracts.profile.section_sources["shape"][0])
    assert own.url.startswith("https://") and own.dates, own
    notes = ROOT / "docs" / "models" / f"{model}.md"
    text = notes.read_text(encoding="utf-8")
    assert own.url in text
    for question in contracts.questions.values():
        page, _, anchor = question.notes.partition("#")
        assert ROOT / page == notes
        assert f"### {anchor}\n" in text, f"{notes} has no section {anchor}"


@pytest.mark.parametrize("model", ["face-detect", *SIBLINGS])
def test_a_workspace_scoped_base_url_is_accepted_for_every_model(model: str) -> None:
    """wan2.2-s2v-detect's page documents `https://{WorkspaceId}.cn-beijing.maas.aliyuncs.com/
    api/v1` for this path: as a base URL it is no usage error, while the same host with the
    endpoint's path pasted in, or without /api, still is."""
    from facedetect_contract.live.configuration import base_url_problem

    contracts = load_contracts(ROOT / "contracts" / model)
    host = "https://ws-8f3a2c1d.cn-beijing.maas.aliyuncs.com"
    assert base_url_problem(f"{host}/api/v1", contracts) is None
    assert base_url_problem(f"{host}/api/v1{contracts.profile.path}", contracts)
    assert base_url_problem(f"{host}/v1", contracts)
    notes = (ROOT / "docs" / "models" / "wan2.2-s2v-detect.md").read_text(encoding="utf-8")
    assert "https://{WorkspaceId}.cn-beijing.maas.aliyuncs.com/api/v1" in notes


def test_a_valid_request_carries_the_default_ratio_else_the_first_documented_and_none_without() -> (
    None
):
    """``EndpointProfile.valid_request``: what the probes, the models' tests and their doubles
    send when nothing asks for a ratio."""
    for folder in FOLDERS:
        profile = load_contracts(folder).profile
        body = profile.valid_request("https://x.example/p.png")
        assert profile.request.model.get(body) == profile.model
        assert profile.request.image_url.get(body) == "https://x.example/p.png"
        if profile.ratio is None:
            assert set(body) == {
                *(p.parts[0] for p in (profile.request.model, profile.request.image_url))
            }
            continue
        expected = profile.ratio.default or profile.ratio.values[0]
        assert profile.ratio.field.get(body) == expected, folder.name
        assert profile.ratio.field.get(profile.valid_request("u", "3:4")) == "3:4"
