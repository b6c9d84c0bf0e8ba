"""Templates render under StrictUndefined, overrides work, user data is escaped, the PDF has the content."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from reportgen import Settings
from reportgen.errors import ConfigError
from reportgen.pipeline import run
from reportgen.report.render import format_number, make_environment, packaged_templates, render_html

from .conftest import INCOME, SCORE, make_blobs_frame


@pytest.fixture(scope="module")
def mall_result(mall_csv: Path, tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    return run(mall_csv, Settings(features=(INCOME, SCORE), scale="none", output=out, name="mall"))


def pdf_pages(path: Path) -> list[str]:
    """The text of every page, whitespace collapsed."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(path.read_bytes()))
    return [" ".join(page.extract_text().split()) for page in reader.pages]


@pytest.mark.slow
def test_pdf_structure_on_the_mall_data(mall_result) -> None:
    import pandas as pd

    pages = pdf_pages(mall_result.folder / "report.pdf")
    assert len(pages) >= 8
    cover, summary = pages[0], pages[1]
    assert "Customer segmentation report" in cover and "Mall_Customers.csv" in cover and "Contents" in cover
    assert summary.startswith("Executive summary")
    names = pd.read_csv(mall_result.folder / "segments.csv").groupby("segment")["segment_name"].first()
    assert names.is_unique and len(names) == 5
    text = " ".join(pages)
    for name in names:
        assert name in summary, name  # every segment is named on the executive summary page
        assert f"Segment {names[names == name].index[0]}: {name}" in text  # and has its own page
    for heading in ("The data", "Data quality account", "Exploration", "Choosing the number of segments",
                    "The segments", "Recommendations", "Key numbers", "Methodology"):
        assert heading in text, heading
    assert "Page 2 of" in summary  # footer page numbers
    assert "Clear" in summary  # the verdict in plain words


@pytest.mark.slow
def test_every_segment_page_starts_a_page(mall_result) -> None:
    pages = pdf_pages(mall_result.folder / "report.pdf")
    for segment in mall_result.model.segments:
        starts = [p for p in pages if p.startswith(f"Segment {segment.number}: {segment.name}")]
        assert len(starts) == 1, segment.name
        assert "below average" in starts[0] and "above average" in starts[0]  # the difference bars


@pytest.mark.slow
def test_difference_bars_follow_the_profile(mall_result) -> None:
    import re

    html = (mall_result.folder / "report.html").read_text(encoding="utf-8")
    section = html.split('id="segment-2"', 1)[1].split("</section>", 1)[0]  # high income, high spending
    bars = re.findall(r'class="bar" style="margin-left: ([\d.]+)%; width: ([\d.]+)%', section)
    assert len(bars) == 3  # income, spending score, age
    assert all(float(left) == 50 for left, _ in bars[:2])  # above average: bars start at the centre
    assert float(bars[2][0]) < 50  # age below average: the bar ends at the centre
    assert "87 k$ <span class=\"muted\">(mean; all 61 k$)" in section


@pytest.mark.slow
def test_all_charts_are_in_the_report_and_the_folder(mall_result) -> None:
    import re

    from pypdf import PdfReader

    charts = mall_result.model.charts
    expected = {"distributions", "categories", "by_category", "pairs", "correlation", "elbow", "silhouette_k",
                "segments_scatter", "silhouette_plot", "profile_heatmap", "segment_mix", "sizes"}
    assert set(charts) == expected
    assert {p.stem for p in (mall_result.folder / "charts").iterdir()} == expected
    html = (mall_result.folder / "report.html").read_text(encoding="utf-8")
    for chart in charts.values():
        assert render_datauri(chart) in html, chart.name
    reader = PdfReader(io.BytesIO((mall_result.folder / "report.pdf").read_bytes()))
    drawn = set()
    for page in reader.pages:  # the image XObjects each page's content stream draws ("/name Do")
        xobjects = page["/Resources"]["/XObject"]
        for name in re.findall(rb"/([^\s/]+) Do", page.get_contents().get_data()):
            if xobjects["/" + name.decode()]["/Subtype"] == "/Image":
                drawn.add(xobjects["/" + name.decode()].indirect_reference.idnum)
    assert len(drawn) == len(expected)


