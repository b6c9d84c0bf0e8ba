"""Rendering: the Jinja2 environment and its number filters, the HTML report, the PDF (WeasyPrint, imported
lazily). The report's structure is built in :mod:`reportgen.report.structure`, the e-mail's bodies in
:mod:`reportgen.delivery.mailer` (with this module's environment).

Lookup order for templates: a user folder (``--templates DIR``) first, then the packaged templates; the
``default:`` prefix always reaches the packaged one, so an override can extend it:
``{% extends "default:report.html" %}``. HTML templates are autoescaped; ``.txt`` templates (the plain-text e-mail
body) are not.
"""

from __future__ import annotations

import base64
import contextlib
import math
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from ..errors import ConfigError, OutputError
from ..model import Attached, Chart, ReportModel

# decimal mark and thousands separator of the number languages reportgen knows
SEPARATORS = {
    "en": (".", ","), "de": (",", "."), "fr": (",", "\u202f"), "es": (",", "."), "it": (",", "."),
    "nl": (",", "."), "ch": (".", "’"),
}


def packaged_templates() -> Path:
    """The templates shipped with reportgen (inside the installed package, or the source checkout's)."""
    here = Path(__file__).resolve().parents[1]  # the package: templates/ beside it in a checkout, in it installed
    for candidate in (here / "templates", here.parent / "templates"):
        if (candidate / "report.html").is_file():
            return candidate
    raise ConfigError(f"reportgen's packaged templates are missing (looked in {here / 'templates'})",
                      hint="Reinstall reportgen.")


def format_number(value: Any, digits: int = 1, locale: str = "en", *, grouping: bool = True) -> str:
    """``1234.5`` -> ``"1,234.5"`` (en) or ``"1.234,5"`` (de); missing or NaN -> ``"–"``."""
    if value is None:
        return "–"
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(number):
        return "–"
    if math.isinf(number):
        return "∞" if number > 0 else "−∞"
    text = f"{number:,.{digits}f}" if grouping else f"{number:.{digits}f}"
    if text.startswith("-") and float(text.replace(",", "")) == 0:
        text = text[1:]
    decimal, thousands = SEPARATORS.get(locale, SEPARATORS["en"])
    text = text.replace(",", "\0").replace(".", decimal).replace("\0", thousands)
    return text.replace("-", "−")


def css_string(text: str):
    """A quoted CSS string literal for any text (safe inside <style>: quotes, backslashes, < and newlines escaped)."""
    from markupsafe import Markup

    plain = " .,:;!?()[]{}@#%&*+=_-/·'"
    escaped = "".join(ch if ch.isalnum() or ch in plain else f"\\{ord(ch):x} " for ch in str(text))
    return Markup(f'"{escaped}"')


def make_filters(locale: str) -> dict[str, Callable[..., str]]:
    def num(value: Any, digits: int = 1) -> str:
        return format_number(value, digits, locale)

    def count(value: Any) -> str:
        return format_number(value, 0, locale)

    def pct(value: Any, digits: int = 0) -> str:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "–"
        return format_number(float(value) * 100, digits, locale) + "%"

    def signed(value: Any, digits: int = 1) -> str:
        text = format_number(value, digits, locale)
        return text if text.startswith(("−", "–")) or float(value) == 0 else "+" + text

    def datauri(chart: Chart | bytes, mime: str = "image/png") -> str:
        data = chart.png if isinstance(chart, Chart) else chart
        return f"data:{mime};base64," + base64.b64encode(data).decode("ascii")

    def date(value: datetime, fmt: str = "%Y-%m-%d %H:%M") -> str:
        return value.strftime(fmt)

    def short(text: str, length: int = 12) -> str:
        return str(text)[:length]

    def amount(value: Any, column: str, wording: Any = None) -> str:
        """A value in its column's unit, as the personas write it: ``87 k$``, ``82/100``, ``€1,200`` (``wording``:
        the run's :class:`~reportgen.model.Wording`, for the currency of money columns)."""
        from ..describe.wording import format_value

        text = format_value(float(value), column, wording) if value is not None else "–"
        decimal, thousands = SEPARATORS.get(locale, SEPARATORS["en"])
        return text.replace(",", "\0").replace(".", decimal).replace("\0", thousands)

    def breakable(text: str) -> str:
        """A column name that may wrap after ``_`` (``days_since_last_order`` in a narrow table header)."""
        return str(text).replace("_", "_\u200b")

    return {"num": num, "count": count, "pct": pct, "signed": signed, "datauri": datauri, "date": date,
            "short": short, "css_string": css_string, "amount": amount, "breakable": breakable}


