"""report.pdf as the snapshot: the run folder's files it embeds (PDF/A-3 associated files, written by
:func:`reportgen.report.render.write_pdf`), checked against the manifest it embeds, and written out again.

The PDF is read with pikepdf (qpdf), imported when needed. A file's name comes from the PDF, which may come from
anyone: only plain names (letters, digits, ``.``, ``_``, ``-``) are ever written out.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from ..errors import OutputError, SnapshotError
from .files import sha256_bytes
from .manifest import MANIFEST

CLASH = "the same name as"
_PLAIN_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}")


@dataclass(frozen=True)
class PdfCheck:
    """What :func:`verify_pdf` found: the embedded manifest, the files checked against it, the problems as
    ``(file, "changed" | "missing" | "not in the manifest" | "not a plain file name")``, and the manifest's files
    that the PDF leaves out by design (segments.csv of a large run)."""

    manifest: dict[str, Any]
    files: dict[str, bytes]  # every embedded file, the manifest too
    checked: tuple[str, ...]
    problems: tuple[tuple[str, str], ...]
    left_out: tuple[str, ...]

    @property
    def run(self) -> str:
        return str(self.manifest.get("run", "?"))


def shown(name: str) -> str:
    """A file name from a PDF as it may be printed: control characters escaped, at most 80 characters."""
    text = name.encode("unicode_escape").decode("ascii") if not name.isprintable() else name
    return text if len(text) <= 80 else text[:77] + "..."


def embedded_files(path: Path | BinaryIO) -> dict[str, bytes]:
    """Every file embedded in the PDF at ``path`` (or in a binary stream), by its name in the PDF's attachments."""
    import pikepdf

    try:
        with pikepdf.open(path) as pdf:
            return {str(name): _contents(spec.get_file().obj, str(name), path)
                    for name, spec in pdf.attachments.items()}
    except FileNotFoundError:
        raise SnapshotError(f"no file {path}", hint="Pass the path of a report.pdf made by 'reportgen run'.") from None
    except OSError as exc:
        raise SnapshotError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except pikepdf.PdfError as exc:
        raise SnapshotError(f"{path} is not a readable PDF ({str(exc).splitlines()[0][:120]})",
                            hint="Pass a report.pdf made by 'reportgen run'.") from exc


MAX_EMBEDDED_BYTES = 1 << 30  # a file embedded by reportgen is a few megabytes: a larger one is refused, unread


def _contents(stream: Any, name: str, path: Path | BinaryIO) -> bytes:
    """An embedded file's bytes, inflated at most up to :data:`MAX_EMBEDDED_BYTES` (a small stream can inflate
    to gigabytes: a zip bomb). Only what reportgen writes is read: a stream stored as is, or Flate-compressed."""
    import zlib

    import pikepdf

    filters = stream.get("/Filter")
    names = [] if filters is None else [str(f) for f in filters] if isinstance(filters, pikepdf.Array) \
        else [str(filters)]
    if names not in ([], ["/FlateDecode"]) or "/DecodeParms" in stream:
        raise SnapshotError(f"the embedded file {shown(name)} in {path} is encoded in a way reportgen never writes "
                            f"({' '.join(names) or 'parameters'})", hint="This PDF was not made by reportgen.")
    raw = bytes(stream.read_raw_bytes())
    try:
        data = zlib.decompressobj().decompress(raw, MAX_EMBEDDED_BYTES + 1) if names else raw
    except zlib.error as exc:
        raise SnapshotError(f"the embedded file {shown(name)} in {path} is damaged ({exc})") from exc
    if len(data) > MAX_EMBEDDED_BYTES:
        raise SnapshotError(f"the embedded file {shown(name)} in {path} is larger than "
                            f"{MAX_EMBEDDED_BYTES >> 20:,} MiB, which reportgen never embeds",
                            hint="This PDF was not made by reportgen.")
    return data