def render_datauri(chart) -> str:
    import base64

    return "data:image/png;base64," + base64.b64encode(chart.png).decode()


@pytest.mark.slow
def test_charts_are_sharp_enough_for_print(mall_result) -> None:
    import struct

    for chart in mall_result.model.charts.values():
        width_px = struct.unpack(">I", chart.png[16:20])[0]
        assert width_px / (chart.width_mm / 25.4) >= 150, chart.name  # at least 150 dpi at the printed width


@pytest.mark.slow
def test_three_features_add_a_3d_view(mall_csv: Path, tmp_path: Path) -> None:
    result = run(mall_csv, Settings(output=tmp_path, formats=("html",)), write=False)
    assert "segments_3d" in result.model.charts
    assert "PCA projection" in result.model.charts["segments_scatter"].alt


@pytest.mark.slow
def test_html_is_self_contained(mall_result) -> None:
    import re

    html = (mall_result.folder / "report.html").read_text(encoding="utf-8")
    assert "http://" not in html and "https://" not in html
    sources = re.findall(r'(?:src|href)="([^"#][^"]*)"', html)
    assert sources and all(s.startswith("data:") for s in sources)
    assert "<link" not in html and "<script" not in html and "@import" not in html
    assert '<meta name="viewport"' in html and "@media screen and (max-width: 700px)" in html


def _chromium() -> str | None:
    import shutil

    return next(filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None)


@pytest.mark.slow
def test_html_loads_in_headless_chromium_without_console_errors(mall_result, tmp_path: Path) -> None:
    import subprocess

    browser = _chromium()
    if browser is None:
        pytest.skip("no Chromium on this machine (apt-get install chromium)")
    page = mall_result.folder / "report.html"
    done = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}",
         "--enable-logging=stderr", "--v=1", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Executive summary" in done.stdout  # the page was loaded and parsed
    log = done.stderr.splitlines()
    assert not [line for line in log if ":CONSOLE" in line]
    loads = [line.split("Start: ", 1)[1] for line in log if "URLLoader::Start: " in line]
    assert all(url == page.as_uri() for url in loads), loads  # nothing fetched but the report itself


def _axe_core() -> Path | None:
    """axe-core's axe.min.js: AXE_CORE_JS (CI installs the npm package and sets it), or a local npm install."""
    import os

    for candidate in (os.environ.get("AXE_CORE_JS"), "node_modules/axe-core/axe.min.js",
                      ".ci/axe/node_modules/axe-core/axe.min.js"):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


AXE_RUN = """<script>%s</script><script>
axe.run(document, {resultTypes: ["violations"]}).then(function (result) {
  var out = document.createElement("pre");
  out.id = "axe-results";
  out.textContent = JSON.stringify(result.violations.map(function (v) {
    return {id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map(function (n) {
      return n.target.join(" "); })}; }));
  document.body.appendChild(out);
});
</script>"""


def axe_violations(report: str, tmp_path: Path) -> list[dict]:
    """What axe-core (the npm package) finds in the HTML ``report`` in headless Chromium: skipped without Chromium
    or axe-core, and a failure then under CI=true."""
    import html
    import json
    import os
    import re
    import subprocess

    browser, axe = _chromium(), _axe_core()
    if browser is None or axe is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true but the axe-core test cannot run: "
                        + ("no Chromium" if browser is None else "no axe-core (npm install axe-core; AXE_CORE_JS)"))
        pytest.skip("needs Chromium and axe-core (npm install axe-core, or set AXE_CORE_JS)")
    page = tmp_path / "report-axe.html"
    page.write_text(report.replace("</body>", AXE_RUN % axe.read_text(encoding="utf-8") + "</body>"),
                    encoding="utf-8")
    done = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}",
         "--virtual-time-budget=30000", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    found = re.search(r'<pre id="axe-results">(.*?)</pre>', done.stdout, re.S)
    assert found, "axe-core did not report: " + done.stdout[-500:]
    return json.loads(html.unescape(found.group(1)))


