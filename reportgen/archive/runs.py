"""Archived runs: find them ("latest", a folder, a name), list them, read their manifest and model, verify their
files against the manifest's sha256, and zip them.

Writing a run folder is :mod:`reportgen.archive.folder`'s job; this module only reads.
"""

from __future__ import annotations

import contextlib
import json
import re
import secrets
import zipfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import OutputError, SnapshotError
from ..inputs.base import sha256_file
from ..model import BaselineModel, CategoricalEncoding, KCandidate, KSelection, RunInfo, Scaler, Transform
from .cells import unescape_frame
from .files import sha256_bytes
from .manifest import MANIFEST, REPORT_PDF, SEAL


def read_json(path: Path) -> Any:
    with contextlib.suppress(FileNotFoundError):
        return json.loads(path.read_text(encoding="utf-8"))
    return None


def relative_files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


KNOWN_EXTRA = frozenset({MANIFEST, SEAL, "deliveries.json"})  # not hashed: the manifest, the seal, the email log


def read_manifest(folder: Path) -> dict[str, Any]:
    path = folder / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SnapshotError(f"{folder} is not a run folder (it has no {MANIFEST})",
                            hint="Pass a folder made by 'reportgen run'; 'reportgen history' lists them.") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SnapshotError(f"the manifest of {folder} cannot be read: {exc}",
                            hint="The run folder is damaged; 'reportgen verify' tells what is wrong.") from exc
    if not isinstance(data, dict) or "files" not in data:
        raise SnapshotError(f"the manifest of {folder} is not a reportgen manifest")
    return data


def run_folders(root: Path) -> list[Path]:
    """Run folders directly under ``root`` (those with a manifest), oldest first; not the folders of trend
    reports ('reportgen trend'), which are no runs."""
    if not root.is_dir():
        return []
    found = []
    for folder in root.iterdir():
        if folder.is_dir() and not folder.name.startswith(".") and (folder / MANIFEST).is_file():
            manifest = read_json(folder / MANIFEST)
            manifest = manifest if isinstance(manifest, dict) else {}
            if manifest.get("kind") != "trend":
                found.append((str(manifest.get("started", "")) + folder.name, folder))
    return [folder for _, folder in sorted(found)]


RUN_FOLDER = re.compile(r"\d{8}-\d{6}-(?P<name>.+)")  # report.names.folder_name: <YYYYmmdd-HHMMSS>-<name>
LISTED_RUNS = 5  # the run folders an ambiguous run name lists at most


def runs_named(name: str, root: Path) -> list[Path]:
    """The run folders under ``root`` (oldest first) whose name is ``<date>-<time>-<name>``: the runs given
    ``name`` (``--name``, or the input file's name)."""
    found = []
    for folder in run_folders(root):
        match = RUN_FOLDER.fullmatch(folder.name)
        if match is not None and match["name"] == name:
            found.append(folder)
    return found


def resolve_run(ref: str | Path, root: Path, *, trend_ok: bool = False) -> Path:
    """``latest``, a run folder path, a run folder name under ``root``, or the name a run was given (what follows
    the date and time in its folder's name, ``20261207-202549-<name>``) when exactly one run under ``root`` has
    it -> the run folder. A name that several runs have is refused, with their folders. A trend report's folder
    ('reportgen trend') is refused unless ``trend_ok`` (verify and archive take one)."""
    text = str(ref)
    if text == "latest":
        folders = run_folders(root)
        if not folders:
            raise SnapshotError(f"there is no run in {root} to use as 'latest'",
                                hint="Run 'reportgen run' first, or pass --output where the runs are.")
        return folders[-1]
    for candidate in (Path(text), root / text):
        if candidate.is_dir():
            if not (candidate / MANIFEST).is_file():
                raise SnapshotError(f"{candidate} is not a run folder (it has no {MANIFEST})",
                                    hint="'reportgen history' lists the runs.")
            if not trend_ok:
                check_is_run(candidate)
            return candidate
    named = runs_named(text, root)
    if len(named) == 1:
        return named[0]
    if named:
        shown = named[-LISTED_RUNS:]
        more = f" and {len(named) - len(shown)} older" if len(named) > len(shown) else ""
        raise SnapshotError(f"{len(named)} runs in {root} are named {text!r}: "
                            f"{', '.join(folder.name for folder in shown)}{more}",
                            hint=f"Give the whole folder name, such as {shown[-1].name} (the latest).")
    raise SnapshotError(f"no run {text!r} (not a folder, not a run in {root}, and no run there is named so)",
                        hint="'reportgen history' lists the runs; 'latest' is the newest.")