def verify_pdf(path: Path) -> PdfCheck:
    """Check the files a report.pdf embeds against the sha256 in the manifest it embeds, without its run folder."""
    files = embedded_files(path)
    if MANIFEST not in files:
        raise SnapshotError(f"{path} embeds no {MANIFEST}, so there is nothing to check it against",
                            hint="A report.pdf from before manifest schema 2 does not carry its data; "
                                 "verify its run folder instead.")
    try:
        manifest = json.loads(files[MANIFEST])
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SnapshotError(f"the {MANIFEST} embedded in {path} cannot be read: {exc}") from exc
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
        raise SnapshotError(f"the {MANIFEST} embedded in {path} is not a reportgen manifest")
    hashes: dict[str, Any] = manifest["files"]
    entry = manifest.get("pdf")
    embedded = entry.get("embedded") if isinstance(entry, dict) else None
    listed = [str(n) for n in embedded if n != MANIFEST] if isinstance(embedded, list) else []
    problems: list[tuple[str, str]] = []
    checked = []
    folded: dict[str, str] = {}  # on a case-insensitive file system two names may be one file: the manifest's wins
    for name in sorted(files, key=lambda n: (n not in hashes and n != MANIFEST, n)):
        folded.setdefault(name.casefold(), name)
    for name, data in sorted(files.items()):
        if name == MANIFEST:
            continue
        if not _PLAIN_NAME.fullmatch(name):
            problems.append((shown(name), "not a plain file name"))
        elif folded[name.casefold()] != name:
            problems.append((name, f"{CLASH} {folded[name.casefold()]} but for its case"))
        elif name not in hashes:
            problems.append((name, "not in the manifest"))
        else:
            checked.append(name)
            if sha256_bytes(data) != hashes[name]:
                problems.append((name, "changed"))
    problems += [(name, "missing") for name in listed if name not in files]
    left_out = tuple(name for name in ("segments.csv",) if name in hashes and name not in files and name not in listed)
    return PdfCheck(manifest=manifest, files=files, checked=tuple(checked), problems=tuple(problems),
                    left_out=left_out)


def extract(path: Path, target: Path, *, unverified: bool = False) -> tuple[PdfCheck, tuple[str, ...]]:
    """Write the files a report.pdf embeds into the new folder ``target`` (or an empty one), after checking them
    (:func:`verify_pdf`; ``unverified`` writes them even if they do not match). The folder is filled under a
    temporary name and renamed, so a failure leaves nothing behind, and nothing is ever overwritten. Returns the
    check and the names written: never a name that is not plain, and of names that differ only by case the one in
    the manifest."""
    check = verify_pdf(path)
    written: list[str] = []
    if check.problems and not unverified:
        described = ", ".join(f"{name} {what}" for name, what in check.problems)
        raise SnapshotError(f"{path}: the embedded files do not match its manifest ({described})",
                            hint="Pass --unverified to write them out anyway.")
    target = target.resolve()  # "." is the current folder, which has a name
    if target.exists() and not (target.is_dir() and not any(target.iterdir())):
        raise OutputError(f"{target} already exists", hint="Choose a new folder; extract never overwrites.")
    temp = target.with_name(f".{target.name}.tmp-{secrets.token_hex(4)}")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        temp.mkdir()
        clashing = {name for name, what in check.problems if what.startswith(CLASH)}
        for name, data in check.files.items():
            if _PLAIN_NAME.fullmatch(name) and name not in clashing:  # no folder, not hidden
                (temp / name).write_bytes(data)
                written.append(name)
        if target.exists():
            target.rmdir()  # the empty folder that was given
        temp.rename(target)
    except OSError as exc:
        raise OutputError(f"cannot write {target}: {exc.strerror or exc}",
                          hint="Check the permissions and free space, or choose another folder.") from exc
    finally:
        if temp.exists():
            shutil.rmtree(temp, ignore_errors=True)
    return check, tuple(sorted(written))
