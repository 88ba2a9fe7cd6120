"""The consumer's old import paths still import, and name the same objects as the new ones."""

from __future__ import annotations

import importlib

import pytest

OLD_TO_NEW = {
    "facedetect_contract.__main__": "facedetect_contract.cli",
    "facedetect_contract.fake": "facedetect_contract.doubles.fake",
    "facedetect_contract.fixtures": "facedetect_contract.contracts.fixtures",
    "facedetect_contract.server": "facedetect_contract.doubles.server",
}


@pytest.mark.parametrize(("old", "new"), OLD_TO_NEW.items(), ids=list(OLD_TO_NEW))
def test_an_old_import_path_names_the_new_modules_objects(old: str, new: str) -> None:
    before, after = importlib.import_module(old), importlib.import_module(new)
    assert sorted(before.__all__) == sorted(after.__all__)
    for name in after.__all__:
        assert getattr(before, name) is getattr(after, name), name
