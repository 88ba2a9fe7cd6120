"""Copies of the packaged contracts with one fact changed: a run that follows the copy shows the
contracts folder was really chosen (``--contracts``, the ini key, ``run``/``serve``/``openapi``)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from facedetect_contract.contracts.loader import CONTRACT_DIR

__all__ = [
    "DOCUMENTED",
    "KEY_ENV",
    "PLANTED",
    "REQUIRED",
    "key_env_copy",
    "planted_copy",
    "requiring_copy",
]

PLANTED = "planted: a message only the copied contracts document"
DOCUMENTED = "Invalid API-key provided."
REQUIRED = "planted_required_field"
KEY_ENV = "PLANTED_CONTRACTS_KEY"


def planted_copy(folder: Path) -> Path:
    """The packaged contracts copied to ``folder``, the documented answer to an unknown key
    (its message, in the error table and the profile's rejection) replaced by ``PLANTED``."""
    copy = folder / "contracts-copy"
    shutil.copytree(CONTRACT_DIR, copy)
    planted = 0
    for name in ("errors.json", "endpoint.json"):
        path = copy / name
        text = path.read_text(encoding="utf-8")
        planted += text.count(json.dumps(DOCUMENTED))
        path.write_text(text.replace(json.dumps(DOCUMENTED), json.dumps(PLANTED)), "utf-8")
    assert planted == 2, f"the message {DOCUMENTED!r} moved; plant another"
    return copy


def key_env_copy(folder: Path) -> Path:
    """The packaged contracts copied to ``folder``, the key read from ``KEY_ENV``."""
    copy = folder / "contracts-copy"
    shutil.copytree(CONTRACT_DIR, copy)
    profile = json.loads((copy / "endpoint.json").read_text(encoding="utf-8"))
    profile["endpoint"]["api_key_env"] = KEY_ENV
    (copy / "endpoint.json").write_text(json.dumps(profile, indent=2), encoding="utf-8")
    return copy


def requiring_copy(folder: Path) -> Path:
    """The packaged contracts copied to ``folder``, a passed check's answer made to require a
    field no documented answer carries (``REQUIRED``)."""
    copy = folder / "contracts-copy"
    shutil.copytree(CONTRACT_DIR, copy)
    path = copy / "response-check-passed.schema.json"
    schema = json.loads(path.read_text(encoding="utf-8"))
    schema["required"].append(REQUIRED)
    schema["properties"][REQUIRED] = {"type": "string"}
    path.write_text(json.dumps(schema, indent=2), encoding="utf-8")
    return copy
