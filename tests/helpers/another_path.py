"""A detection model on another path, made by a test from data alone (issue 20): a contracts
folder for an invented model, ``portrait-detect-v1`` at ``/services/aigc/image2image/
portrait-detect``, whose verdict is ``output.ok`` and whose one box is ``output.box``, written by
copying liveportrait-detect's folder and editing its data, with its documented fixtures beside it
(``<root>/fixtures/portrait-detect`` beside ``<root>/contracts/portrait-detect``, the checkout's
layout). Shared by the tests of the model itself (tests/contracts/test_another_path.py) and of
the doubles' answer to a model whose docs show no failed check (tests/doubles/
test_fake_models.py: ``failure=False`` writes no documented failure)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = [
    "FAILED_MESSAGE",
    "MODEL",
    "PAGE",
    "PASSED_BOX",
    "PATH",
    "SIBLING",
    "fixtures_of",
    "write_portrait_detect",
]

ROOT = Path(__file__).resolve().parents[2]  # the checkout
SIBLING = "liveportrait-detect"  # the packaged folder it is copied from
MODEL = "portrait-detect-v1"
PATH = "/services/aigc/image2image/portrait-detect"
PAGE = "https://example.com/docs/portrait-detect-api"  # the invented model's invented page
PASSED_BOX = [10, 20, 310, 420]  # its documented pass's box
FAILED_MESSAGE = "No portrait found."  # its documented failure's words


def _edit(path: Path, change: Callable[[Any], Any]) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def fixtures_of(folder: Path) -> Path:
    """The documented fixtures' folder beside a contracts folder ``<root>/contracts/<name>``."""
    return folder.parent.parent / "fixtures" / folder.name


def write_portrait_detect(root: Path, *, failure: bool = True) -> Path:
    """``root/contracts/portrait-detect`` and its documented fixtures in
    ``root/fixtures/portrait-detect``, made from liveportrait-detect's folder by editing data
    only. ``failure=False``: its docs show a pass only (no documented failed check)."""
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
    fixtures = fixtures_of(folder)
    fixtures.mkdir(parents=True)
    names = ("documented-pass", "documented-fail") if failure else ("documented-pass",)
    for name in names:
        data = json.loads((ROOT / "fixtures" / SIBLING / f"{name}.json").read_text())
        data["request"]["body"]["model"] = MODEL
        data["provenance"].update(source=PAGE, date="2026-12-01")
        data["response"]["body"]["output"] = (
            {"ok": True, "box": PASSED_BOX}
            if name == "documented-pass"
            else {"ok": False, "message": FAILED_MESSAGE}
        )
        (fixtures / f"{name}.json").write_text(json.dumps(data, indent=2), encoding="utf-8")
    return folder
