"""The checkout's tests load the suite's Hypothesis profile (the plugin itself loads none)."""

from __future__ import annotations

from facedetect_contract.plugin.harness import (  # noqa: F401  # the suite's hooks, by importing them
    pytest_collectstart,
    pytest_configure,
    pytest_sessionfinish,
)
