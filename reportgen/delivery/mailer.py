"""Email a run's report: build the message (pure), send it with smtplib, log each sending in the run folder.

SMTP settings come from the config file's ``[email]`` section, then the environment (``REPORTGEN_SMTP_HOST``,
``REPORTGEN_SMTP_PORT``, ``REPORTGEN_SMTP_USER``, ``REPORTGEN_SMTP_SECURITY``, ``REPORTGEN_MAIL_FROM``,
``REPORTGEN_SMTP_CA_FILE``), then flags. The password comes only from ``REPORTGEN_SMTP_PASSWORD`` or the file
named in ``REPORTGEN_SMTP_PASSWORD_FILE``: never from a flag or the config file, and it is never written to a
file, a log or a message.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import formataddr, getaddresses, make_msgid
from pathlib import Path
from typing import Any

from ..archive.runs import read_json, read_manifest
from ..errors import ConfigError, MailError
from ..settings import read_config

SECURITIES = ("starttls", "ssl", "none")
DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}
DELIVERIES = "deliveries.json"
_ADDRESS = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")


@dataclass(frozen=True)
class EmailSettings:
    host: str | None = None
    port: int | None = None
    user: str | None = None
    password: str | None = field(default=None, repr=False)  # never printed, never written
    security: str = "starttls"
    sender: str | None = None
    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    subject: str | None = None
    max_attachment_mb: float = 10.0
    timeout: float = 30.0
    ca_file: Path | None = None

    @property
    def resolved_port(self) -> int:
        return self.port or DEFAULT_PORTS[self.security]

    def public(self) -> dict[str, Any]:
        """The settings without the password, for logs and records."""
        return {"host": self.host, "port": self.resolved_port, "user": self.user, "security": self.security,
                "from": self.sender}


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def one_line(text: str) -> str:
    """A header value as one line: CR, LF and other control characters become single spaces, so that a title or
    run name (from flags, the config or a run's manifest) cannot add a header to the message."""
    return re.sub(r"\s+", " ", _CONTROL.sub(" ", text)).strip()


def _addresses(values: Any, where: str) -> tuple[str, ...]:
    """The addresses in ``values`` (a string with commas, or a list), each checked; an item with a line break or
    another control character is refused whole (``"a@x.com\\nBcc: b@y.com"`` would otherwise add a recipient)."""
    items = list(values) if isinstance(values, (list, tuple)) else [] if values is None else [values]
    found = []
    for item in items:
        if _CONTROL.search(str(item)):
            raise ConfigError(f"{str(item)!r} ({where}) contains a line break or another control character",
                              hint="Write each address on its own, like team@example.com, without line breaks.")
        for _, address in getaddresses([str(item)]):
            # the parser joins what it cannot read ("a@exa mple.com" -> "a@example.com"): it must be there as given
            if not _ADDRESS.match(address) or not _valid_address(address) or address not in str(item):
                raise ConfigError(f"{address or item!r} ({where}) is not an email address",
                                  hint="Write addresses like team@example.com.")
            found.append(address)
    return tuple(found)


def _valid_address(address: str) -> bool:
    """What the e-mail package will put in a header: a local part and a domain with a dot, no empty label."""
    from email.errors import MessageError
    from email.headerregistry import Address

    try:
        parsed = Address(addr_spec=address)
    except (ValueError, IndexError, MessageError):
        return False
    labels = parsed.domain.split(".")
    return bool(parsed.username) and len(labels) >= 2 and all(labels) and len(address) <= 254


def resolve_email_settings(section: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None,
                           *, to: tuple[str, ...] = (), cc: tuple[str, ...] = (), subject: str | None = None
                           ) -> EmailSettings:
    """Config ``[email]`` < environment < flags. Raises :class:`ConfigError` on bad values."""
    section = dict(section or {})
    env = os.environ if env is None else env
    value: dict[str, Any] = {
        "host": section.get("host"), "port": section.get("port"), "user": section.get("user"),
        "security": section.get("security", "starttls"), "sender": section.get("from"),
        "subject": section.get("subject"), "ca_file": section.get("ca_file"),
        "max_attachment_mb": section.get("max_attachment_mb", 10.0), "timeout": section.get("timeout", 30.0),
    }
    for key, name in (("host", "REPORTGEN_SMTP_HOST"), ("port", "REPORTGEN_SMTP_PORT"),
                      ("user", "REPORTGEN_SMTP_USER"), ("security", "REPORTGEN_SMTP_SECURITY"),
                      ("sender", "REPORTGEN_MAIL_FROM"), ("ca_file", "REPORTGEN_SMTP_CA_FILE")):
        if env.get(name):
            value[key] = env[name]
    password = env.get("REPORTGEN_SMTP_PASSWORD") or None
    if password is None and env.get("REPORTGEN_SMTP_PASSWORD_FILE"):
        path = Path(env["REPORTGEN_SMTP_PASSWORD_FILE"]).expanduser()
        try:
            password = path.read_text(encoding="utf-8").strip() or None
        except OSError as exc:
            raise ConfigError(f"cannot read the password file named in REPORTGEN_SMTP_PASSWORD_FILE ({path}): "
                              f"{exc.strerror or exc}", hint="Check the path and its permissions.") from exc
    security = str(value["security"]).strip().lower()
    if security not in SECURITIES:
        raise ConfigError(f"SMTP security {value['security']!r} is not one of {', '.join(SECURITIES)}",
                          hint="Set security in [email] or REPORTGEN_SMTP_SECURITY to starttls, ssl or none.")
    port = value["port"]
    if port is not None:
        try:
            port = int(port)
            if not 0 < port < 65536:
                raise ValueError
        except (TypeError, ValueError):
            raise ConfigError(f"SMTP port {value['port']!r} is not a port number",
                              hint="Set port in [email] or REPORTGEN_SMTP_PORT, e.g. 587.") from None
    try:
        limit, timeout = float(value["max_attachment_mb"]), float(value["timeout"])
    except (TypeError, ValueError):
        raise ConfigError("max_attachment_mb and timeout in [email] must be numbers") from None
    sender = value["sender"]
    if sender is not None:
        sender = _addresses(sender, "the sender")[0]
    return EmailSettings(
        host=value["host"], port=port, user=value["user"] or None, password=password, security=security,
        sender=sender, to=tuple(dict.fromkeys(_addresses(section.get("to"), "[email] to") + _addresses(to, "--to"))),
        cc=tuple(dict.fromkeys(_addresses(section.get("cc"), "[email] cc") + _addresses(cc, "--cc"))),
        subject=subject or value["subject"], max_attachment_mb=limit, timeout=timeout,
        ca_file=Path(value["ca_file"]).expanduser() if value["ca_file"] else None,
    )


# ----------------------------------------------------------------------------- the message
@dataclass(frozen=True)
class ReportContent:
    """What a message is made of, read from a run folder."""

    run: str
    created: str
    title: str
    summary: Mapping[str, Any]
    comparison: Mapping[str, Any] | None
    pdf: bytes | None
    html: bytes | None
    templates: Path | None = None  # the run's --templates folder: the e-mail looks like the report


def load_report(folder: Path) -> ReportContent:
    manifest = read_manifest(folder)
    summary = read_json(folder / "summary.json")
    if not summary:
        raise MailError(f"{folder} has no summary.json to write the message from",
                        hint="Email a run folder made by 'reportgen run'.")

    def optional(name: str) -> bytes | None:
        path = folder / name
        return path.read_bytes() if path.is_file() else None

    templates = (manifest.get("settings") or {}).get("templates")
    return ReportContent(run=str(manifest.get("run", folder.name)), created=str(manifest.get("started", "")),
                         title=str(summary.get("title", "Customer segmentation report")), summary=summary,
                         comparison=read_json(folder / "comparison.json"), pdf=optional("report.pdf"),
                         html=optional("report.html"),
                         templates=Path(templates) if templates and Path(templates).is_dir() else None)


def period_of(created: str) -> str:
    try:
        return datetime.fromisoformat(created).strftime("%B %Y")
    except ValueError:
        return created[:10]


def default_subject(content: ReportContent) -> str:
    k = content.summary.get("k")
    return f"{content.title}, {period_of(content.created)}: {k} customer segments"


def _changes(content: ReportContent) -> list[str]:
    comparison = content.comparison
    if not comparison:
        return []
    lines = []
    for segment in comparison.get("segments", []):
        if segment["status"] == "gone":  # it has no number in this run: say whose number it is
            lines.append(f"Segment {segment['segment']} of the baseline ({segment['name']}) is gone.")
        elif segment["status"] == "new":
            lines.append(f"Segment {segment['segment']} ({segment['name']}) is new.")
        elif segment.get("share_before") is not None and abs(segment["share_now"] - segment["share_before"]) >= 0.03:
            lines.append(f"Segment {segment['segment']} ({segment['name']}) went from "
                         f"{segment['share_before']:.0%} to {segment['share_now']:.0%} of customers.")
    customers = comparison.get("customers", {})
    if customers.get("shared"):
        lines.append(f"{customers['same_segment_share']:.0%} of the {customers['shared']:,} customers in both runs "
                     f"kept their segment; {customers['entered']:,} are new and {customers['left']:,} have left.")
    return lines or ["No segment changed much."]


@dataclass(frozen=True)
class MessageContent:
    """What the e-mail templates (templates/email.txt, templates/email.html) read, as ``m``."""

    title: str
    period: str
    intro: str
    run: str
    segments: tuple[Mapping[str, Any], ...]  # summary.json's segments
    baseline_run: str | None
    changes: tuple[str, ...]
    priorities: tuple[str, ...] = ()  # "1. Send a win-back campaign (segment 4, ...): KPI ... now 5%, target 10%"
    outcomes: tuple[str, ...] = ()  # "Send a win-back campaign (segment 4): 5% then, 12% now, target 10%: met"


def message_content(content: ReportContent) -> MessageContent:
    summary = content.summary
    intro = (f"{summary.get('customers', 0):,} customers fall into {summary.get('k')} segments "
             f"(segmentation quality: {summary.get('verdict', '')}, silhouette {summary.get('silhouette')}).")
    return MessageContent(
        title=content.title, period=period_of(content.created), intro=intro, run=content.run,
        segments=tuple(summary.get("segments", [])),
        baseline_run=content.comparison["baseline"]["run"] if content.comparison else None,
        changes=tuple(_changes(content)), priorities=tuple(priority_lines(summary)),
        outcomes=tuple(outcome_lines(summary)))


def _pct(value: Any) -> str:
    return "–" if value is None else f"{float(value):.0%}"


def priority_lines(summary: Mapping[str, Any]) -> list[str]:
    """summary.json's priorities as sentences."""
    lines = []
    for p in summary.get("priorities") or []:
        kpi = p.get("kpi") or {}
        value = f", {_pct(p['value_share'])} of the value" if p.get("value_share") is not None else ""
        lines.append(f"{p.get('rank')}. {p.get('action')} (segment {p.get('segment')}, {p.get('name')}: "
                     f"{p.get('customers', 0):,} customers{value}). KPI: the share of its {kpi.get('text')}, "
                     f"{_pct(kpi.get('current'))} now, target {_pct(kpi.get('target'))}.")
    return lines


def outcome_lines(summary: Mapping[str, Any]) -> list[str]:
    """summary.json's kpi_outcomes as sentences: then, now, the target, met or missed."""
    lines = []
    for o in summary.get("kpi_outcomes") or []:
        result = "segment gone" if o.get("met") is None else ("met" if o["met"] else "missed")
        lines.append(f"{o.get('action')} (segment {o.get('segment_before')}, {o.get('name')}): the share of its "
                     f"{o.get('kpi')} was {_pct(o.get('then'))}, is {_pct(o.get('now'))} now, target "
                     f"{_pct(o.get('target'))}: {result}.")
    return lines


def message_bodies(content: ReportContent) -> tuple[str, str]:
    """The plain-text and the HTML body, from their templates: the executive summary, and what changed since
    the baseline."""
    from ..report.render import render

    m = message_content(content)
    return (render("email.txt", templates=content.templates, m=m),
            render("email.html", templates=content.templates, m=m))


def build_message(content: ReportContent, settings: EmailSettings, *, attach_html: bool = False,
                  now: datetime | None = None) -> EmailMessage:
    """The message: subject, text and HTML bodies, the PDF (and the HTML report) attached. No I/O."""
    if not settings.to:
        raise ConfigError("no recipient", hint="Pass --to ADDRESS (or set to = [...] in the [email] section).")
    if not settings.sender:
        raise ConfigError("no sender address", hint="Set REPORTGEN_MAIL_FROM or from = ... in the [email] section.")
    if content.pdf is None:
        raise MailError(f"run {content.run} has no report.pdf to attach",
                        hint="Run with --format html,pdf, or email another run.")
    attachments = [(content.pdf, "application", "pdf", f"{content.run}.pdf")]
    if attach_html:
        if content.html is None:
            raise MailError(f"run {content.run} has no report.html to attach", hint="Leave out --attach html.")
        attachments.append((content.html, "text", "html", f"{content.run}.html"))
    size = sum(len(data) for data, *_ in attachments)
    if size > settings.max_attachment_mb * 1024 * 1024:
        raise MailError(f"the attachments are {size / 1024 / 1024:.1f} MB, over the limit of "
                        f"{settings.max_attachment_mb:g} MB",
                        hint="Raise max_attachment_mb in [email] if your mail server accepts more, or leave out "
                             "--attach html.")
    message = EmailMessage()
    message["Subject"] = one_line(settings.subject or default_subject(content))
    message["From"] = formataddr(("reportgen", settings.sender))
    message["To"] = ", ".join(settings.to)
    if settings.cc:
        message["Cc"] = ", ".join(settings.cc)
    message["Date"] = (now or datetime.now().astimezone())
    message["Message-ID"] = make_msgid(domain=settings.sender.split("@", 1)[1])
    message["X-Reportgen-Run"] = one_line(content.run)
    text, body = message_bodies(content)
    message.set_content(text)
    message.add_alternative(body, subtype="html")
    for data, maintype, subtype, filename in attachments:
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=one_line(filename))
    return message


