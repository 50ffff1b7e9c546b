"""`casebook send`: a letter as a ready-to-send message, and with --smtp submitted and logged.

The message is read back with the standard `email` parser; the server is a real SMTP server
(aiosmtpd) on 127.0.0.1 that stores what it accepts, refuses a recipient or the message, drops
the connection, or checks a login. A submission that fails must leave the contact log as it was.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import socket
import ssl
import subprocess
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from click.testing import CliRunner, Result

from casebook.cli.main import main
from casebook.engine.delivery import delivery_of
from casebook.load.cases import open_case
from casebook.model import Creditor, Debtor
from casebook.outbox import message as outbox_message
from casebook.outbox import smtp as outbox_smtp
from casebook.outbox.message import Outgoing, message_bytes, sent_date
from casebook.outbox.route import NoMailbox, route_of
from casebook.outbox.smtp import NotSent, Server, server_of, submit
from casebook.site.oneletter import pdf_of, ready_letter

TODAY = date(2026, 11, 20)
PEC_CASE = "mobilificio-carrara"  # next action on TODAY: the formal notice by PEC
EML = f"outbox/2026-11-20-{PEC_CASE}-formal-notice.eml"
CREDITOR_PEC = "termovalseriana@pec.example.it"
DEBTOR_PEC = "mobilificiocarrara@pec.example.it"


needs_pdf = pytest.mark.skipif(importlib.util.find_spec("weasyprint") is None,
                               reason="the pdf extra (WeasyPrint) is not installed")


def run(book: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["-C", str(book), "--today", TODAY.isoformat(), *args])


def parsed(data: bytes) -> EmailMessage:
    found = message_from_bytes(data, policy=policy.default)
    assert isinstance(found, EmailMessage)
    return found


def body_text(message: EmailMessage) -> str:
    """The text part as a reader gets it; CRLF is the message's line end, LF the letter's."""
    body = message.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert isinstance(text, str)
    return text.replace("\r\n", "\n")


def log_of(book: Path, case_id: str = PEC_CASE) -> tuple[Any, ...]:
    return open_case(book, case_id).case.log


# -- the local SMTP server ----------------------------------------------------------------------


class Mailbox:
    """An aiosmtpd handler: stores each message it accepts, or misbehaves as `mode` says."""

    def __init__(self) -> None:
        self.mode = "accept"  # accept | refuse-recipient | refuse-data | drop
        self.received: list[Any] = []  # the envelopes accepted

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        if self.mode == "refuse-recipient":
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.mode == "refuse-data":
            return "554 5.6.0 message refused"
        if self.mode == "drop":
            server.transport.close()
            return "250 never heard"
        self.received.append(envelope)
        return "250 2.0.0 queued"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def login_checker(server: Any, session: Any, envelope: Any, mechanism: str,
                  data: Any) -> AuthResult:
    good = isinstance(data, LoginPassword) and (data.login, data.password) == (
        b"crediti@termovalseriana.example.it", b"s3cret pass")
    return AuthResult(success=good, handled=False)


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    handler = Mailbox()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port,
                            authenticator=login_checker, auth_require_tls=False)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


@pytest.fixture
def smtp_env(mailbox: tuple[Mailbox, int], monkeypatch: pytest.MonkeyPatch) -> Mailbox:
    """CASEBOOK_SMTP_URL names the local server, with no user and no password."""
    handler, port = mailbox
    monkeypatch.setenv("CASEBOOK_SMTP_URL", f"smtp://127.0.0.1:{port}")
    monkeypatch.delenv("CASEBOOK_SMTP_PASSWORD", raising=False)
    return handler


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to connect fails the test."""
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("casebook tried to connect")

    monkeypatch.setattr(socket, "create_connection", refuse)


# -- the message written to outbox/ --------------------------------------------------------------


