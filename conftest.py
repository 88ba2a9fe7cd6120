"""Registers the suite's pytest plugin for every test under this root (and nowhere else)."""

pytest_plugins = ["facedetect_contract.plugin"]