# ----------------------------------------------------------------------------- sending
@dataclass(frozen=True)
class Delivery:
    time: str
    to: tuple[str, ...]
    cc: tuple[str, ...]
    subject: str
    message_id: str
    outcome: str  # "sent", "partial", "failed"
    refused: Mapping[str, str]
    error: str | None
    server: Mapping[str, Any]


def _tls_context(settings: EmailSettings) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if settings.ca_file is not None:
        try:
            context.load_verify_locations(cafile=str(settings.ca_file))
        except (OSError, ssl.SSLError) as exc:
            raise MailError(f"cannot load the CA file {settings.ca_file}: {exc}",
                            hint="Check REPORTGEN_SMTP_CA_FILE or ca_file in [email].") from exc
    return context


def send(message: EmailMessage, settings: EmailSettings) -> Delivery:
    """Send with smtplib. Returns the delivery (also for a partial refusal); raises :class:`MailError` when
    nothing was sent. The password never appears in what is raised or returned."""
    if not settings.host:
        raise MailError("no SMTP server is set", hint="Set REPORTGEN_SMTP_HOST (or host in the [email] section).")
    if settings.user and not settings.password:
        raise MailError(f"REPORTGEN_SMTP_USER is {settings.user!r} but no password is set",
                        hint="Set REPORTGEN_SMTP_PASSWORD, or REPORTGEN_SMTP_PASSWORD_FILE naming a file with it.")
    where = f"{settings.host}:{settings.resolved_port}"
    stamp = datetime.now().astimezone().isoformat(timespec="seconds")
    try:
        refused = _transmit(message, settings, where)
    except MailError:
        raise
    except (TimeoutError, smtplib.SMTPException, OSError, ssl.CertificateError) as exc:
        raise _failure(exc, settings, where) from None
    rejected = {address: f"{code} {text.decode(errors='replace') if isinstance(text, bytes) else text}"
                for address, (code, text) in refused.items()}
    return Delivery(time=stamp, to=settings.to, cc=settings.cc, subject=str(message["Subject"]),
                    message_id=str(message["Message-ID"]), outcome="partial" if rejected else "sent",
                    refused=rejected, error="some recipients were refused" if rejected else None,
                    server=settings.public())


