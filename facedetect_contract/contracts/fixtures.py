"""Fixture files: interactions stored under ``fixtures/<contracts folder>/``, read and written
safely.

Each contracts folder has its documented fixtures in the fixtures folder of the same name
(``fixture_dir``): a run with ``--contracts contracts/liveportrait-detect`` replays and compares
against ``fixtures/liveportrait-detect/``, never EMO's, whose fields that model does not have.

Reading validates each file against ``interaction.schema.json`` and names the file and field on
error (``Contracts.schema_errors``: bytes that passed before are not validated again, as each
live run reads the whole folder). Writing is atomic (temp file + rename) and redacts every
key-like string first.
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
import threading
from pathlib import Path
from typing import Any

from ..core import inert
from ..core.data import packaged_or_checkout
from ..core.interaction import Interaction, read_json_file
from ..core.pointers import shown
from ..core.redaction import Secret, redact_tree
from .loader import Contracts, packaged_models
from .profile import CONTRACT_DIR

__all__ = [
    "FIXTURE_DIR",
    "IMAGE_DIR",
    "FixtureFileError",
    "dump_fixture",
    "fixture_dir",
    "fixtures_beside",
    "load_fixture",
    "load_fixtures",
    "own_fixture_dir",
    "write_atomically",
    "write_fixture",
]

# The checkout keeps them at the top level; an installed wheel carries a copy inside the package.
_FIXTURES = packaged_or_checkout("_data/fixtures", "fixtures")
FIXTURE_DIR = _FIXTURES / "face-detect"
# Real image files for the stub server to serve and download (fixtures/images/make_images.py).
IMAGE_DIR = _FIXTURES / "images"


class FixtureFileError(ValueError):
    """A fixture file is unreadable or does not match the interaction schema."""


def load_fixture(path: Path, contracts: Contracts) -> Interaction:
    """One fixture file as an ``Interaction``; ``FixtureFileError`` names the file and field."""
    if not path.is_file():
        what = "a directory" if path.is_dir() else "not a readable file (a dangling link?)"
        raise FixtureFileError(
            f"{path}: is {what}; a fixture is a JSON file: move it out of the fixture folder"
        )
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise FixtureFileError(
            f"{path}: cannot read it ({exc.strerror}); check its permissions"
        ) from None
    data = read_json_file(path, raw, FixtureFileError)
    errors = contracts.schema_errors("interaction", data, content=raw)
    if errors:
        first = errors[0]
        where = shown(first.absolute_path)
        raise FixtureFileError(
            f"{path}: field {where}: {first.message}; make it match "
            f"{Path(contracts.directory) / 'interaction.schema.json'}"
        )
    if data["name"] != path.stem:
        raise FixtureFileError(
            f"{path}: field /name is {data['name']!r}; rename it to {path.stem!r}"
        )
    return Interaction.from_dict(data)


def load_fixtures(directory: Path, contracts: Contracts) -> list[Interaction]:
    """Every ``*.json`` interaction of ``directory``, sorted by name (``FixtureFileError`` names
    the first bad one)."""
    if not directory.is_dir():
        raise FixtureFileError(f"{directory}: no such fixture folder; create it or fix the path")
    return [load_fixture(path, contracts) for path in sorted(directory.glob("*.json"))]


def own_fixture_dir(contracts: Contracts) -> Path | None:
    """The folder of documented fixtures that belongs to ``contracts``, or ``None``.

    A shipped contracts folder (``contracts/<name>``, or the wheel's ``_contracts/<name>``) has
    its fixtures in the shipped ``fixtures/<name>``; any other folder is looked for as the
    checkout lays them out, ``<root>/contracts/<name>`` beside ``<root>/fixtures/<name>``. No
    folder there: ``None`` (another model's fixtures are never borrowed)."""
    directory = contracts.directory.resolve()
    if directory.parent == CONTRACT_DIR.resolve().parent:
        found = _FIXTURES / directory.name
    else:
        found = directory.parent.parent / _FIXTURES.name / directory.name
    return found if found.is_dir() else None


def fixture_dir(contracts: Contracts) -> Path:
    """The fixtures of ``contracts``: its own (``own_fixture_dir``: the shipped
    ``fixtures/emoji-detect-v1`` for ``contracts/emoji-detect-v1``, ``<root>/fixtures/<name>``
    beside a folder of one's own); for a copy of a packaged folder with no fixtures beside it,
    the packaged fixtures of the same model. A model with none is named by the folder it would
    be (``load_fixtures`` then says to create it)."""
    own = own_fixture_dir(contracts)
    if own is not None:
        return own
    packaged = packaged_models().get(contracts.profile.model)
    if packaged is not None and (_FIXTURES / packaged.name).is_dir():
        return _FIXTURES / packaged.name
    return _FIXTURES / Path(contracts.directory).name


def fixtures_beside(directory: Path, contracts: Contracts) -> list[Interaction]:
    """The packaged fixtures of the contracts' model (``fixture_dir``), and those of
    ``directory`` (a user's recordings) when it exists and is another folder."""
    packaged = fixture_dir(contracts)
    found = load_fixtures(packaged, contracts)
    # Another model's packaged fixtures (the default record folder of a run that did not say
    # its contracts) are never this model's recordings.
    other_model = directory.resolve().parent == _FIXTURES.resolve()
    if directory.is_dir() and directory.resolve() != packaged.resolve() and not other_model:
        found += load_fixtures(directory, contracts)
    return found


def dump_fixture(
    interaction: Interaction | dict[str, Any], secrets: list[Secret | str | None]
) -> str:
    """The fixture text: sorted keys, 2-space indent, ``secrets`` and key-like strings
    redacted (the caller names its keys: no variable of one profile is read behind its back)."""
    data = interaction.to_dict() if isinstance(interaction, Interaction) else interaction
    # Value by value, before serialising: redacting JSON text could eat an escaping backslash.
    clean = redact_tree(data, secrets)
    return json.dumps(clean, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def write_fixture(
    interaction: Interaction,
    directory: Path,
    secrets: list[Secret | str | None],
) -> Path:
    """Write ``<directory>/<name>.json`` atomically; never leaves a partial file behind."""
    target = directory / f"{interaction.name}.json"
    write_atomically(target, dump_fixture(interaction, secrets))
    return target


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to a temp file beside ``path``, then rename it: readers see all or nothing.

    The file gets the mode an ordinary ``open`` would give it (the process's umask), and an
    existing file keeps its mode; a lone surrogate in ``text`` is written as ``\\udXXX``.
    """
    data = inert.encodable(text).encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        mode = 0o666 & ~_umask()
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())  # the rename must not land before the bytes do
        # mkstemp creates 0600: a CI step running as another user could not read the report.
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    try:  # Linux says it without changing it
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    # Elsewhere it can only be read by setting it: set back at once, under a lock (another
    # thread creating a file meanwhile gets a stricter mode, never a looser one).
    with _UMASK_LOCK:
        current = os.umask(0o077)
        os.umask(current)
    return current


_UMASK_LOCK = threading.Lock()