def check_is_run(folder: Path) -> None:
    """Refuse the folder of a trend report where a run is needed."""
    manifest = read_json(folder / MANIFEST)
    if isinstance(manifest, dict) and manifest.get("kind") == "trend":
        raise SnapshotError(f"{folder} is a trend report ('reportgen trend'), not a run",
                            hint="Pass a run folder; 'reportgen history' lists them.")


def run_info(folder: Path) -> RunInfo:
    manifest = read_manifest(folder)
    deliveries = read_json(folder / "deliveries.json") or []
    return RunInfo(
        folder=folder, run=manifest.get("run", folder.name), created=str(manifest.get("started", "")),
        title=str(manifest.get("settings", {}).get("title", "")),
        input_name=str(manifest.get("input", {}).get("name", "")),
        input_sha256=str(manifest.get("input", {}).get("sha256", "")),
        rows=int(manifest.get("input", {}).get("rows", 0)), k=manifest.get("k"),
        silhouette=manifest.get("silhouette"), baseline=(manifest.get("baseline") or {}).get("run"),
        deliveries=len(deliveries) if isinstance(deliveries, list) else 0,
    )


def list_runs(root: Path) -> list[RunInfo]:
    return [run_info(folder) for folder in run_folders(root)]


# ----------------------------------------------------------------------------- verify and archive
def _zip_members(path: Path) -> tuple[dict[str, Any], dict[str, bytes]]:
    try:
        with zipfile.ZipFile(path) as archive:
            names = [n for n in archive.namelist() if not n.endswith("/")]
            prefix = names[0].split("/", 1)[0] + "/" if names and all("/" in n for n in names) else ""
            contents = {n[len(prefix):]: archive.read(n) for n in names}
    except (zipfile.BadZipFile, OSError) as exc:
        raise SnapshotError(f"{path} is not a readable zip archive: {exc}") from exc
    if MANIFEST not in contents:
        raise SnapshotError(f"{path} has no {MANIFEST}", hint="Pass a zip made by 'reportgen archive'.")
    try:
        manifest = json.loads(contents[MANIFEST])
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SnapshotError(f"the manifest in {path} cannot be read: {exc}") from exc
    return manifest, contents


def verify(path: Path) -> tuple[int, list[tuple[str, str]]]:
    """Check every file of a run folder or archive against the sha256 in its manifest, and report.pdf (which
    embeds the manifest, so cannot be hashed in it) against seal.json's.

    Returns ``(files checked, problems)`` with problems as ``(file, "changed" | "missing" | "not in the
    manifest")``. A PDF alone is checked by :func:`reportgen.archive.pdffiles.verify_pdf`.
    """
    if path.is_file() and zipfile.is_zipfile(path):
        manifest, contents = _zip_members(path)
        digests = {name: sha256_bytes(data) for name, data in contents.items()}
        read: Callable[[str], bytes] = contents.__getitem__
    else:
        manifest = read_manifest(path)
        digests = {name: sha256_file(path / name) for name in relative_files(path)}

        def read(name: str) -> bytes:
            return (path / name).read_bytes()
    seal_text = read(SEAL) if SEAL in digests else None
    problems = []
    expected: dict[str, str] = dict(manifest.get("files", {}))
    sealed = manifest.get("pdf")
    pdf_name = str(sealed.get("file", REPORT_PDF)) if isinstance(sealed, dict) else None
    if pdf_name is not None and pdf_name not in expected:  # schema 2: report.pdf's sha256 is in seal.json
        seal = _seal(seal_text)
        if seal is None:
            problems.append((SEAL, "missing" if seal_text is None else "damaged"))
        elif pdf_name in seal:
            expected[pdf_name] = seal[pdf_name]  # seal.json vouches for the PDF only, never for a file above
    for name, digest in sorted(expected.items()):
        if name not in digests:
            problems.append((name, "missing"))
        elif digests[name] != digest:
            problems.append((name, "changed"))
    for name in sorted(set(digests) - set(expected) - KNOWN_EXTRA):
        if name != pdf_name:  # counted as seal.json's problem above
            problems.append((name, "not in the manifest"))
    intact = pdf_name is not None and pdf_name in expected and digests.get(pdf_name) == expected[pdf_name]
    if intact and _embedded_manifest(read(str(pdf_name))) != read(MANIFEST):  # what the sealed PDF says it was
        problems.append((MANIFEST, f"not the one {pdf_name} embeds"))
    return len(expected), problems