@needs_pdf
def test_the_message_reads_back_with_its_headers_text_and_pdf(demo: Path) -> None:
    result = run(demo, "send", PEC_CASE)
    assert result.exit_code == 0, result.output
    assert result.output == f"wrote {EML}\n"
    data = (demo / EML).read_bytes()
    message = parsed(data)
    letter = ready_letter(demo, PEC_CASE, None, TODAY)
    assert message["From"] == f'"Termoidraulica Valseriana S.r.l." <{CREDITOR_PEC}>'
    assert message["From"].addresses[0].addr_spec == CREDITOR_PEC
    assert message["To"].addresses[0].addr_spec == DEBTOR_PEC
    assert message["To"].addresses[0].display_name == "Mobilificio Fratelli Carrara S.n.c."
    assert message["Subject"] == letter.subject
    assert letter.subject.startswith("Costituzione in mora")
    assert message["Date"] == "Fri, 20 Nov 2026 09:00:00 +0100"
    assert re.fullmatch(r"<20261120\.mobilificio-carrara\.formal-notice\.[0-9a-f]{8}"
                        r"@pec\.example\.it>", message["Message-ID"])
    assert message.get_content_type() == "multipart/mixed"
    assert body_text(message) == letter.text
    attachments = list(message.iter_attachments())
    assert len(attachments) == 1
    pdf = attachments[0]
    assert pdf.get_content_type() == "application/pdf"
    assert pdf.get_filename() == f"formal-notice-{PEC_CASE}.pdf"
    content = pdf.get_content()
    assert content.startswith(b"%PDF")
    assert content == pdf_of(letter, TODAY)


@needs_pdf
def test_the_message_is_seven_bit_with_crlf_line_ends_and_short_lines(demo: Path) -> None:
    assert run(demo, "send", PEC_CASE).exit_code == 0
    data = (demo / EML).read_bytes()
    assert data.isascii()
    assert b"\n" not in data.replace(b"\r\n", b"")
    lines = data.split(b"\r\n")
    assert max(len(line) for line in lines if not line.startswith(b"Message-ID:")) <= 78
    assert b"Message-ID: <20261120.mobilificio-carrara.formal-notice." in data  # never folded
    assert b"Content-Transfer-Encoding: quoted-printable" in data
    assert data.count(b"MIME-Version: 1.0") == 1


@needs_pdf
def test_the_same_input_gives_the_same_bytes(demo: Path) -> None:
    assert run(demo, "send", PEC_CASE).exit_code == 0
    first = (demo / EML).read_bytes()
    again = run(demo, "send", PEC_CASE)
    assert again.exit_code == 0
    assert again.output == f"{EML} is up to date\n"
    (demo / EML).unlink()
    assert run(demo, "send", PEC_CASE).output == f"wrote {EML}\n"
    assert (demo / EML).read_bytes() == first


@needs_pdf
def test_a_case_id_with_a_slash_is_written_with_two_dashes(demo: Path) -> None:
    result = run(demo, "send", "2026/trasporti-ferri")
    assert result.exit_code == 0, result.output
    name = "outbox/2026-11-20-2026--trasporti-ferri-formal-notice.eml"
    message = parsed((demo / name).read_bytes())
    assert re.fullmatch(r"<20261120\.2026--trasporti-ferri\.formal-notice\.[0-9a-f]{8}"
                        r"@pec\.example\.it>", message["Message-ID"])
    [pdf] = message.iter_attachments()
    assert pdf.get_filename() == "formal-notice-2026--trasporti-ferri.pdf"


@needs_pdf
def test_a_letter_by_email_goes_between_the_e_mail_addresses(demo: Path) -> None:
    result = run(demo, "send", "tipografia-galli")
    assert result.exit_code == 0, result.output
    message = parsed((demo / "outbox/2026-11-20-tipografia-galli-final-notice.eml")
                     .read_bytes())
    assert message["From"].addresses[0].addr_spec == "crediti@termovalseriana.example.it"
    debtor = open_case(demo, "tipografia-galli").case.debtor
    assert debtor.email and message["To"].addresses[0].addr_spec == debtor.email
    assert message["Message-ID"].endswith("@termovalseriana.example.it>")


