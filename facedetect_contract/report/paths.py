"""Where a live run may write: its report, history and baseline paths, checked before it starts.

A path the run writes must be a regular file or a new one: a FIFO would hang the run before
anything is sent, a device (``/dev/zero``) would fill memory, a directory cannot be replaced. It
must not be inside the fixture folder or the record folder (the next replay would read it), nor an
input of the run (the cases file, a baseline only read), nor an existing file that is not an earlier
output of this suite. Each problem is a ``ValueError`` naming the option, the path and the fix,
raised before anything is sent. Peeking at an existing file reads at most ``PEEK`` bytes, and only
of a regular file. A report path's suffix must name a format of ``formats.FORMATS``, whose
signatures tell our reports from a user's files.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING

from ..contracts.fixtures import FIXTURE_DIR
from .formats import FORMATS, format_of

if TYPE_CHECKING:
    from ..live.run import LiveSettings

__all__ = ["PEEK", "check_outputs", "looks_like_report", "report_format", "writable_file"]

PEEK = 4096  # bytes read of an existing file to tell whether it is ours


def _ends(path: Path) -> tuple[bytes, bytes] | None:
    """The first and the last ``PEEK`` bytes of a regular file (``None`` for anything else)."""
    try:
        # O_NONBLOCK: opening a FIFO for reading must not wait for a writer; the fstat below
        # then refuses it (and a device) before a byte is read.
        handle = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(handle).st_mode):
            return None
        head = os.read(handle, PEEK)
        size = os.fstat(handle).st_size
        tail = head
        if size > PEEK:
            os.lseek(handle, size - PEEK, os.SEEK_SET)
            tail = os.read(handle, PEEK)
        return head, tail
    except OSError:
        return None
    finally:
        os.close(handle)


def looks_like_report(path: Path) -> bool:
    """Whether ``path`` is a regular file holding a report this suite wrote in the format its
    suffix names, judged by that format's signature from the first and last ``PEEK`` bytes."""
    kind = format_of(path)
    ends = None if kind is None else _ends(path)
    if kind is None or ends is None:
        return False
    head, tail = (part.decode("utf-8", errors="replace") for part in ends)
    return kind.signature(head, tail)


def report_format(path: Path) -> None:
    """``ValueError`` unless ``path``'s suffix names a report format (``FORMATS``)."""
    if format_of(path) is None:
        raise ValueError(
            f"--drift-report {path}: give a path ending in one of {list(FORMATS)} "
            f"(one option per format)"
        )


def writable_file(option: str, path: Path) -> None:
    """``ValueError`` unless ``path`` is a regular file, or does not exist yet (a dangling
    symbolic link counts as new: writing replaces the link, not its target)."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return
    except OSError as exc:
        raise ValueError(
            f"{option} {path}: cannot be read ({exc.strerror}); give another path"
        ) from None
    if stat.S_ISDIR(mode):
        raise ValueError(f"{option} {path}: is a directory; give a file path")
    if not stat.S_ISREG(mode):
        kind = "a FIFO" if stat.S_ISFIFO(mode) else "a device or socket"
        raise ValueError(
            f"{option} {path}: is {kind}, not a regular file; give the path of a regular file "
            "(or of a new one)"
        )


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or path.is_relative_to(folder)


def check_outputs(settings: LiveSettings) -> None:
    """``ValueError`` when a report path names no format, or a path the run writes is not a
    regular (or new) file, is inside the fixture or record folder, is an input of the run, is
    given twice, or would replace a file that is not an earlier report of this suite."""
    folders = {
        # every model's documented fixtures (fixtures/<contracts folder>), not only EMO's
        "the packaged fixtures": FIXTURE_DIR.parent.resolve(),
        "the record folder, --record-dir": settings.record_dir.resolve(),
    }
    inputs = {p.resolve(): "a file the run reads" for p in settings.inputs}
    if settings.cases_file is not None:  # None: the model's default cases, no file given
        inputs[settings.cases_file.resolve()] = "the cases file, --live-cases"
    for path in settings.reports:
        report_format(path)
    written: list[tuple[str, Path]] = [("--drift-report", path) for path in settings.reports]
    if settings.history is not None:
        written.append(("--history", settings.history))
    if settings.baseline is not None:
        if settings.update_baseline:
            written.append(("--baseline", settings.baseline))
        else:
            inputs[settings.baseline.resolve()] = (
                "the baseline, read only without --update-baseline"
            )
            writable_file("--baseline", settings.baseline)  # read whole: no FIFO, no device
    seen: dict[Path, str] = {}
    for option, path in written:
        resolved = path.resolve()
        if resolved in seen:
            raise ValueError(
                f"{option} {path} is also given as {seen[resolved]}; give each file once"
            )
        seen[resolved] = option
        if resolved in inputs:
            raise ValueError(
                f"{option} {path} is an input of the run ({inputs[resolved]}); write it "
                f"elsewhere, such as "
                f"reports/{path.name}"
            )
        for name, folder in folders.items():
            if _inside(resolved, folder):
                raise ValueError(
                    f"{option} {path} is in the fixture folder {folder} ({name}), which replay "
                    f"reads; write it elsewhere, such as reports/{path.name}"
                )
        writable_file(option, path)
        if option == "--drift-report" and resolved.exists() and not looks_like_report(resolved):
            raise ValueError(
                f"--drift-report {path} exists and is not a report of this suite; it would be "
                f"replaced: give another path (or delete the file yourself)"
            )