def _embedded_manifest(pdf: bytes) -> bytes | None:
    import io

    from .pdffiles import embedded_files

    with contextlib.suppress(SnapshotError):
        return embedded_files(io.BytesIO(pdf)).get(MANIFEST)
    return None


def _seal(text: bytes | None) -> dict[str, str] | None:
    """seal.json's file hashes, or None if it is missing or damaged."""
    if text is None:
        return None
    try:
        files = json.loads(text).get("files")
    except (json.JSONDecodeError, UnicodeDecodeError, AttributeError):
        return None
    ok = isinstance(files, dict) and all(isinstance(v, str) for v in files.values())
    return files if ok else None


def archive(folder: Path, target: Path | None = None, *, overwrite: bool = False) -> Path:
    """Zip a verified run folder (files under ``<run>/``, fixed timestamps) into ``target`` (default
    ``<folder>.zip``). Refuses a folder that fails verification and never overwrites unless asked."""
    _, problems = verify(folder)
    if problems:
        raise SnapshotError(f"{folder} does not match its manifest ({_describe(problems)})",
                            hint="Archive only untouched runs; 'reportgen verify' shows the details.")
    target = target or folder.with_name(folder.name + ".zip")
    if target.exists() and not overwrite:
        raise OutputError(f"{target} already exists", hint="Choose another name with -o, or pass --force.")
    manifest = read_manifest(folder)
    stamp = _zip_time(str(manifest.get("started", "")))
    temp = target.with_name(f".{target.name}.tmp-{secrets.token_hex(4)}")
    try:
        with zipfile.ZipFile(temp, "w", compression=zipfile.ZIP_DEFLATED) as out:
            for name in relative_files(folder):
                info = zipfile.ZipInfo(f"{folder.name}/{name}", date_time=stamp)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                out.writestr(info, (folder / name).read_bytes())
        temp.replace(target)
    except OSError as exc:
        raise OutputError(f"cannot write {target}: {exc.strerror or exc}") from exc
    finally:
        if temp.exists():
            temp.unlink()
    return target


def _zip_time(iso: str) -> tuple[int, int, int, int, int, int]:
    try:
        moment = datetime.fromisoformat(iso)
        return (max(moment.year, 1980), moment.month, moment.day, moment.hour, moment.minute, moment.second)
    except ValueError:
        return (1980, 1, 1, 0, 0, 0)


def _describe(problems: list[tuple[str, str]]) -> str:
    return ", ".join(f"{name} {what}" for name, what in problems[:5]) + (
        f" and {len(problems) - 5} more" if len(problems) > 5 else "")


# ----------------------------------------------------------------------------- a run as a baseline
def load_baseline(folder: Path) -> BaselineModel:
    """The portable model of an earlier run (model.json), checked: a run whose files no longer match the sha256
    its manifest recorded (edited, or missing since) is refused, as what it says was not what that run said."""
    manifest = read_manifest(folder)
    check_is_run(folder)
    _, problems = verify(folder)
    altered = [(name, what) for name, what in problems if what != "not in the manifest"]
    if altered:
        raise SnapshotError(f"the run {manifest.get('run', folder.name)} was altered after it was made "
                            f"({_describe(altered)}): it cannot serve as a baseline",
                            hint="Use an untouched run (reportgen history lists them; reportgen verify checks one), "
                                 "or restore its files.")
    return baseline_from_dict(read_json(folder / "model.json"), folder=folder,
                              run=str(manifest.get("run", folder.name)), created=str(manifest.get("started", "")),
                              input_name=str(manifest.get("input", {}).get("name", "")))


