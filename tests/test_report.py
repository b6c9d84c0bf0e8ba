"""Templates render under StrictUndefined, overrides work, user data is escaped, the PDF has the content."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from reportgen import Settings
from reportgen.errors import ConfigError
from reportgen.pipeline import run
from reportgen.render import format_number, make_environment, packaged_templates, render_html

from .conftest import INCOME, SCORE, make_blobs_frame


@pytest.fixture(scope="module")
def mall_result(mall_csv: Path, tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    return run(mall_csv, Settings(features=(INCOME, SCORE), scale="none", output=out, name="mall"))


def pdf_text(path: Path) -> tuple[int, str]:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(path.read_bytes()))
    return len(reader.pages), "\n".join(page.extract_text() for page in reader.pages)


def test_pdf_has_the_pages_and_the_segment_names(mall_result) -> None:
    pages, text = pdf_text(mall_result.folder / "report.pdf")
    assert pages >= 5
    flat = " ".join(text.split())
    for segment in mall_result.model.segments:
        assert segment.name in flat
    assert "Choosing the number of segments" in flat


def test_html_is_self_contained(mall_result) -> None:
    html = (mall_result.folder / "report.html").read_text(encoding="utf-8")
    assert "http://" not in html and "https://" not in html
    assert html.count('src="data:image/png;base64,') >= 3
    assert "<script" not in html


def test_templates_render_under_strict_undefined(mall_result, tmp_path: Path) -> None:
    env = make_environment()
    assert env.undefined.__name__ == "StrictUndefined" and env.autoescape is True
    (tmp_path / "report.html").write_text("{{ r.no_such_field }}", encoding="utf-8")
    with pytest.raises(ConfigError, match="undefined variable"):
        render_html(mall_result.model, templates=tmp_path)


def test_override_template_is_used(mall_result, tmp_path: Path) -> None:
    (tmp_path / "report.html").write_text(
        '{% extends "default:report.html" %}{% block appendix %}<p>OVERRIDDEN APPENDIX for {{ r.title }}</p>'
        '{% endblock %}', encoding="utf-8")
    html = render_html(mall_result.model, templates=tmp_path)
    assert "OVERRIDDEN APPENDIX for Customer segmentation report" in html
    assert "Choosing the number of segments" in html  # the rest comes from the packaged template


def test_override_of_an_included_file(mall_result, tmp_path: Path) -> None:
    (tmp_path / "report.css").write_text("h1 { color: rebeccapurple; }", encoding="utf-8")
    html = render_html(mall_result.model, templates=tmp_path)
    assert "rebeccapurple" in html


def test_missing_template_folder() -> None:
    with pytest.raises(ConfigError, match="template folder not found"):
        make_environment(Path("/no/such/folder"))


def test_user_data_is_escaped(tmp_path: Path) -> None:
    frame = make_blobs_frame().rename(columns={"Region": "<script>alert(1)</script>"})
    data = frame.to_csv(index=False).encode()
    result = run(data, Settings(output=tmp_path, formats=("html",), title="Q1 <b>bold</b> & co"), source_name="x.csv")
    html = (result.folder / "report.html").read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Q1 &lt;b&gt;bold&lt;/b&gt; &amp; co" in html


def test_packaged_templates_exist() -> None:
    assert (packaged_templates() / "report.html").is_file()


@pytest.mark.parametrize("value, digits, locale, expected", [
    (1234.567, 1, "en", "1,234.6"), (1234.567, 1, "de", "1.234,6"), (-0.04, 1, "en", "0.0"),
    (-3.5, 1, "en", "−3.5"), (float("nan"), 1, "en", "–"), (None, 1, "en", "–"), (1e6, 0, "ch", "1’000’000"),
])
def test_format_number(value, digits, locale, expected) -> None:
    assert format_number(value, digits, locale) == expected