def make_environment(templates: Path | None = None, *, locale: str = "en"):
    """A fresh Jinja2 environment (never a module global): autoescape on, StrictUndefined, reportgen's filters."""
    from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PrefixLoader, StrictUndefined, select_autoescape

    default = packaged_templates()
    search = [str(default)]
    if templates is not None:
        if not templates.is_dir():
            raise ConfigError(f"template folder not found: {templates}",
                              hint="Pass an existing folder with --templates, or leave it out.")
        search.insert(0, str(templates))
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(search),
                             PrefixLoader({"default": FileSystemLoader(str(default))}, delimiter=":")]),
        autoescape=select_autoescape(disabled_extensions=("txt",), default_for_string=True, default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(make_filters(locale))
    return env


def check_templates(templates: Path | None, *, locale: str = "en") -> None:
    """Parse every template of a user folder now, so a syntax error stops the run before the heavy work."""
    from jinja2 import TemplateSyntaxError

    env = make_environment(templates, locale=locale)
    if templates is None:
        return
    for path in sorted([*templates.glob("*.html"), *templates.glob("*.txt")]):
        try:
            env.get_template(path.name)
        except TemplateSyntaxError as exc:
            raise ConfigError(f"template {exc.filename or path} line {exc.lineno}: {exc.message}",
                              hint="Fix the template syntax.") from exc


def render_html(model: ReportModel, *, templates: Path | None = None, template: str = "report.html") -> str:
    """The self-contained HTML report. Template errors become :class:`ConfigError` naming the template."""
    return render(template, templates=templates, locale=model.locale, report=model, r=model)


def render(template: str, *, templates: Path | None = None, locale: str = "en", **context: Any) -> str:
    """One template with ``context``. Template errors become :class:`ConfigError` naming the template."""
    from jinja2 import TemplateError, TemplateNotFound, TemplateSyntaxError, UndefinedError

    env = make_environment(templates, locale=locale)
    try:
        return env.get_template(template).render(**context)
    except TemplateNotFound as exc:
        raise ConfigError(f"template not found: {exc.name}",
                          hint="Check the names in your template folder and its {% include %}s.") from exc
    except TemplateSyntaxError as exc:
        raise ConfigError(f"template {exc.filename or exc.name} line {exc.lineno}: {exc.message}",
                          hint="Fix the template syntax.") from exc
    except UndefinedError as exc:
        raise ConfigError(f"a template uses an undefined variable: {exc.message}",
                          hint="See 'Template variables' in the README for what templates can read.") from exc
    except TemplateError as exc:
        raise ConfigError(f"the report template failed: {exc}") from exc


def _data_only_fetcher():
    """A WeasyPrint URL fetcher that refuses everything but ``data:`` URLs: the report never fetches anything."""
    try:
        from weasyprint.urls import URLFetcher  # WeasyPrint >= 66
    except ImportError:  # older WeasyPrint: a function
        from weasyprint.urls import default_url_fetcher

        def fetch(url: str, *args: Any, **kwargs: Any):
            if not url.startswith("data:"):
                raise ValueError(f"reportgen does not fetch external resources ({url[:60]})")
            return default_url_fetcher(url, *args, **kwargs)

        return fetch
    return URLFetcher(allowed_protocols={"data"})


def _weasyprint_html():
    import logging

    try:
        from weasyprint import HTML
    except (ImportError, OSError) as exc:  # OSError: the Pango system libraries are missing
        raise OutputError(f"cannot make the PDF: WeasyPrint is not usable here ({exc})",
                          hint="Install Pango (apt-get install libpango-1.0-0 libpangoft2-1.0-0) "
                               "or use --format html.") from exc
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    return HTML


def prepare_pdf() -> None:
    """Import WeasyPrint and load its fonts (half a second) ahead of :func:`write_pdf`, e.g. while charts are
    drawn elsewhere. A problem is left for ``write_pdf`` to report."""
    with contextlib.suppress(Exception):
        _weasyprint_html()(string="<p>warm-up</p>").write_pdf()


PDF_VARIANT = "pdf/a-3b"  # archival PDF (ISO 19005-3): fonts embedded, an sRGB output intent, files may be embedded


def write_pdf(html: str, *, attachments: Sequence[Attached] = (), when: datetime | None = None) -> bytes:
    """Render the HTML report to PDF bytes with WeasyPrint: PDF/A-3b, tagged (a structure tree of headings,
    paragraphs, tables and figures, with the document's language and title), which WeasyPrint does for 10% more
    time (0.3 s on a 21-page report). ``attachments`` are embedded as associated files (listed in the
    catalogue's /AF with their relationship), dated ``when`` (the run's start: the same run gives the same
    PDF)."""
    HTML = _weasyprint_html()
    from weasyprint import Attachment

    dated = {} if when is None else {"created": when, "modified": when}
    files = [Attachment(string=a.data, name=a.name, description=a.description, relationship=a.relationship,
                        **dated) for a in attachments]
    return HTML(string=html, url_fetcher=_data_only_fetcher()).write_pdf(pdf_variant=PDF_VARIANT, pdf_tags=True,
                                                                       attachments=files)


def logo_data_uri(path: Path | None) -> str | None:
    if path is None:
        return None
    mime = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".svg": "image/svg+xml",
            ".gif": "image/gif", ".webp": "image/webp"}.get(path.suffix.lower())
    if mime is None:
        raise ConfigError(f"logo {path} is not a PNG, JPEG, SVG, GIF or WebP file",
                          hint="Pass an image file with --logo.")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read the logo {path}: {exc.strerror or exc}",
                          hint="Check the --logo path.") from exc
    return f"data:{mime};base64," + base64.b64encode(data).decode("ascii")