def test_html_passes_axe_core_in_headless_chromium(mall_result, tmp_path: Path) -> None:
    """Issue 17: axe-core (the npm package), run on the report in headless Chromium, finds no serious or critical
    violation (contrast, alt text, table headers, names...) and, since the report has a main landmark, no moderate
    one either."""
    violations = axe_violations((mall_result.folder / "report.html").read_text(encoding="utf-8"), tmp_path)
    assert not [v for v in violations if v["impact"] in ("serious", "critical")], violations
    assert not violations, violations


@pytest.mark.slow
def test_templates_render_under_strict_undefined(mall_result, tmp_path: Path) -> None:
    env = make_environment()
    assert env.undefined.__name__ == "StrictUndefined"
    assert env.autoescape("report.html") is True and env.autoescape("email.txt") is False
    (tmp_path / "report.html").write_text("{{ r.no_such_field }}", encoding="utf-8")
    with pytest.raises(ConfigError, match="undefined variable"):
        render_html(mall_result.model, templates=tmp_path)


@pytest.mark.slow
def test_override_template_is_used(mall_result, tmp_path: Path) -> None:
    (tmp_path / "report.html").write_text(
        '{% extends "default:report.html" %}{% block appendix %}<p>OVERRIDDEN APPENDIX for {{ r.title }}</p>'
        '{% endblock %}', encoding="utf-8")
    html = render_html(mall_result.model, templates=tmp_path)
    assert "OVERRIDDEN APPENDIX for Customer segmentation report" in html
    assert "Choosing the number of segments" in html  # the rest comes from the packaged template


@pytest.mark.slow
def test_override_of_an_included_file(mall_result, tmp_path: Path) -> None:
    (tmp_path / "report.css").write_text("h1 { color: rebeccapurple; }", encoding="utf-8")
    html = render_html(mall_result.model, templates=tmp_path)
    assert "rebeccapurple" in html


def test_missing_template_folder() -> None:
    with pytest.raises(ConfigError, match="template folder not found"):
        make_environment(Path("/no/such/folder"))


@pytest.mark.slow
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


@pytest.mark.slow
def test_branding_paper_and_locale(mall_csv: Path, tmp_path: Path) -> None:
    import base64

    from pypdf import PdfReader

    logo = tmp_path / "logo.png"
    logo.write_bytes(_tiny_png())
    settings = Settings(features=(INCOME, SCORE), output=tmp_path, title="Kundensegmente", organisation="Muster AG",
                        logo=logo, accent="#7a1f5c", paper="letter", locale="de")
    result = run(mall_csv, settings)
    html = (result.folder / "report.html").read_text(encoding="utf-8")
    assert "--accent: #7a1f5c" in html and "Muster AG" in html
    assert f'class="logo" src="data:image/png;base64,{base64.b64encode(_tiny_png()).decode()}"' in html
    assert "60,6" in html  # German decimal comma in the tables
    reader = PdfReader(io.BytesIO((result.folder / "report.pdf").read_bytes()))
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (612, 792)  # US letter
    assert "Kundensegmente" in pdf_pages(result.folder / "report.pdf")[0]


def _tiny_png() -> bytes:
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"\x00\xff\x00\x00"
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


@pytest.mark.slow
def test_a4_is_the_default(mall_result) -> None:
    from pypdf import PdfReader

    box = PdfReader(io.BytesIO((mall_result.folder / "report.pdf").read_bytes())).pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)


@pytest.mark.slow
def test_title_with_quotes_is_safe_in_the_footer(mall_result, tmp_path: Path) -> None:
    from dataclasses import replace

    model = replace(mall_result.model, title='Q1 "final" </style><b>x</b> \\ report')
    html = render_html(model)
    style = html.split("<style>", 1)[1].split("</style>", 1)[0]
    assert "</style" not in style and "<b>" not in style
    assert "Q1 &#34;final&#34;" in html or "Q1 &quot;final&quot;" in html


@pytest.mark.slow
def test_charts_are_opaque_rgb_pngs(mall_result) -> None:
    from PIL import Image

    for chart in mall_result.model.charts.values():
        image = Image.open(io.BytesIO(chart.png))
        assert image.format == "PNG" and image.mode == "RGB", chart.name  # no alpha mask for the PDF to split


