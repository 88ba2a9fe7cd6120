"""A detection model on another path, as data only (issue 20, item 4): a contracts folder for an
invented model, ``portrait-detect-v1`` at ``/services/aigc/image2image/portrait-detect``, whose
verdict is ``output.ok`` and whose one box is ``output.box``, written here by copying a sibling
folder and editing its data. No Python changes for it: the project's loader reads it, the
classifier tells its documented answers apart by its own shape, and its OpenAPI document has its
path and its own examples."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from facedetect_contract.contracts.fixtures import load_fixtures
from facedetect_contract.contracts.loader import Contracts, load_contracts
from facedetect_contract.contracts.openapi import build_openapi, documented_fixture_dir
from facedetect_contract.contracts.outcome import classify
from facedetect_contract.core.pointers import Pointer

ROOT = Path(__file__).resolve().parents[2]
SIBLING = "liveportrait-detect"
MODEL = "portrait-detect-v1"
PATH = "/services/aigc/image2image/portrait-detect"
PAGE = "https://example.com/docs/portrait-detect-api"  # the invented model's invented page


def _edit(path: Path, change: Any) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def write_portrait_detect(root: Path) -> Path:
    """``root/contracts/portrait-detect`` (and its fixtures in ``root/fixtures/portrait-detect``),
    made from liveportrait-detect's folder by editing data only."""
    folder = root / "contracts" / "portrait-detect"
    shutil.copytree(ROOT / "contracts" / SIBLING, folder)

    def profile(data: dict[str, Any]) -> None:
        data["model"], data["endpoint"]["path"] = MODEL, PATH
        data["shape"].update(verdict="/output/ok", boxes={"face_box": "/output/box"})
        data["shape"]["description"] = "The verdict is output.ok; one box, output.box."
        data["images"]["max_side_px"] = 4096
        data["sources"][f"{SIBLING}-api"]["pages"][0] = {"url": PAGE, "dates": ["2026-12-01"]}

    _edit(folder / "endpoint.json", profile)
    _edit(
        folder / "request.schema.json",
        lambda d: d["properties"]["model"].update(enum=[MODEL]),
    )
    box = {
        "type": "array",
        "minItems": 4,
        "maxItems": 4,
        "items": {"type": "integer", "minimum": 0},
    }
    _edit(folder / "common.schema.json", lambda d: d["$defs"].update(Box=box))

    def passed(d: dict[str, Any]) -> None:
        d["properties"]["output"] = {
            "type": "object",
            "required": ["ok", "box"],
            "additionalProperties": False,
            "properties": {
                "ok": {"type": "boolean", "const": True},
                "box": {"$ref": "common.schema.json#/$defs/Box"},
            },
        }
        d.pop("x-open-questions")
        d.pop("$comment")

    def failed(d: dict[str, Any]) -> None:
        output = d["properties"]["output"]
        output["required"] = ["ok", "message"]
        output["properties"] = {
            "ok": {"type": "boolean", "const": False},
            "message": {"type": "string"},
        }

    _edit(folder / "response-check-passed.schema.json", passed)
    _edit(folder / "response-check-failed.schema.json", failed)

    def questions(d: dict[str, Any]) -> None:
        # message-on-pass is liveportrait's: this model's pass has no message.
        d["questions"] = [q for q in d["questions"] if q["id"] != "message-on-pass"]

    _edit(folder / "questions.json", questions)
    fixtures = root / "fixtures" / "portrait-detect"
    fixtures.mkdir(parents=True)
    for name in ("documented-pass", "documented-fail"):
        data = json.loads((ROOT / "fixtures" / SIBLING / f"{name}.json").read_text())
        data["request"]["body"]["model"] = MODEL
        data["provenance"].update(source=PAGE, date="2026-12-01")
        data["response"]["body"]["output"] = (
            {"ok": True, "box": [10, 20, 310, 420]}
            if name == "documented-pass"
            else {"ok": False, "message": "No portrait found."}
        )
        (fixtures / f"{name}.json").write_text(json.dumps(data, indent=2), encoding="utf-8")
    return folder


def load(tmp_path: Path) -> tuple[Contracts, dict[str, Any]]:
    folder = write_portrait_detect(tmp_path / "root")
    contracts = load_contracts(folder)
    fixtures = {
        f.name: f for f in load_fixtures(tmp_path / "root" / "fixtures" / folder.name, contracts)
    }
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
    assert (passed.kind, passed.face_box, passed.crop_box) == ("passed", (10, 20, 310, 420), None)
    failed = classify(fixtures["documented-fail"].response, contracts)
    assert (failed.kind, failed.shape, failed.message) == ("failed", "A", "No portrait found.")
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
