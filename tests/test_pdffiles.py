"""Issue 17: report.pdf is the snapshot. It embeds the data files and the manifest as PDF/A-3 associated files;
'reportgen verify report.pdf' checks them without the run folder and 'reportgen extract' writes them out."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from reportgen import Settings, run
from reportgen.archive.manifest import EMBEDDINGS, MANIFEST, SEAL

INCOME, SCORE = "Annual Income (k$)", "Spending Score (1-100)"


@pytest.fixture(scope="module")
def mall_folder(mall_csv: Path, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("pdf")
    result = run(mall_csv, Settings(features=(INCOME, SCORE), scale="none", output=out, name="mall",
                                    stability_resamples=0))
    assert result.folder is not None
    return result.folder


@pytest.fixture
def pdf_copy(mall_folder: Path, tmp_path: Path) -> Path:
    """report.pdf alone, copied out of its run folder."""
    target = tmp_path / "alone" / "march.pdf"
    target.parent.mkdir()
    shutil.copyfile(mall_folder / "report.pdf", target)
    return target


def reembedded(pdf_path: Path, name: str, change, target: Path) -> Path:
    """A copy of the PDF with the embedded file ``name`` replaced by ``change(bytes)``, the manifest untouched."""
    import pikepdf

    with pikepdf.open(pdf_path) as pdf:
        old = pdf.attachments[name]
        data = change(bytes(old.get_file().read_bytes()))
        pdf.attachments[name] = pikepdf.AttachedFileSpec(pdf, data, mime_type=old.get_file().mime_type)
        pdf.save(target)
    return target


def test_the_pdf_embeds_the_data_files_equal_to_the_run_folders(mall_folder: Path) -> None:
    import pikepdf

    manifest = json.loads((mall_folder / MANIFEST).read_text())
    assert manifest["schema_version"] == 2 and "report.pdf" not in manifest["files"]
    assert manifest["pdf"] == {"file": "report.pdf", "sha256_in": SEAL,
                               "embedded": ["manifest.json", "segments.csv", "profiles.csv", "metrics.json",
                                            "summary.json", "model.json", "cleaning.csv", "rules.csv",
                                            "segments.sql"]}
    relationships = {e.name: f"/{e.relationship}" for e in EMBEDDINGS}
    with pikepdf.open(mall_folder / "report.pdf") as pdf:
        with pdf.open_metadata() as meta:
            assert (meta.get("pdfaid:part"), meta.get("pdfaid:conformance")) == ("3", "B")
        assert str(pdf.Root.Lang) == "en" and "/StructTreeRoot" in pdf.Root
        attached = dict(pdf.attachments.items())
        assert sorted(attached) == sorted(manifest["pdf"]["embedded"])
        for name, spec in attached.items():  # byte for byte the run folder's, the manifest too
            assert bytes(spec.get_file().read_bytes()) == (mall_folder / name).read_bytes(), name
            assert str(spec.obj.AFRelationship) == relationships[name]
            assert spec.description
        associated = {str(f.UF) for f in pdf.Root.AF}  # PDF/A-3: each one an associated file of the document
    assert associated == set(attached)
    assert attached["segments.csv"].get_file().mime_type == "text/csv"
    seal = json.loads((mall_folder / SEAL).read_text())
    assert seal["files"] == {"report.pdf": hashlib.sha256((mall_folder / "report.pdf").read_bytes()).hexdigest()}
    assert seal["timings"]["pdf"] > 0 and seal["run"] == manifest["run"]


def test_verify_passes_on_the_pdf_alone_and_fails_when_an_embedded_file_changes(pdf_copy: Path, tmp_path,
                                                                                 invoke) -> None:
    ok = invoke("verify", str(pdf_copy))
    assert ok.exit_code == 0, ok.output
    assert ok.stdout.startswith(f"OK: {pdf_copy}: all 8 embedded files match the embedded manifest of run ")

    def one_byte(data: bytes) -> bytes:
        changed = bytearray(data)
        changed[len(changed) // 2] ^= 0x01
        return bytes(changed)

    bad = invoke("verify", str(reembedded(pdf_copy, "segments.csv", one_byte, tmp_path / "bad.pdf")))
    assert bad.exit_code == 1
    assert bad.stderr.strip().splitlines() == [
        (f"Error: {tmp_path / 'bad.pdf'}: 1 file does not match the manifest it embeds: segments.csv (changed). "
        "The PDF was changed after reportgen wrote it; use the run folder's copy.")]
    # the manifest is not proof on its own: a changed file whose new hash were written in it would show as a
    # changed report.pdf in the run folder (seal.json), which verify checks there


def test_verify_names_an_embedded_file_that_is_gone_or_unknown(pdf_copy: Path, tmp_path, invoke) -> None:
    import pikepdf

    with pikepdf.open(pdf_copy) as pdf:
        del pdf.attachments["profiles.csv"]
        pdf.attachments["notes.txt"] = pikepdf.AttachedFileSpec(pdf, b"hello")
        pdf.attachments["../escape.csv"] = pikepdf.AttachedFileSpec(pdf, b"id\n")
        pdf.attachments["bell\x07.csv"] = pikepdf.AttachedFileSpec(pdf, b"id\n")
        pdf.attachments["Segments.csv"] = pikepdf.AttachedFileSpec(pdf, b"id\n")
        pdf.save(tmp_path / "odd.pdf")
    bad = invoke("verify", str(tmp_path / "odd.pdf"))
    assert bad.exit_code == 1
    assert ("5 files do not match the manifest it embeds: ../escape.csv (not a plain file name); Segments.csv (the "
            "same name as segments.csv but for its case); bell\\x07.csv (not a plain file name); notes.txt (not in "
            "the manifest); profiles.csv (missing)") in bad.stderr
    assert "\x07" not in bad.stderr
    written = invoke("extract", str(tmp_path / "odd.pdf"), str(tmp_path / "out"), "--unverified")
    assert written.exit_code == 0
    names = ["cleaning.csv", "manifest.json", "metrics.json", "model.json", "notes.txt", "rules.csv", "segments.csv",
             "segments.sql", "summary.json"]  # of two names that differ by case, the manifest's; no other name
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == names
    assert written.stdout.splitlines() == [str(tmp_path / "out" / name) for name in names]
    assert not (tmp_path / "escape.csv").exists()


def test_extract_into_the_current_empty_folder(pdf_copy: Path, tmp_path, monkeypatch, invoke) -> None:
    here = tmp_path / "empty"
    here.mkdir()
    monkeypatch.chdir(here)
    done = invoke("extract", str(pdf_copy), ".")
    assert done.exit_code == 0, done.output
    assert len(list(here.iterdir())) == 9 and (here / "segments.csv").is_file()


def test_extract_writes_the_embedded_files_and_never_overwrites(mall_folder: Path, pdf_copy: Path, tmp_path,
                                                              invoke) -> None:
    target = tmp_path / "march-data"
    done = invoke("extract", str(pdf_copy), str(target))
    assert done.exit_code == 0, done.output
    names = sorted(p.name for p in target.iterdir())
    assert done.stdout.splitlines() == [str(target / name) for name in names]
    assert "segments.csv" in names and "manifest.json" in names and len(names) == 9
    for name in names:
        assert (target / name).read_bytes() == (mall_folder / name).read_bytes()
    again = invoke("extract", str(pdf_copy), str(target))
    assert again.exit_code == 1
    assert again.stderr.strip() == f"Error: {target} already exists. Choose a new folder; extract never overwrites."

    tampered = reembedded(pdf_copy, "metrics.json", lambda d: d.replace(b'"k": 5', b'"k": 6'), tmp_path / "t.pdf")
    refused = invoke("extract", str(tampered), str(tmp_path / "refused"))
    assert refused.exit_code == 1 and "metrics.json changed" in refused.stderr and "--unverified" in refused.stderr
    assert not (tmp_path / "refused").exists() and not list(tmp_path.glob(".refused*"))


@pytest.mark.parametrize(("content", "message"), [
    (b"%PDF-1.7\nnot really\n", "is not a readable PDF"),
    (b"hello", "is not a readable PDF"),
])
def test_verify_and_extract_refuse_what_is_not_a_reportgen_pdf(tmp_path, invoke, content, message) -> None:
    path = tmp_path / "x.pdf"
    path.write_bytes(content)
    for args in (("verify", str(path)), ("extract", str(path), str(tmp_path / "out"))):
        got = invoke(*args)
        assert got.exit_code == 1 and len(got.stderr.strip().splitlines()) == 1 and message in got.stderr
    assert not (tmp_path / "out").exists()


def test_a_pdf_without_an_embedded_manifest_is_refused(tmp_path, invoke) -> None:
    from reportgen.report.render import write_pdf

    path = tmp_path / "plain.pdf"
    path.write_bytes(write_pdf("<html lang='en'><title>t</title><p>a page</p></html>"))
    got = invoke("verify", str(path))
    assert got.exit_code == 1
    assert got.stderr.startswith(f"Error: {path} embeds no manifest.json, so there is nothing to check it against.")


def test_verify_of_the_run_folder_checks_report_pdf_against_the_seal(mall_folder: Path, tmp_path, invoke) -> None:
    folder = tmp_path / mall_folder.name
    shutil.copytree(mall_folder, folder)
    assert invoke("verify", str(folder)).exit_code == 0
    (folder / SEAL).unlink()
    gone = invoke("verify", str(folder))
    assert gone.exit_code == 1 and "seal.json (missing)" in gone.stderr and "report.pdf" not in gone.stderr
    shutil.copyfile(mall_folder / SEAL, folder / SEAL)
    (folder / "report.pdf").write_bytes((folder / "report.pdf").read_bytes() + b"\n")
    edited = invoke("verify", str(folder))
    assert edited.exit_code == 1 and "report.pdf (changed)" in edited.stderr
    shutil.copyfile(mall_folder / "report.pdf", folder / "report.pdf")


def test_seal_json_vouches_for_the_pdf_only_and_the_manifest_must_be_the_embedded_one(mall_folder: Path, tmp_path,
                                                                                    invoke) -> None:
    """A review found that seal.json, hashed nowhere itself, could vouch for an edited segments.csv: it vouches
    for report.pdf alone. And the manifest must be the one the sealed PDF embeds, so that a file edited together
    with its hash in manifest.json is caught too."""
    folder = tmp_path / mall_folder.name
    shutil.copytree(mall_folder, folder)
    segments = (folder / "segments.csv").read_bytes().replace(b",1,", b",2,", 1)
    (folder / "segments.csv").write_bytes(segments)
    seal = json.loads((folder / SEAL).read_text())
    seal["files"]["segments.csv"] = hashlib.sha256(segments).hexdigest()
    (folder / SEAL).write_text(json.dumps(seal))
    forged = invoke("verify", str(folder))
    assert forged.exit_code == 1 and "segments.csv (changed)" in forged.stderr
    manifest = json.loads((folder / MANIFEST).read_text())
    manifest["files"]["segments.csv"] = seal["files"]["segments.csv"]
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    rewritten = invoke("verify", str(folder))
    assert rewritten.exit_code == 1
    assert rewritten.stderr.startswith(f"Error: {folder}: 1 file does not match the manifest: manifest.json (not the "
                                       "one report.pdf embeds)")


def test_a_large_run_leaves_segments_csv_out_of_the_pdf_and_says_so(mall_csv: Path, tmp_path, monkeypatch,
                                                                    invoke) -> None:
    from reportgen.archive import manifest

    monkeypatch.setattr(manifest, "EMBED_SEGMENTS_MAX", 199)  # the Mall table has 200 customers
    result = run(mall_csv, Settings(features=(INCOME, SCORE), scale="none", output=tmp_path, k=5,
                                    stability_resamples=0, formats=("html", "pdf")))
    assert result.folder is not None
    manifest = json.loads((result.folder / MANIFEST).read_text())
    assert "segments.csv" not in manifest["pdf"]["embedded"] and "segments.csv" in manifest["files"]
    ok = invoke("verify", str(result.folder / "report.pdf"))
    assert ok.exit_code == 0
    assert ("; segments.csv is not embedded (too many customers), its sha256 is in the manifest (the pages "
            "themselves are checked by seal.json in the run folder: reportgen verify RUN)") in ok.stdout
    html = " ".join((result.folder / "report.html").read_text().split())
    assert "segments.csv, with all 200 customers, is in the run folder only" in html


def test_a_strange_embedded_manifest_is_an_error_line_not_a_crash(pdf_copy: Path, tmp_path, invoke) -> None:
    odd = reembedded(pdf_copy, MANIFEST, lambda d: b'{"files": {}, "pdf": "x"}', tmp_path / "odd.pdf")
    got = invoke("verify", str(odd))
    assert got.exit_code == 1 and "internal error" not in got.stderr
    assert "8 files do not match the manifest it embeds: cleaning.csv (not in the manifest)" in got.stderr
    junk = reembedded(pdf_copy, MANIFEST, lambda d: b"[1, 2]", tmp_path / "junk.pdf")
    got = invoke("verify", str(junk))
    assert got.exit_code == 1 and f"the manifest.json embedded in {junk} is not a reportgen manifest" in got.stderr


def test_an_embedded_file_that_inflates_beyond_the_limit_is_refused_unread(pdf_copy: Path, tmp_path, monkeypatch,
                                                                            invoke) -> None:
    """A zip bomb: a small compressed stream that would inflate to gigabytes is inflated only up to the limit."""
    import pikepdf

    from reportgen.archive import pdffiles

    with pikepdf.open(pdf_copy) as pdf:
        pdf.attachments["big.csv"] = pikepdf.AttachedFileSpec(pdf, b"0" * 50_000)
        pdf.save(tmp_path / "big.pdf")
    monkeypatch.setattr(pdffiles, "MAX_EMBEDDED_BYTES", 20_000)  # above every real file of the Mall run
    got = invoke("verify", str(tmp_path / "big.pdf"))
    assert got.exit_code == 1
    assert got.stderr.startswith(f"Error: the embedded file big.csv in {tmp_path / 'big.pdf'} is larger than ")
