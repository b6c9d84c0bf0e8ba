"""Email delivery against a real SMTP server (aiosmtpd) on 127.0.0.1: plain, STARTTLS with login, refusals."""

from __future__ import annotations

import json
import shutil
import socket
import ssl
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from reportgen import Settings
from reportgen.delivery.mailer import build_message, load_report, resolve_email_settings
from reportgen.errors import ConfigError, MailError
from reportgen.pipeline import run

from .conftest import INCOME, SCORE

PASSWORD = "s3cret-Pa55word-never-shown"


class Inbox:
    """aiosmtpd handler that keeps every message and can refuse recipients."""

    def __init__(self, refuse: tuple[str, ...] = ()) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.refuse = refuse

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 no such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content
                              or envelope.content))
        return "250 Message accepted"


class Login:
    def __init__(self, user: str, password: str) -> None:
        self.user, self.password = user.encode(), password.encode()

    def __call__(self, server, session, envelope, mechanism, auth_data):
        ok = auth_data.login == self.user and auth_data.password == self.password
        return AuthResult(success=ok, handled=False)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server():
    started = []

    def start(handler: Inbox, **kwargs) -> int:
        port = free_port()
        controller = Controller(handler, hostname="127.0.0.1", port=port, **kwargs)
        controller.start()
        started.append(controller)
        return port

    yield start
    for controller in started:
        controller.stop()