def _transforms(values: Any) -> tuple[Transform, ...]:
    out: list[Transform] = []
    for value in values:
        if value not in ("", "log"):
            raise ValueError(f"unknown transform {value!r}")
        out.append(value)
    return tuple(out)


def _categories(data: Any) -> CategoricalEncoding | None:
    if data is None:
        return None
    return CategoricalEncoding(columns=tuple(str(c) for c in data["columns"]),
                               levels=tuple(tuple(str(v) for v in levels) for levels in data["levels"]),
                               gamma=float(data["gamma"]))


def baseline_from_dict(data: Any, *, folder: Path | None, run: str, created: str, input_name: str) -> BaselineModel:
    """A BaselineModel from the contents of a model.json (:func:`reportgen.archive.contents.model_json` writes it)."""
    try:
        scaler = data["scaler"]
        segments = data["segments"]
        return BaselineModel(
            folder=folder, run=run, created=created, input_name=input_name,
            features=tuple(data["features"]),
            scaler=Scaler(method=scaler["method"], center=tuple(float(v) for v in scaler["center"]),
                          scale=tuple(float(v) for v in scaler["scale"]),
                          transforms=_transforms(scaler.get("transforms", [])),
                          clip_low=tuple(None if v is None else float(v) for v in scaler.get("clip_low", [])),
                          clip_high=tuple(None if v is None else float(v) for v in scaler.get("clip_high", []))),
            numbers=tuple(int(s["segment"]) for s in segments),
            names={int(s["segment"]): str(s["name"]) for s in segments},
            centroids=np.array([s["centroid"] for s in segments], dtype=float),
            centroids_original=np.array([s["centroid_original"] for s in segments], dtype=float),
            sizes=tuple(int(s["size"]) for s in segments),
            feature_stats=data.get("feature_stats", {}),
            id_column=data.get("id_column"),
            rows=int(data.get("rows", 0)),
            highest=int(data.get("highest_segment", 0)),
            categories=_categories(data.get("categories")),
        )
    except (TypeError, KeyError, ValueError) as exc:
        raise SnapshotError(f"the model of {folder or run} (model.json) is missing or damaged: {exc!r}",
                            hint="Use another run as the baseline; 'reportgen verify' shows what is wrong.") from exc


def baseline_segments(baseline: BaselineModel) -> pd.DataFrame | None:
    """The baseline's segments.csv as (id, segment), IDs as text; None when it has no customer IDs."""
    if baseline.id_column is None or baseline.folder is None:
        return None
    path = baseline.folder / "segments.csv"
    try:
        frame = unescape_frame(pd.read_csv(path, dtype=str, keep_default_na=False))
    except (OSError, ValueError) as exc:
        raise SnapshotError(f"cannot read {path}: {exc}") from exc
    if baseline.id_column not in frame.columns or "segment" not in frame.columns:
        return None
    return frame[[baseline.id_column]].assign(segment=pd.to_numeric(frame["segment"], errors="coerce"))


def baseline_selection(baseline: BaselineModel) -> KSelection:
    """The k selection of a baseline run (its metrics.json), for a run that reuses its segments."""
    metrics: Any = read_json(baseline.folder / "metrics.json") if baseline.folder else None
    try:
        ks = metrics["k_selection"]
        candidates = tuple(
            KCandidate(k=int(c["k"]), inertia=_num(c["inertia"]),
                       scores={key: _num(value) for key, value in c.items() if key not in ("k", "inertia")})
            for c in ks["candidates"])
        k = len(baseline.numbers)
        return KSelection(
            candidates=candidates, elbow_k=ks.get("elbow_k"), silhouette_k=int(ks.get("silhouette_k", k)),
            chosen_k=k, method="baseline", n_init=int(ks.get("n_init", 10)),
            silhouette_sample_size=ks.get("silhouette_sample_size"),
            reason=(f"k = {k} and the segments come from the baseline run {baseline.run}: these customers were "
                    f"assigned to its segments (--assign-only), without re-clustering; the curves are the "
                    f"baseline's."))
    except (TypeError, KeyError, ValueError) as exc:
        raise SnapshotError(f"the metrics of the baseline run {baseline.run} (metrics.json) are missing or damaged",
                            hint="Use another run as the baseline.") from exc


def _num(value: Any) -> float:
    return float("nan") if value is None else float(value)