def _transmit(message: EmailMessage, settings: EmailSettings, where: str) -> dict[str, tuple[int, bytes]]:
    """Connect (TLS as the settings say), log in, send; the recipients the server refused."""
    assert settings.host is not None  # send() checked it
    client: smtplib.SMTP
    if settings.security == "ssl":
        client = smtplib.SMTP_SSL(settings.host, settings.resolved_port, timeout=settings.timeout,
                                  context=_tls_context(settings))
    else:
        client = smtplib.SMTP(settings.host, settings.resolved_port, timeout=settings.timeout)
    with client:
        client.ehlo()
        if settings.security == "starttls":
            if not client.has_extn("starttls"):
                raise MailError(f"the SMTP server {where} does not offer STARTTLS",
                                hint="Use REPORTGEN_SMTP_SECURITY=ssl or none if that is what it supports.")
            client.starttls(context=_tls_context(settings))
            client.ehlo()
        if settings.user:
            client.login(settings.user, settings.password or "")
        return client.send_message(message, from_addr=settings.sender, to_addrs=[*settings.to, *settings.cc])


def _failure(exc: Exception, settings: EmailSettings, where: str) -> MailError:
    """What went wrong while sending, as one clear line (nothing was sent)."""
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return MailError(f"the SMTP server {where} refused the login of {settings.user!r} ({exc.smtp_code})",
                         hint="Check REPORTGEN_SMTP_USER and the password.")
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        names = ", ".join(f"{r} ({code})" for r, (code, _) in exc.recipients.items())
        return MailError(f"the SMTP server {where} refused every recipient: {names}; nothing was sent",
                         hint="Check the addresses.")
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return MailError(f"the SMTP server {where} refused the sender {exc.sender} ({exc.smtp_code}); nothing was "
                         f"sent", hint="Check REPORTGEN_MAIL_FROM.")
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return MailError(f"the SMTP server {where} does not support a needed feature: {exc}",
                         hint="Check REPORTGEN_SMTP_SECURITY and whether the server needs a login.")
    if isinstance(exc, ssl.SSLError | ssl.CertificateError):
        return MailError(f"the TLS connection to {where} failed: {exc.__class__.__name__}: "
                         f"{getattr(exc, 'reason', None) or exc}",
                         hint="For a private CA set REPORTGEN_SMTP_CA_FILE; check REPORTGEN_SMTP_SECURITY.")
    reason = getattr(exc, "strerror", None) or str(exc) or exc.__class__.__name__
    return MailError(f"cannot send through the SMTP server {where}: {reason}; nothing was sent",
                     hint="Check REPORTGEN_SMTP_HOST, REPORTGEN_SMTP_PORT and the network.")


