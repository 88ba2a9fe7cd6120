"""The old import path of ``contracts.fixtures``, kept for consumers."""

from __future__ import annotations

from .contracts.fixtures import (
    FIXTURE_DIR,
    IMAGE_DIR,
    FixtureFileError,
    dump_fixture,
    fixtures_beside,
    load_fixture,
    load_fixtures,
    write_atomically,
    write_fixture,
)

__all__ = [
    "FIXTURE_DIR",
    "IMAGE_DIR",
    "FixtureFileError",
    "dump_fixture",
    "fixtures_beside",
    "load_fixture",
    "load_fixtures",
    "write_atomically",
    "write_fixture",
]