def test_a_letter_by_registered_letter_is_refused_with_what_to_do(demo: Path) -> None:
    before = (demo / "cases/privati/ferrari-laura.md").read_bytes()
    result = run(demo, "send", "privati/ferrari-laura")
    assert result.exit_code == 1
    assert "the formal notice goes by registered letter (the debtor has no PEC)" in result.output
    assert ("`casebook letter privati/ferrari-laura formal-notice --format pdf --out "
            "formal-notice-privati--ferrari-laura.pdf`") in result.output
    assert "send it by post" in result.output
    assert not (demo / "outbox").exists()
    assert (demo / "cases/privati/ferrari-laura.md").read_bytes() == before


def test_a_phone_call_and_a_letter_without_channel_are_refused(demo: Path) -> None:
    phone = run(demo, "send", "carrozzeria-nava")
    assert phone.exit_code == 1
    assert "the reminder is a phone call" in phone.output
    assert "casebook log carrozzeria-nava phone reminder -m" in phone.output
    statement = run(demo, "send", PEC_CASE, "statement")
    assert statement.exit_code == 1
    assert "the statement has no channel of its own" in statement.output
    assert not (demo / "outbox").exists()


def test_without_weasyprint_nothing_is_written(demo: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from casebook.site import oneletter
    from casebook.site.pdf import PdfUnavailable

    def unavailable(*args: object) -> bytes:
        raise PdfUnavailable()

    monkeypatch.setattr(oneletter, "pdf_of", unavailable)
    result = run(demo, "send", PEC_CASE)
    assert result.exit_code == 1
    assert "pip install 'casebook[pdf]'" in result.output
    assert not (demo / "outbox").exists()


def test_a_missing_address_on_either_side_is_refused() -> None:
    debtor = Debtor(name="Rossi S.r.l.", pec="rossi@pec.example.it")
    creditor = Creditor(name="Esempio S.r.l.", email="crediti@esempio.it")
    with pytest.raises(NoMailbox, match=r"the debtor has no e-mail address: add `email:` under "
                                        r"`debtor:` in cases/rossi\.md"):
        route_of(case_id="rossi", letter="reminder", channel="email", debtor=debtor,
                 creditor=creditor)
    with pytest.raises(NoMailbox, match=r"the creditor has no PEC: add `pec:` under "
                                        r"`creditor:` in casebook\.yml"):
        route_of(case_id="rossi", letter="formal-notice", channel="pec", debtor=debtor,
                 creditor=creditor)
    route = route_of(case_id="rossi", letter="formal-notice", channel="pec", debtor=debtor,
                     creditor=Creditor(name="Esempio S.r.l.", pec="esempio@pec.example.it"))
    assert (route.sender, route.recipient) == ("esempio@pec.example.it", "rossi@pec.example.it")
    two = Debtor(name="Rossi S.r.l.", pec="rossi@pec.example.it, amm@pec.example.it")
    with pytest.raises(NoMailbox, match=r"the debtor's pec 'rossi@pec\.example\.it, amm@pec"
                                        r"\.example\.it' is not one plain address"):
        route_of(case_id="rossi", letter="formal-notice", channel="pec", debtor=two,
                 creditor=Creditor(name="Esempio S.r.l.", pec="esempio@pec.example.it"))


# -- the message builder, with made-up values ----------------------------------------------------

FAKE = Outgoing(case_id="a/b", letter="formal-notice", day=date(2026, 7, 1),
                sender_name="Esempio S.r.l.", sender="Esempio@PEC.Example.it",
                recipient_name="Città Nuova S.p.A.", recipient="citta@pec.example.it",
                subject="Diffida – fattura 1/2026 “urgente”",
                text="Gentili Signori,\n\nè dovuto 1.220,00\xa0€ " + "molto " * 40 + "\n  fine\n",
                pdf=b"%PDF-1.7 not really")


def test_made_up_values_round_trip() -> None:
    data = message_bytes(FAKE)
    message = parsed(data)
    assert message["Subject"] == FAKE.subject
    assert message["To"].addresses[0].display_name == "Città Nuova S.p.A."
    assert body_text(message) == FAKE.text
    [pdf] = message.iter_attachments()
    assert pdf.get_content() == FAKE.pdf
    assert pdf.get_filename() == "formal-notice-a--b.pdf"
    assert message["Message-ID"] == FAKE.message_id
    assert re.fullmatch(r"<20260701\.a--b\.formal-notice\.[0-9a-f]{8}@pec\.example\.it>",
                        FAKE.message_id)
    assert message_bytes(FAKE) == data


def test_the_message_id_and_the_boundary_change_with_the_case_the_letter_and_the_day() -> None:
    ids = {outbox_message.message_id(case, letter, day, "x@y.it")
           for case in ("a", "b") for letter in ("reminder", "formal-notice")
           for day in (date(2026, 1, 1), date(2026, 1, 2))}
    assert len(ids) == 8
    bound = outbox_message.boundary("a", "reminder", date(2026, 1, 1))
    assert bound.startswith("=_")  # never found in quoted-printable or base64 text
    assert f'boundary="{outbox_message.boundary("a/b", "formal-notice", FAKE.day)}"' \
        in message_bytes(FAKE).decode("ascii").replace("\r\n ", " ")


@pytest.mark.parametrize(("day", "stamp"), [
    (date(2026, 7, 1), "Wed, 01 Jul 2026 09:00:00 +0200"),
    (date(2026, 3, 28), "Sat, 28 Mar 2026 09:00:00 +0100"),
    (date(2026, 3, 29), "Sun, 29 Mar 2026 09:00:00 +0200"),  # summer time from that night
    (date(2026, 10, 25), "Sun, 25 Oct 2026 09:00:00 +0100"),  # and back
])
def test_the_date_is_nine_in_the_morning_in_rome(day: date, stamp: str) -> None:
    assert sent_date(day) == stamp


def test_rome_time_without_a_time_zone_database_agrees_with_it() -> None:
    rome = ZoneInfo("Europe/Rome")
    day = date(2024, 1, 1)
    while day < date(2031, 1, 1):
        moment = datetime.combine(day, outbox_message.SENT_AT, rome)
        assert outbox_message._rome(day).utcoffset(None) == moment.utcoffset(), day
        day += timedelta(days=1)


# -- the server's URL ----------------------------------------------------------------------------


@pytest.mark.parametrize(("url", "security", "host", "port", "user"), [
    ("smtps://me%40esempio.it@smtps.pec.example.it", "tls", "smtps.pec.example.it", 465,
     "me@esempio.it"),
    ("smtps://me@esempio.it@smtps.pec.example.it:4650", "tls", "smtps.pec.example.it", 4650,
     "me@esempio.it"),
    ("smtp://me@mail.example.it:587", "starttls", "mail.example.it", 587, "me"),
    ("smtp://me@mail.example.it", "starttls", "mail.example.it", 587, "me"),
    ("smtp://127.0.0.1:8025", "plain", "127.0.0.1", 8025, None),
    ("smtp://localhost", "plain", "localhost", 25, None),
    ("SMTP://[::1]:2525/", "plain", "::1", 2525, None),
])
def test_a_server_url(url: str, security: str, host: str, port: int, user: str | None) -> None:
    server = server_of(url, "pw" if user else None)
    assert (server.security, server.host, server.port, server.user) == (security, host, port,
                                                                        user)
    assert "pw" not in repr(server) and "pw" not in server.shown


@pytest.mark.parametrize(("url", "password", "why"), [
    ("smtp://mail.example.it:25", None, "plain SMTP to another machine"),
    ("smtp://10.0.0.5:2525", None, "plain SMTP to another machine"),
    ("smtps://me@mail.example.it", None, "no password is given"),
    ("smtps://mail.example.it", "pw", "names no user"),
    ("smtps://me:pw@mail.example.it", "pw", "the URL holds a password"),
    ("https://mail.example.it", None, "is not a mail server's URL"),
    ("smtps://mail.example.it:99999", None, "port"),
    ("smtps://mail.example.it/inbox?tls=no", None, "more than a user, a host and a port"),
])
def test_a_server_url_refused(url: str, password: str | None, why: str) -> None:
    with pytest.raises(NotSent, match=re.escape(why)):
        server_of(url, password)


# -- submitting -----------------------------------------------------------------------------------


@needs_pdf
def test_smtp_sends_exactly_the_written_message_then_logs_it(demo: Path,
                                                             smtp_env: Mailbox) -> None:
    before = len(log_of(demo))
    result = run(demo, "send", PEC_CASE, "--smtp")
    assert result.exit_code == 0, result.output
    data = (demo / EML).read_bytes()
    message_id = parsed(data)["Message-ID"]
    assert result.output == (f"wrote {EML}\nsent to {DEBTOR_PEC} (Message-ID {message_id}); "
                             f"logged in cases/{PEC_CASE}.md\n")
    [envelope] = smtp_env.received
    assert envelope.original_content == data
    assert envelope.mail_from == CREDITOR_PEC
    assert envelope.rcpt_tos == [DEBTOR_PEC]
    log = log_of(demo)
    assert len(log) == before + 1
    entry = log[-1]
    assert (entry.date, entry.channel, entry.step) == (TODAY, "pec", "formal-notice")
    assert entry.title == ready_letter(demo, PEC_CASE, "formal-notice", TODAY).subject
    assert entry.note.splitlines()[0] == f"Sent by `casebook send` to {DEBTOR_PEC}."
    delivery = delivery_of(entry)
    assert delivery.message_id == message_id
    assert delivery.state == "sent"
    assert run(demo, "validate").exit_code == 0


@needs_pdf
def test_the_step_sent_is_no_longer_the_next_action(demo: Path, smtp_env: Mailbox) -> None:
    assert run(demo, "send", PEC_CASE, "--smtp").exit_code == 0
    again = run(demo, "send", PEC_CASE, "diffida", "--smtp")
    assert again.exit_code == 1
    assert "the formal notice was sent on 2026-11-20" in again.output
    assert len(smtp_env.received) == 1
    result = run(demo, "next", "--json")
    assert f'"case": "{PEC_CASE}", ' in result.output
    assert f'"case": "{PEC_CASE}", "debtor": "Mobilificio Fratelli Carrara S.n.c.", ' \
           '"status": "overdue", "action": "formal-notice"' not in result.output


@needs_pdf
def test_a_login_with_the_password_from_the_environment(demo: Path, mailbox: tuple[Mailbox, int],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    handler, port = mailbox
    monkeypatch.setenv("CASEBOOK_SMTP_URL",
                       f"smtp://crediti%40termovalseriana.example.it@127.0.0.1:{port}")
    monkeypatch.setenv("CASEBOOK_SMTP_PASSWORD", "wrong")
    before = (demo / f"cases/{PEC_CASE}.md").read_bytes()
    refused = run(demo, "send", PEC_CASE, "--smtp")
    assert refused.exit_code == 1
    assert "not sent: the server refused the user 'crediti@termovalseriana.example.it' and " \
           "its password (535" in refused.output
    assert "wrong" not in refused.output
    assert (demo / f"cases/{PEC_CASE}.md").read_bytes() == before
    assert (demo / EML).is_file()
    monkeypatch.setenv("CASEBOOK_SMTP_PASSWORD", "s3cret pass")
    result = run(demo, "send", PEC_CASE, "--smtp")
    assert result.exit_code == 0, result.output
    assert "s3cret" not in result.output
    assert len(handler.received) == 1
    assert delivery_of(log_of(demo)[-1]).message_id is not None


@needs_pdf
@pytest.mark.parametrize(("mode", "why"), [
    ("refuse-recipient", f"not sent: the server refused the recipient ({DEBTOR_PEC}: 550 5.1.1 "
                         "mailbox unavailable); nothing was logged"),
    ("refuse-data", "not sent: the server refused the message (554 5.6.0 message refused); "
                    "nothing was logged"),
    ("drop", "closed the connection before accepting the message; nothing was logged"),
])
def test_a_failed_submission_logs_nothing_and_keeps_the_message(
        demo: Path, smtp_env: Mailbox, mode: str, why: str) -> None:
    smtp_env.mode = mode
    before = (demo / f"cases/{PEC_CASE}.md").read_bytes()
    result = run(demo, "send", PEC_CASE, "--smtp")
    assert result.exit_code == 1
    assert result.output.startswith(f"wrote {EML}\n")
    assert why in result.output
    assert f"({EML} is kept)" in result.output
    assert len(result.output.splitlines()) == 2
    assert (demo / f"cases/{PEC_CASE}.md").read_bytes() == before
    assert (demo / EML).is_file()
    assert smtp_env.received == []
    smtp_env.mode = "accept"  # a second try, once the server takes it
    assert run(demo, "send", PEC_CASE, "--smtp").exit_code == 0
    assert len(smtp_env.received) == 1
    assert sum(1 for e in log_of(demo) if delivery_of(e).message_id) == 1


def test_plain_smtp_to_another_machine_is_refused_without_connecting(
        demo: Path, monkeypatch: pytest.MonkeyPatch, no_network: None) -> None:
    monkeypatch.setenv("CASEBOOK_SMTP_URL", "smtp://mail.example.it:25")
    monkeypatch.delenv("CASEBOOK_SMTP_PASSWORD", raising=False)
    result = run(demo, "send", PEC_CASE, "--smtp")
    assert result.exit_code == 1
    assert "plain SMTP to another machine" in result.output
    assert "nothing was written" in result.output
    assert not (demo / "outbox").exists()


def test_a_user_without_a_password_is_refused_without_connecting(
        demo: Path, monkeypatch: pytest.MonkeyPatch, no_network: None) -> None:
    monkeypatch.setenv("CASEBOOK_SMTP_URL", "smtps://me@smtps.pec.example.it:465")
    monkeypatch.delenv("CASEBOOK_SMTP_PASSWORD", raising=False)
    result = run(demo, "send", PEC_CASE, "--smtp")
    assert result.exit_code == 1
    assert "names the user 'me' but no password is given: set CASEBOOK_SMTP_PASSWORD" \
        in result.output
    assert not (demo / "outbox").exists()


def test_smtp_without_a_url_is_refused(demo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CASEBOOK_SMTP_URL", raising=False)
    result = run(demo, "send", PEC_CASE, "--smtp")
    assert result.exit_code == 1
    assert "--smtp needs the mail server in CASEBOOK_SMTP_URL" in result.output
    assert not (demo / "outbox").exists()


@needs_pdf
def test_a_case_file_changed_while_sending_is_not_overwritten_and_says_how_to_log(
        demo: Path, smtp_env: Mailbox, monkeypatch: pytest.MonkeyPatch) -> None:
    real = outbox_smtp.submit
    path = demo / f"cases/{PEC_CASE}.md"

    def submit_and_edit(*args: Any, **kwargs: Any) -> None:
        real(*args, **kwargs)
        path.write_bytes(path.read_bytes() + b"\n## 2026-11-20 note\nEdited meanwhile.\n")

    monkeypatch.setattr(outbox_smtp, "submit", submit_and_edit)
    result = run(demo, "send", PEC_CASE, "--smtp")
    assert result.exit_code == 1
    assert f"sent to {DEBTOR_PEC} (Message-ID <20261120.{PEC_CASE}" in result.output
    assert "but not logged" in result.output
    assert "run the command again" not in result.output
    assert "do not send it again, log it by hand:" in result.output
    assert f"casebook log {PEC_CASE} pec formal-notice --date 2026-11-20 --title" \
        in result.output
    assert len(smtp_env.received) == 1
    assert path.read_bytes().endswith(b"Edited meanwhile.\n")


def test_starttls_is_required_when_the_url_asks_for_it(mailbox: tuple[Mailbox, int]) -> None:
    handler, port = mailbox
    server = Server(host="127.0.0.1", port=port, security="starttls")
    with pytest.raises(NotSent, match="does not offer STARTTLS"):
        submit(server, "a@example.it", "b@example.it", b"Subject: x\r\n\r\nx\r\n")
    assert handler.received == []


def test_a_tls_failure_is_one_line(mailbox: tuple[Mailbox, int]) -> None:
    handler, port = mailbox
    server = Server(host="127.0.0.1", port=port, security="tls")
    with pytest.raises(NotSent, match=r"^TLS with 127\.0\.0\.1:\d+ failed") as failed:
        submit(server, "a@example.it", "b@example.it", b"Subject: x\r\n\r\nx\r\n")
    assert "\n" not in failed.value.reason
    assert handler.received == []


def test_no_server_listening_is_one_line() -> None:
    server = Server(host="127.0.0.1", port=free_port(), security="plain")
    with pytest.raises(NotSent, match=r"^cannot talk to 127\.0\.0\.1:\d+: "):
        submit(server, "a@example.it", "b@example.it", b"Subject: x\r\n\r\nx\r\n")


# -- TLS, with a certificate made for the test ------------------------------------------------


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    return cert, key


@pytest.fixture(params=["tls", "starttls"])
def tls_server(request: pytest.FixtureRequest, certificate: tuple[Path, Path]
               ) -> Iterator[tuple[Mailbox, Server]]:
    """A server speaking implicit TLS, or offering STARTTLS and a login only after it."""
    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    handler, port = Mailbox(), free_port()
    # aiosmtpd counts only STARTTLS as TLS for its login rule: TLS from the start is TLS too
    tls = ({"ssl_context": context, "auth_require_tls": False} if request.param == "tls"
           else {"tls_context": context})
    controller = Controller(handler, hostname="127.0.0.1", port=port,
                            authenticator=login_checker, **tls)
    controller.start()
    try:
        yield handler, Server(host="127.0.0.1", port=port, security=request.param,
                              user="crediti@termovalseriana.example.it",
                              password="s3cret pass")
    finally:
        controller.stop()


def test_an_untrusted_certificate_stops_the_submission(tls_server: tuple[Mailbox, Server]
                                                       ) -> None:
    handler, server = tls_server
    with pytest.raises(NotSent, match=r"^the TLS certificate of 127\.0\.0\.1 cannot be "
                                      r"trusted \(self-signed certificate\): nothing was sent"):
        submit(server, "a@example.it", "b@example.it", b"Subject: x\r\n\r\nx\r\n")
    assert handler.received == []


def test_a_trusted_certificate_carries_the_login_and_the_message(
        tls_server: tuple[Mailbox, Server], certificate: tuple[Path, Path],
        monkeypatch: pytest.MonkeyPatch) -> None:
    handler, server = tls_server
    trusting = ssl.create_default_context(cafile=certificate[0])
    monkeypatch.setattr(ssl, "create_default_context", lambda: trusting)
    submit(server, "a@example.it", "b@example.it", b"Subject: x\r\n\r\nx\r\n")
    [envelope] = handler.received
    assert envelope.original_content == b"Subject: x\r\n\r\nx\r\n"
