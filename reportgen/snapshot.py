"""Run folders: deterministic file contents, atomic write, manifest with hashes, load, resolve, verify, archive."""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import secrets
import shutil
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import OutputError

SCHEMA_VERSION = 1
FLOAT_FORMAT = "%.4f"
MANIFEST = "manifest.json"


# ----------------------------------------------------------------------------- deterministic serialisation
def jsonable(value: Any) -> Any:
    """Plain JSON values: NaN and infinities -> None, numpy scalars and arrays -> Python, paths -> str."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [jsonable(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return None if not math.isfinite(value) else value
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    return value


def json_bytes(value: Any) -> bytes:
    """Stable, valid JSON (``allow_nan=False``), two-space indented, ending with a newline."""
    return (json.dumps(jsonable(value), indent=2, ensure_ascii=False, allow_nan=False) + "\n").encode("utf-8")


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """CSV with a fixed float format and ``\\n`` line ends, so runs diff cleanly."""
    return frame.to_csv(index=False, float_format=FLOAT_FORMAT, lineterminator="\n").encode("utf-8")


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# ----------------------------------------------------------------------------- writing a run folder
def check_output_root(root: Path) -> None:
    """Make sure the run folder can be written under ``root`` before any work is done."""
    try:
        root.mkdir(parents=True, exist_ok=True)
        probe = root / f".reportgen-write-test-{secrets.token_hex(4)}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise OutputError(f"cannot write to the output folder {root}: {reason}",
                          hint="Choose a writable folder with --output DIR.") from exc


def folder_name(now: datetime, name: str) -> str:
    return f"{now:%Y%m%d-%H%M%S}-{name}"


def write_run(root: Path, name: str, files: Mapping[str, bytes], manifest: dict[str, Any]) -> Path:
    """Write ``files`` and ``manifest.json`` (with every file's sha256) into a new run folder under ``root``.

    The folder is built under a hidden temporary name and renamed when complete, so a failed run leaves
    nothing behind and a run never overwrites another: a taken name gets a ``-2``, ``-3`` ... suffix.
    """
    check_output_root(root)
    temp = root / f".tmp-{name}-{secrets.token_hex(4)}"
    try:
        temp.mkdir()
        hashes = {}
        for relative, data in sorted(files.items()):
            target = temp / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            hashes[relative] = sha256_bytes(data)
        manifest = {**manifest, "files": hashes}
        (temp / MANIFEST).write_bytes(json_bytes(manifest))
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
            return final
        raise OutputError(f"too many runs named {name} in {root}", hint="Use --name to pick another name.")
    except OSError as exc:
        raise OutputError(f"cannot write the run folder in {root}: {exc.strerror or exc}",
                          hint="Check the free space and permissions, or choose --output DIR.") from exc
    finally:
        if temp.exists():
            shutil.rmtree(temp, ignore_errors=True)


def read_json(path: Path) -> Any:
    with contextlib.suppress(FileNotFoundError):
        return json.loads(path.read_text(encoding="utf-8"))
    return None


def relative_files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())

