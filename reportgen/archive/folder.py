"""Run folders written atomically: built in a hidden sibling under a lock, synced, and renamed when complete; leftovers
of killed runs are cleared."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import secrets
import shutil
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import OutputError
from .files import FileData, json_bytes
from .manifest import MANIFEST, SEAL

# ----------------------------------------------------------------------------- writing a run folder
TEMP_PREFIX = ".tmp-"  # a run folder being written; never listed, never a baseline
PROBE_PREFIX = ".reportgen-write-test-"
GRACE_SECONDS = 5  # an unlocked temporary folder younger than this may be one a run has just made


def check_output_root(root: Path) -> None:
    """Make sure the run folder can be written under ``root`` before any work is done, and clear what runs that
    were killed left there (:func:`clear_leftovers`)."""
    try:
        root.mkdir(parents=True, exist_ok=True)
        probe = root / f"{PROBE_PREFIX}{secrets.token_hex(4)}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise OutputError(f"cannot write to the output folder {root}: {reason}",
                          hint="Choose a writable folder with --output DIR.") from exc
    clear_leftovers(root)


@contextmanager
def held(folder: Path) -> Iterator[int]:
    """An exclusive lock (``flock``) on ``folder`` for as long as a run writes it: the kernel releases it when the
    process ends, however it ends (SIGKILL too), and it follows the folder through its rename. Yields the
    folder's descriptor (for fsync)."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        with contextlib.suppress(OSError):  # a file system without locks: the grace period alone protects it
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        yield descriptor
    finally:
        os.close(descriptor)


def is_leftover(folder: Path, *, now: float | None = None) -> bool:
    """A temporary run folder whose writer is gone: nobody holds its lock (:func:`held`), and it is older than
    :data:`GRACE_SECONDS` (a run locks its folder the moment it makes it)."""
    now = time.time() if now is None else now
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False  # a live run holds it
    else:
        fcntl.flock(descriptor, fcntl.LOCK_UN)
        with contextlib.suppress(OSError):
            return now - folder.stat().st_mtime > GRACE_SECONDS
        return False
    finally:
        os.close(descriptor)


def clear_leftovers(root: Path) -> list[str]:
    """Remove the temporary folders and write probes of runs that were killed (SIGKILL, a power cut) under
    ``root``; a folder a live run is writing is left alone. Returns the names removed."""
    removed = []
    for path in root.iterdir() if root.is_dir() else ():
        if path.name.startswith(TEMP_PREFIX) and path.is_dir() and is_leftover(path):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path.name)
        elif path.name.startswith(PROBE_PREFIX) and path.is_file():
            with contextlib.suppress(OSError):
                if time.time() - path.stat().st_mtime > 60:
                    path.unlink()
                    removed.append(path.name)
    return removed


class _MakingFailed(Exception):
    """A file's part could not be made (its cause says why) while the run folder was written."""


def _write_synced(path: Path, data: FileData) -> str:
    """Write and flush to the disk, so that a folder renamed into place never holds a file cut short; the
    file's sha256."""
    digest = hashlib.sha256()
    parts = iter((data,) if isinstance(data, bytes | bytearray | memoryview) else data)
    with path.open("wb") as handle:
        while True:
            try:
                part = next(parts)
            except StopIteration:
                break
            except OSError as exc:  # making the part failed, not writing it: not a disk problem
                raise _MakingFailed() from exc
            handle.write(part)
            digest.update(part)
        handle.flush()
        os.fsync(handle.fileno())
    return digest.hexdigest()


def _made(make: Callable[[Path], bytes], folder: Path) -> bytes:
    try:
        return make(folder)
    except OSError as exc:  # making the file failed (a renderer's font), not writing it
        raise _MakingFailed() from exc


def _sync_folder(path: Path) -> None:
    with contextlib.suppress(OSError):  # not every file system can sync a folder
        descriptor = os.open(path, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


@dataclass(frozen=True)
class Sealed:
    """Files made from the run folder once its manifest is written (report.pdf, which embeds the manifest and
    the data files), hashed in seal.json with ``extra()`` (the times of making them) beside the hashes."""

    files: Mapping[str, Callable[[Path], bytes]]  # name -> made from the folder being written
    extra: Callable[[], Mapping[str, Any]] = dict


def write_run(root: Path, name: str, files: Mapping[str, FileData],
              manifest: dict[str, Any] | Callable[[], dict[str, Any]], *, sealed: Sealed | None = None) -> Path:
    """Write ``files`` and ``manifest.json`` (with every file's sha256) into a new run folder under ``root``, in the
    order of ``files`` (a part made as it is written is best last). ``manifest`` may be a function, called once
    the files are written (so that it can time them). Then the ``sealed`` files are made from the folder, and
    written with their hashes in seal.json.

    The folder is built under a hidden temporary name (locked by this process while it writes: :func:`held`),
    synced to the disk and renamed when complete, so a failed or killed run leaves nothing that ``history`` lists or
    ``--baseline latest`` picks (the next run clears the leftover), and a run never overwrites another: a taken
    name gets a ``-2``, ``-3`` ... suffix, and two runs at the same moment get one each.
    """
    check_output_root(root)
    temp = root / f"{TEMP_PREFIX}{name}-{secrets.token_hex(4)}"
    try:
        temp.mkdir()
        with held(temp) as descriptor:
            hashes = {}
            for relative, data in files.items():  # in the caller's order: what is waited for last
                target = temp / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                hashes[relative] = _write_synced(target, data)
            content = manifest() if callable(manifest) else manifest
            _write_synced(temp / MANIFEST, json_bytes({**content, "files": dict(sorted(hashes.items()))}))
            if sealed is not None and sealed.files:
                seals = {relative: _write_synced(temp / relative, _made(make, temp))
                         for relative, make in sealed.files.items()}
                _write_synced(temp / SEAL, json_bytes({"run": content.get("run", name), "files": seals,
                                                       **sealed.extra()}))
            for folder in {(temp / relative).parent for relative in files} - {temp}:
                _sync_folder(folder)
            os.fsync(descriptor)
            for attempt in range(1, 1000):
                final = root / (name if attempt == 1 else f"{name}-{attempt}")
                if final.exists():
                    continue
                try:
                    temp.rename(final)  # atomic; fails if another process created a non-empty folder meanwhile
                except OSError:
                    if final.exists():
                        continue
                    raise
                _sync_folder(root)
                return final
        raise OutputError(f"too many runs named {name} in {root}", hint="Use --name to pick another name.")
    except _MakingFailed as failed:
        assert failed.__cause__ is not None
        raise failed.__cause__ from None
    except OSError as exc:
        raise OutputError(f"cannot write the run folder in {root}: {exc.strerror or exc}",
                          hint="Check the free space and permissions, or choose --output DIR.") from exc
    finally:
        if temp.exists():
            shutil.rmtree(temp, ignore_errors=True)
