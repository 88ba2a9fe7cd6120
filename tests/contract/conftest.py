"""The contract suite's own setting: its Hypothesis profile and the fixtures its tests take.

This folder ships in the wheel as ``facedetect_contract.suite`` (``facedetect-contract run``), so
it depends on nothing outside the package. Its hooks and fixtures read the contracts of the run
(``--contracts`` or the ini key ``facedetect_contracts``, else the packaged ones).
"""

from __future__ import annotations

from facedetect_contract.plugin.harness import (  # noqa: F401  # fixtures and hooks, by importing them
    contracts,
    fake,
    offline_client,
    offline_exchange,
    pytest_collectstart,
    pytest_configure,
    pytest_generate_tests,
    pytest_sessionfinish,
)