@pytest.fixture(scope="module")
def run_folder(mall_csv: Path, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("mail")
    return run(mall_csv, Settings(features=(INCOME, SCORE), output=out, workers=1)).folder


@pytest.fixture
def folder(run_folder: Path, tmp_path: Path) -> Path:
    """A fresh copy of the run folder for each test (deliveries.json is written into it)."""
    target = tmp_path / "output" / run_folder.name
    shutil.copytree(run_folder, target)
    return target


@pytest.fixture
def smtp_env(monkeypatch):
    for name in ("REPORTGEN_SMTP_HOST", "REPORTGEN_SMTP_PORT", "REPORTGEN_SMTP_USER", "REPORTGEN_SMTP_PASSWORD",
                 "REPORTGEN_SMTP_PASSWORD_FILE", "REPORTGEN_SMTP_SECURITY", "REPORTGEN_MAIL_FROM",
                 "REPORTGEN_SMTP_CA_FILE"):
        monkeypatch.delenv(name, raising=False)

    def set_env(port: int, **extra: str) -> None:
        monkeypatch.setenv("REPORTGEN_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("REPORTGEN_SMTP_PORT", str(port))
        monkeypatch.setenv("REPORTGEN_SMTP_SECURITY", "none")
        monkeypatch.setenv("REPORTGEN_MAIL_FROM", "reports@example.com")
        for key, value in extra.items():
            monkeypatch.setenv(key, value)

    return set_env


def parse(raw: bytes):
    return BytesParser(policy=policy.default).parsebytes(raw)


@pytest.mark.slow
def test_message_arrives_with_the_pdf(invoke, folder: Path, smtp_server, smtp_env) -> None:
    inbox = Inbox()
    smtp_env(smtp_server(inbox))
    result = invoke("email", str(folder), "--to", "cmo@example.com", "--to", "team@example.com",
                    "--cc", "analyst@example.com")
    assert result.exit_code == 0, result.stderr
    assert len(inbox.messages) == 1
    sender, recipients, raw = inbox.messages[0]
    assert sender == "reports@example.com"
    assert recipients == ["cmo@example.com", "team@example.com", "analyst@example.com"]
    message = parse(raw)
    assert message["To"] == "cmo@example.com, team@example.com" and message["Cc"] == "analyst@example.com"
    summary = json.loads((folder / "summary.json").read_text())
    assert message["Subject"].startswith("Customer segmentation report, ")
    assert "5 customer segments" in message["Subject"]
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    for segment in summary["segments"]:
        assert segment["name"] in text and segment["name"] in html
        assert segment["recommendations"][0]["action"] in text
    attachments = list(message.iter_attachments())
    assert [a.get_content_type() for a in attachments] == ["application/pdf"]
    assert attachments[0].get_content() == (folder / "report.pdf").read_bytes()
    assert attachments[0].get_filename() == f"{folder.name}.pdf"
    deliveries = json.loads((folder / "deliveries.json").read_text())
    assert deliveries[-1]["outcome"] == "sent" and deliveries[-1]["message_id"] == message["Message-ID"]
    assert deliveries[-1]["to"] == ["cmo@example.com", "team@example.com"]
    history = json.loads(invoke("history", "--json").stdout)
    assert history[0]["deliveries"] == 1
    assert invoke("verify", str(folder)).exit_code == 0  # deliveries.json does not break verification


@pytest.mark.slow
def test_starttls_with_a_self_signed_certificate_and_login(invoke, folder: Path, smtp_server, smtp_env,
                                                           tmp_path: Path) -> None:
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(server_context)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    inbox = Inbox()
    port = smtp_server(inbox, tls_context=server_context, require_starttls=True, auth_required=True,
                       authenticator=Login("mailer", PASSWORD))
    smtp_env(port, REPORTGEN_SMTP_SECURITY="starttls", REPORTGEN_SMTP_CA_FILE=str(ca_file),
             REPORTGEN_SMTP_USER="mailer", REPORTGEN_SMTP_PASSWORD=PASSWORD)
    result = invoke("email", "latest", "--to", "cmo@example.com", "--attach", "html")
    assert result.exit_code == 0, result.stderr
    message = parse(inbox.messages[0][2])
    assert [a.get_content_type() for a in message.iter_attachments()] == ["application/pdf", "text/html"]
    assert PASSWORD not in result.stdout + result.stderr
    without_ca = invoke("email", "latest", "--to", "cmo@example.com", env={"REPORTGEN_SMTP_CA_FILE": ""})
    assert without_ca.exit_code == 1 and "TLS connection" in without_ca.stderr  # the self-signed CA is not trusted


def _everything_in(folder: Path) -> str:
    return "".join(p.read_bytes().decode("latin-1") for p in folder.rglob("*") if p.is_file())


@pytest.mark.slow
def test_refused_login(invoke, folder: Path, smtp_server, smtp_env, tmp_path: Path) -> None:
    port = smtp_server(Inbox(), auth_required=True, auth_require_tls=False, authenticator=Login("mailer", "other"))
    password_file = tmp_path / "password"
    password_file.write_text(PASSWORD + "\n")
    smtp_env(port, REPORTGEN_SMTP_USER="mailer", REPORTGEN_SMTP_PASSWORD_FILE=str(password_file))
    before = {p.name for p in folder.iterdir()}
    result = invoke("email", str(folder), "--to", "cmo@example.com")
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.startswith("Error: the SMTP server 127.0.0.1:")
    assert "refused the login of 'mailer'" in result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert PASSWORD not in result.stderr
    assert {p.name for p in folder.iterdir()} == before | {"deliveries.json"}
    assert (folder / "report.pdf").is_file()
    assert json.loads((folder / "deliveries.json").read_text())[-1]["outcome"] == "failed"
    assert PASSWORD not in _everything_in(folder) and PASSWORD not in _everything_in(tmp_path / "output")
    assert invoke("verify", str(folder)).exit_code == 0


@pytest.mark.slow
def test_refused_recipients(invoke, folder: Path, smtp_server, smtp_env) -> None:
    inbox = Inbox(refuse=("nobody@example.com",))
    smtp_env(smtp_server(inbox))
    partial = invoke("email", str(folder), "--to", "cmo@example.com", "--to", "nobody@example.com")
    assert partial.exit_code == 1
    assert "sent to cmo@example.com but refused for nobody@example.com (550" in partial.stderr
    assert len(inbox.messages) == 1
    assert json.loads((folder / "deliveries.json").read_text())[-1]["outcome"] == "partial"
    refused = invoke("email", str(folder), "--to", "nobody@example.com")
    assert refused.exit_code == 1 and "refused every recipient" in refused.stderr
    assert "nothing was sent" in refused.stderr


@pytest.mark.slow
def test_unreachable_server(invoke, folder: Path, smtp_env) -> None:
    smtp_env(free_port())
    result = invoke("email", str(folder), "--to", "cmo@example.com")
    assert result.exit_code == 1 and "cannot send through the SMTP server 127.0.0.1" in result.stderr
    assert "nothing was sent" in result.stderr


@pytest.mark.slow
def test_attachment_over_the_limit(invoke, folder: Path, smtp_server, smtp_env, tmp_path: Path) -> None:
    inbox = Inbox()
    smtp_env(smtp_server(inbox))
    (tmp_path / "reportgen.toml").write_text("[email]\nmax_attachment_mb = 0.01\n")
    result = invoke("email", str(folder), "--to", "cmo@example.com")
    assert result.exit_code == 1 and "over the limit of 0.01 MB" in result.stderr
    assert inbox.messages == []


@pytest.mark.slow
def test_dry_run_writes_a_parseable_eml(invoke, folder: Path, smtp_env, tmp_path: Path) -> None:
    smtp_env(free_port())  # nothing listens: a dry run must not connect
    result = invoke("email", str(folder), "--to", "a@example.com", "--dry-run", "message.eml")
    assert result.exit_code == 0 and result.stdout.strip() == "message.eml"
    message = parse((tmp_path / "message.eml").read_bytes())
    assert message["To"] == "a@example.com"
    (pdf,) = list(message.iter_attachments())
    assert pdf.get_content_type() == "application/pdf" and pdf.get_content() == (folder / "report.pdf").read_bytes()
    assert not (folder / "deliveries.json").exists()


@pytest.mark.slow
def test_run_then_send(invoke, mall_csv: Path, smtp_server, smtp_env, tmp_path: Path) -> None:
    inbox = Inbox()
    smtp_env(smtp_server(inbox))
    result = invoke("run", str(mall_csv), "--email-to", "team@example.com", "-q", "--workers", "1")
    assert result.exit_code == 0, result.stderr
    folder = tmp_path / result.stdout.strip()
    assert inbox.messages[0][1] == ["team@example.com"]
    assert json.loads((folder / "deliveries.json").read_text())[0]["outcome"] == "sent"


@pytest.mark.slow
def test_run_keeps_its_folder_when_sending_fails(invoke, mall_csv: Path, smtp_env, tmp_path: Path) -> None:
    smtp_env(free_port())
    result = invoke("run", str(mall_csv), "--email-to", "team@example.com", "-q", "--format", "pdf", "--workers", "1")
    assert result.exit_code == 1 and "cannot send" in result.stderr
    folder = tmp_path / result.stdout.strip()
    assert (folder / "report.pdf").is_file()


def test_settings_precedence_and_secrets(tmp_path: Path) -> None:
    section = {"host": "mail.example.com", "port": 2525, "from": "a@example.com", "to": ["x@example.com"]}
    env = {"REPORTGEN_SMTP_PORT": "587", "REPORTGEN_SMTP_PASSWORD": PASSWORD}
    settings = resolve_email_settings(section, env, to=("y@example.com",))
    assert (settings.host, settings.port, settings.to) == ("mail.example.com", 587, ("x@example.com", "y@example.com"))
    assert PASSWORD not in repr(settings) and PASSWORD not in json.dumps(settings.public())
    with pytest.raises(ConfigError, match="not an email address"):
        resolve_email_settings({}, {}, to=("not-an-address",))
    with pytest.raises(ConfigError, match="starttls, ssl, none"):
        resolve_email_settings({"security": "tls13"}, {})
    config = tmp_path / "reportgen.toml"
    config.write_text('[email]\npassword = "x"\n')
    from reportgen.settings import read_config

    with pytest.raises(ConfigError, match="must not be in a config file"):
        read_config(config)


@pytest.mark.slow
def test_message_needs_recipients_and_a_sender(run_folder: Path) -> None:
    content = load_report(run_folder)
    with pytest.raises(ConfigError, match="no recipient"):
        build_message(content, resolve_email_settings({}, {"REPORTGEN_MAIL_FROM": "a@example.com"}))
    with pytest.raises(ConfigError, match="no sender"):
        build_message(content, resolve_email_settings({}, {}, to=("b@example.com",)))
    with pytest.raises(MailError, match="no SMTP server"):
        from reportgen.delivery.mailer import send

        send(build_message(content, resolve_email_settings({}, {"REPORTGEN_MAIL_FROM": "a@example.com"},
                                                           to=("b@example.com",))),
             resolve_email_settings({}, {}, to=("b@example.com",)))


@pytest.mark.slow
def test_the_message_uses_the_runs_templates(invoke, mall_csv: Path, tmp_path: Path) -> None:
    custom = tmp_path / "my-templates"
    custom.mkdir()
    (custom / "email.txt").write_text("Hello from the CRM team: {{ m.title }}, {{ m.segments|length }} segments.\n",
                                      encoding="utf-8")
    run = invoke("run", str(mall_csv), "--templates", str(custom), "-q", "--format", "pdf")
    assert run.exit_code == 0, run.stderr
    result = invoke("email", run.stdout.strip(), "--to", "a@example.com", "--dry-run", "m.eml",
                    env={"REPORTGEN_MAIL_FROM": "reports@example.com"})
    assert result.exit_code == 0, result.stderr
    message = BytesParser(policy=policy.default).parsebytes((tmp_path / "m.eml").read_bytes())
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert text == "Hello from the CRM team: Customer segmentation report, 6 segments.\n"
    assert "Headline recommendation" in message.get_body(preferencelist=("html",)).get_content()  # the packaged one


# ----------------------------------------------------------------------------- header injection
INJECTED = ["cmo@example.com\r\nBcc: spy@evil.example", "cmo@example.com\nBcc: spy@evil.example",
            "cmo@example.com\rBcc: spy@evil.example", "Boss <cmo@example.com>\r\nX-Evil: 1"]


@pytest.mark.parametrize("address", INJECTED)
def test_a_line_break_in_an_address_is_refused_before_anything_is_sent(invoke, folder: Path, smtp_server, smtp_env,
                                                                        address: str) -> None:
    inbox = Inbox()
    smtp_env(smtp_server(inbox))
    for flag in ("--to", "--cc"):
        args = ["--to", "ok@example.com", flag, address] if flag == "--cc" else [flag, address]
        result = invoke("email", str(folder), *args)
        assert result.exit_code == 2, result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "contains a line break or another control character" in lines[0]
    assert inbox.messages == [] and not (folder / "deliveries.json").exists()
    with pytest.raises(ConfigError, match="line break"):
        resolve_email_settings({"to": ["ok@example.com", address]}, {})
    with pytest.raises(ConfigError, match="line break"):
        resolve_email_settings({}, {"REPORTGEN_MAIL_FROM": address}, to=("ok@example.com",))


@pytest.mark.parametrize("address", ["plainaddress", "a@b", "a@.com", "@example.com", "a b@example.com",
                                     "a@example..com", "a@exa mple.com", "a@@example.com", "x" * 250 + "@ex.com"])
def test_addresses_are_validated(address: str) -> None:
    with pytest.raises(ConfigError, match="is not an email address"):
        resolve_email_settings({}, {}, to=(address,))


@pytest.mark.slow
def test_a_line_break_in_a_subject_or_title_cannot_add_a_header(invoke, mall_csv: Path, smtp_server, smtp_env,
                                                                 tmp_path: Path) -> None:
    inbox = Inbox()
    smtp_env(smtp_server(inbox))
    title = "Q1 report\r\nBcc: spy@evil.example\r\nX-Evil: title"
    run = invoke("run", str(mall_csv), "--title", title, "--name", "q1", "-q", "--stability-resamples", "0")
    assert run.exit_code == 0, run.stderr
    folder = Path(run.stdout.strip())
    sent = invoke("email", str(folder), "--to", "cmo@example.com")
    assert sent.exit_code == 0, sent.stderr
    subject = "Hello\nBcc: spy@evil.example\nX-Evil: subject"
    again = invoke("email", str(folder), "--to", "cmo@example.com", "--subject", subject)
    assert again.exit_code == 0, again.stderr
    assert len(inbox.messages) == 2
    subjects = ["Q1 report Bcc: spy@evil.example X-Evil: title", "Hello Bcc: spy@evil.example X-Evil: subject"]
    for (_, recipients, raw), expected in zip(inbox.messages, subjects, strict=True):
        assert recipients == ["cmo@example.com"]
        message = parse(raw)
        assert message["Bcc"] is None and message["X-Evil"] is None
        assert message["Subject"].startswith(expected)
        headers = raw.split(b"\r\n\r\n", 1)[0] if b"\r\n\r\n" in raw else raw.split(b"\n\n", 1)[0]
        assert not any(line.lower().startswith((b"bcc:", b"x-evil:")) for line in headers.splitlines())
    # a run name (from a manifest edited by hand) goes into X-Reportgen-Run and the file name: one line too
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["run"] = "q1\r\nBcc: spy@evil.example"
    (folder / "manifest.json").write_text(json.dumps(manifest))
    third = invoke("email", str(folder), "--to", "cmo@example.com", "--dry-run", str(tmp_path / "m.eml"))
    assert third.exit_code == 0, third.stderr
    message = parse((tmp_path / "m.eml").read_bytes())
    assert message["Bcc"] is None and message["X-Reportgen-Run"] == "q1 Bcc: spy@evil.example"
