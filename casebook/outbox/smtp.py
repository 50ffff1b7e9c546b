"""Submitting a message to the sender's mail server: the URL that names the server, and the
one SMTP conversation that hands the message over.

Three kinds of URL, each decided before anything connects:

- `smtps://[USER@]HOST[:465]`: TLS from the first byte (implicit TLS, `SMTP_SSL`);
- `smtp://[USER@]HOST[:587]`: STARTTLS on the submission port, required — a server that does
  not offer it is refused before the login;
- `smtp://[USER@]HOST:PORT` with HOST `localhost`, `127.0.0.1` or `::1`: plain SMTP to a relay
  on this machine (nothing crosses the network). Plain SMTP to any other host is refused.

Certificates are checked against the system's trust store (`ssl.create_default_context`). The
password is a parameter (the command reads it from the environment), never part of the URL,
and never appears in a message. A failure of any kind is `NotSent` with one line saying why.
Never touches a file or the clock.
"""

from __future__ import annotations

import ipaddress
import smtplib
import socket
import ssl
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import unquote, urlsplit

TIMEOUT = 30.0  # seconds without an answer before giving up
SUBMISSION_PORT = 587
Security = Literal["tls", "starttls", "plain"]
_EXAMPLE = "smtps://USER@HOST:465 or smtp://USER@HOST:587"


class NotSent(Exception):
    """The message was not handed over (or must not be); `reason` says why, in one line."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, kw_only=True)
class Server:
    host: str
    port: int
    security: Security
    user: str | None = None
    password: str | None = field(default=None, repr=False)

    @property
    def shown(self) -> str:
        """The server as a URL, without the password."""
        scheme = "smtps" if self.security == "tls" else "smtp"
        user = f"{self.user}@" if self.user else ""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{user}{host}:{self.port}"


def server_of(url: str, password: str | None) -> Server:
    """The server `url` names, with `password` for its user; raises NotSent for a URL that is
    malformed, would send in clear over the network, or names a user without a password."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in ("smtps", "smtp") or not parts.hostname:
        raise NotSent(f"{url!r} is not a mail server's URL: write it like {_EXAMPLE}")
    if parts.password is not None:
        raise NotSent("the URL holds a password: take it out and give it in "
                      "CASEBOOK_SMTP_PASSWORD")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise NotSent(f"the URL has more than a user, a host and a port: write it like "
                      f"{_EXAMPLE}")
    try:
        port = parts.port
    except ValueError:
        raise NotSent("the URL's port is not a number from 1 to 65535") from None
    host = parts.hostname
    user = unquote(parts.username) if parts.username else None
    security = _security(scheme, host, port)
    default = 465 if security == "tls" else SUBMISSION_PORT if security == "starttls" else 25
    if user and not password:
        raise NotSent(f"the URL names the user {user!r} but no password is given: set "
                      "CASEBOOK_SMTP_PASSWORD")
    if password and not user:
        raise NotSent("a password is given but the URL names no user: write it like "
                      + _EXAMPLE)
    return Server(host=host, port=port or default, security=security, user=user,
                  password=password)


def _security(scheme: str, host: str, port: int | None) -> Security:
    if scheme == "smtps":
        return "tls"
    if is_loopback(host):
        return "plain"
    if port in (None, SUBMISSION_PORT):
        return "starttls"
    raise NotSent(f"smtp://{host}:{port} is plain SMTP to another machine, so the message "
                  "and the password would cross the network unencrypted (plain smtp:// is "
                  "only for a relay on this machine: localhost, 127.0.0.1, ::1); use "
                  f"smtps://{host}:465 (TLS) or smtp://{host}:{SUBMISSION_PORT} (STARTTLS)")


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def submit(server: Server, sender: str, recipient: str, data: bytes,
           timeout: float = TIMEOUT) -> None:
    """Hand `data` over for `recipient`, the envelope's sender `sender`; returns once the
    server has accepted it, raises NotSent otherwise."""
    context = ssl.create_default_context()
    try:
        client = _connect(server, context, timeout)
    except (smtplib.SMTPException, OSError) as exc:
        raise NotSent(_reason(exc, server, timeout)) from None
    try:
        _open(client, server, context)
        refused = client.sendmail(sender, [recipient], data)
    except NotSent:
        client.close()
        raise
    except (smtplib.SMTPException, OSError) as exc:
        client.close()
        raise NotSent(_reason(exc, server, timeout)) from None
    _quit(client)  # the message is the server's now, whatever QUIT answers
    if refused:  # never with one recipient (all refused raises), but said if it happens
        raise NotSent(f"the server refused {', '.join(refused)}")


def _connect(server: Server, context: ssl.SSLContext, timeout: float) -> smtplib.SMTP:
    if server.security == "tls":
        return smtplib.SMTP_SSL(server.host, server.port, timeout=timeout, context=context)
    return smtplib.SMTP(server.host, server.port, timeout=timeout)


def _open(client: smtplib.SMTP, server: Server, context: ssl.SSLContext) -> None:
    """EHLO, STARTTLS when the URL asks for it, then the login."""
    client.ehlo()
    if server.security == "starttls":
        if not client.has_extn("starttls"):
            raise NotSent(f"{server.shown} does not offer STARTTLS, so the message would go "
                          f"unencrypted; use smtps://{server.host}:465 if the provider has it")
        client.starttls(context=context)
        client.ehlo()
    if server.user:
        client.login(server.user, server.password or "")


def _quit(client: smtplib.SMTP) -> None:
    try:
        client.quit()
    except (smtplib.SMTPException, OSError):
        client.close()


def _reason(exc: BaseException, server: Server, timeout: float) -> str:
    """One line for a failed submission."""
    where = f"{server.host}:{server.port}"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        refusals = "; ".join(f"{to}: {_answer(code, text)}"
                             for to, (code, text) in exc.recipients.items())
        return f"the server refused the recipient ({refusals})"
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return (f"the server refused the sender {exc.sender} "
                f"({_answer(exc.smtp_code, exc.smtp_error)}); it must be the mailbox the "
                "user logs in to")
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return (f"the server refused the user {server.user!r} and its password "
                f"({_answer(exc.smtp_code, exc.smtp_error)})")
    if isinstance(exc, smtplib.SMTPDataError):
        return f"the server refused the message ({_answer(exc.smtp_code, exc.smtp_error)})"
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return f"{where} closed the connection before accepting the message"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{where} answered {_answer(exc.smtp_code, exc.smtp_error)}"
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return f"{where} does not support what casebook needs: {exc}"
    return _network_reason(exc, server, where, timeout)


def _network_reason(exc: BaseException, server: Server, where: str, timeout: float) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return (f"the TLS certificate of {server.host} cannot be trusted "
                f"({exc.verify_message or exc.reason}): nothing was sent")
    if isinstance(exc, ssl.SSLError):
        return f"TLS with {where} failed ({exc.reason or exc}): nothing was sent"
    if isinstance(exc, TimeoutError):
        return f"no answer from {where} within {timeout:g} seconds"
    if isinstance(exc, socket.gaierror):
        return f"cannot find the host {server.host} ({exc.strerror})"
    if isinstance(exc, OSError):
        return f"cannot talk to {where}: {exc.strerror or exc}"
    return f"{where}: {exc}"


def _answer(code: int, text: bytes | str) -> str:
    words = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return " ".join(f"{code} {words}".split())