def _stability(*values: float):
    from reportgen.model import Stability

    segments = dict(enumerate(values, start=1))
    return Stability("bootstrap", 50, None, segments, dict.fromkeys(segments, 0), dict.fromkeys(segments, 50))


@pytest.mark.parametrize(("silhouette", "kwargs", "word", "reason"), [
    (0.6, {}, "clear", None),
    (0.3, {}, "moderate", None),
    (0.1, {}, "weak", None),
    (0.6, {"gap_k": 1, "gap_rise": 5.2}, "clear", None),  # the Mall data: k = 1, but a clear rise at k = 5
    (0.6, {"gap_k": 1, "gap_rise": -10.0}, "weak", "no more grouped than random data"),  # uniform on one axis
    (0.4, {"gap_k": 1, "gap_rise": 2.3}, "weak", "no more grouped than random data"),
    (0.6, {"gap_k": 4, "gap_rise": 1.0}, "clear", None),
    (0.6, {"stability": _stability(0.95, 0.7)}, "moderate", "segment 2 does not reproduce reliably"),
    (0.6, {"stability": _stability(0.5, 0.55)}, "weak", "mean stability 0.53"),
    (0.6, {"stability": _stability(0.9, 0.86)}, "clear", None),
    (0.6, {"smallest": (3, 0.03), "extreme": 30}, "moderate", "segment 3 holds only 3.0% of the customers; 30"),
    (0.9, {"smallest": (2, 0.002)}, "weak", "segment 2 holds only 0.2% of the customers"),  # one customer apart
])
def test_verdict_uses_gap_stability_and_small_segments(silhouette, kwargs, word, reason) -> None:
    from reportgen.report.structure import verdict_of

    got, text, reasons = verdict_of(silhouette, **kwargs)
    assert got == word and text.lower().startswith(word)
    assert (reason is None and reasons == ()) or any(reason in r for r in reasons)


def test_the_pdf_is_pdf_a_3b_and_tagged(mall_result) -> None:
    """Issue 17 (first part): report.pdf declares PDF/A-3b in its XMP metadata, with an sRGB output intent, and is
    tagged: a structure tree with headings, tables with header cells and figures with their alt text, the
    document's language and title."""
    import pikepdf

    with pikepdf.open(mall_result.folder / "report.pdf") as pdf:
        with pdf.open_metadata() as meta:
            assert (meta.get("pdfaid:part"), meta.get("pdfaid:conformance")) == ("3", "B")
            assert meta.get("dc:title") == "Customer segmentation report"
        assert str(pdf.Root.Lang) == "en"
        assert bool(pdf.Root.MarkInfo.Marked) and "/OutputIntents" in pdf.Root
        images = [o for o in pdf.objects if isinstance(o, pikepdf.Stream) and o.get("/Subtype") == "/Image"]
        assert len(images) >= 10 and not [o for o in images if o.get("/Interpolate", False)]  # ISO 19005-2, 6.2.8
        assert len(pdf.trailer.ID) == 2  # a file identifier
        tags: dict[str, int] = {}
        alts: list[str] = []

        def walk(node: pikepdf.Object) -> None:
            if isinstance(node, pikepdf.Array):
                for child in node:
                    walk(child)
            elif isinstance(node, pikepdf.Dictionary) and "/S" in node:
                tags[str(node.S)] = tags.get(str(node.S), 0) + 1
                if str(node.S) == "/Figure":
                    alts.append(str(node.get("/Alt", "")))
                if "/K" in node:
                    walk(node.K)

        walk(pdf.Root.StructTreeRoot.K)
    assert tags.get("/H1") == 1 and tags.get("/H2", 0) >= 5 and tags.get("/Caption", 0) >= 5
    assert tags.get("/Table", 0) >= 5 and tags.get("/TH", 0) >= 20 and tags.get("/TD", 0) >= 100
    assert len(alts) >= 10 and all(alts), alts  # every chart with its alt text
    assert any(alt.startswith("Line chart of inertia against k") for alt in alts)