def record_delivery(folder: Path, record: Delivery) -> None:
    """Append a delivery to the run folder's deliveries.json (written whole, then renamed into place)."""
    path = folder / DELIVERIES
    existing = read_json(path) or []
    entry = {"time": record.time, "to": list(record.to), "cc": list(record.cc), "subject": record.subject,
             "message_id": record.message_id, "outcome": record.outcome, "refused": dict(record.refused),
             "error": record.error, "server": dict(record.server)}
    temp = path.with_name(f".{DELIVERIES}.tmp-{secrets.token_hex(4)}")
    try:
        temp.write_text(json.dumps([*existing, entry], indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        temp.replace(path)
    finally:
        if temp.exists():
            temp.unlink()


def email_run(folder: Path, settings: EmailSettings, *, attach_html: bool = False,
              dry_run: Path | None = None) -> Delivery | Path:
    """Build and send (or, with ``dry_run``, write as .eml) the message for a run; record the outcome.

    A refused or failed sending is recorded in deliveries.json and raised as :class:`MailError`.
    """
    message = build_message(load_report(folder), settings, attach_html=attach_html)
    if dry_run is not None:
        try:
            dry_run.write_bytes(message.as_bytes())
        except OSError as exc:
            raise MailError(f"cannot write {dry_run}: {exc.strerror or exc}") from exc
        return dry_run
    try:
        result = send(message, settings)
    except MailError as exc:
        record_delivery(folder, Delivery(
            time=datetime.now().astimezone().isoformat(timespec="seconds"), to=settings.to, cc=settings.cc,
            subject=str(message["Subject"]), message_id=str(message["Message-ID"]), outcome="failed", refused={},
            error=exc.message, server=settings.public()))
        raise
    record_delivery(folder, result)
    if result.outcome == "partial":
        accepted = [a for a in (*settings.to, *settings.cc) if a not in result.refused]
        raise MailError(f"sent to {', '.join(accepted)} but refused for "
                        + ", ".join(f"{a} ({why})" for a, why in result.refused.items()),
                        hint="Check the refused addresses; the delivery is recorded in deliveries.json.")
    return result


def email_section(config: Path | None) -> dict[str, Any]:
    """The ``[email]`` section of a config file ({} without one); :func:`resolve_email_settings` checks the
    values. A relative ca_file is relative to the config file."""
    if config is None:
        return {}
    section = dict(read_config(config).get("email", {}))
    if section.get("ca_file") and not Path(section["ca_file"]).expanduser().is_absolute():
        section["ca_file"] = str(config.parent / section["ca_file"])
    return section
