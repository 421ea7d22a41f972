"""Email delivery over SMTP, configured by the environment (never by a report parameter).

``BIVOICE_SMTP_HOST``       the server (required to send)
``BIVOICE_SMTP_PORT``       default 587 with STARTTLS, 465 with TLS, 25 without
``BIVOICE_SMTP_TLS``        ``starttls`` (default), ``ssl`` (TLS from the start) or ``none``
``BIVOICE_SMTP_USER``       login, when the server wants one
``BIVOICE_SMTP_PASSWORD``   its password
``BIVOICE_SMTP_FROM``       the sender (default: the user, else bivoice@<this host>)
``BIVOICE_SMTP_TIMEOUT``    seconds to wait for the server (default 30)
"""

from __future__ import annotations

import os
import smtplib
import socket
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

from .errors import DeliveryError, ReportError

_PORTS = {"starttls": 587, "ssl": 465, "none": 25}


@dataclass(frozen=True)
class SMTPSettings:
    host: str
    port: int
    tls: str
    user: str | None
    password: str | None
    sender: str
    timeout: float = 30.0

    def __repr__(self) -> str:  # never show the password
        return f"SMTPSettings({self.user + '@' if self.user else ''}{self.host}:{self.port}, tls={self.tls})"

    @classmethod
    def from_env(cls) -> SMTPSettings:
        env = os.environ
        host = env.get("BIVOICE_SMTP_HOST", "").strip()
        if not host:
            raise ReportError("--email needs an SMTP server, and BIVOICE_SMTP_HOST is not set.",
                              hint="export BIVOICE_SMTP_HOST (and _PORT, _TLS, _USER, _PASSWORD, _FROM)")
        tls = env.get("BIVOICE_SMTP_TLS", "starttls").strip().lower()
        if tls not in _PORTS:
            raise ReportError(f"BIVOICE_SMTP_TLS={tls!r} is not starttls, ssl or none.")
        try:
            port = int(env.get("BIVOICE_SMTP_PORT") or _PORTS[tls])
            timeout = float(env.get("BIVOICE_SMTP_TIMEOUT") or 30)
        except ValueError as exc:
            raise ReportError(f"BIVOICE_SMTP_PORT/TIMEOUT must be numbers: {exc}") from None
        user = env.get("BIVOICE_SMTP_USER") or None
        sender = env.get("BIVOICE_SMTP_FROM") or (user if user and "@" in user else f"bivoice@{socket.getfqdn()}")
        return cls(host, port, tls, user, env.get("BIVOICE_SMTP_PASSWORD") or None, sender, timeout)


def build_message(*, sender: str, to: list[str], subject: str, text: str, html: str,
                  attachment: Path) -> EmailMessage:
    """The email: a plain and an HTML summary, with the report page attached."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    # base64: a page with plotly.js inline has lines far longer than SMTP's 998 characters
    msg.add_attachment(attachment.read_text(encoding="utf-8"), subtype="html", filename=attachment.name, cte="base64")
    return msg


def send(settings: SMTPSettings, msg: EmailMessage) -> None:
    """Send ``msg``; every failure is a DeliveryError saying which step failed."""
    where = f"{settings.host}:{settings.port}"
    try:
        if settings.tls == "ssl":
            server: smtplib.SMTP = smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout,
                                                    context=ssl.create_default_context())
        else:
            server = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryError(f"Cannot reach the SMTP server {where}: {exc}.",
                            hint="check BIVOICE_SMTP_HOST, BIVOICE_SMTP_PORT and BIVOICE_SMTP_TLS") from None
    try:
        with server:
            server.ehlo()
            if settings.tls == "starttls":
                if not server.has_extn("starttls"):
                    raise DeliveryError(f"The SMTP server {where} does not offer STARTTLS.",
                                        hint="set BIVOICE_SMTP_TLS=ssl or, on a trusted network only, none")
                server.starttls(context=ssl.create_default_context())
                server.ehlo()
            if settings.user:
                server.login(settings.user, settings.password or "")
            refused = server.send_message(msg)
            if refused:
                raise DeliveryError(f"The SMTP server {where} refused: {', '.join(refused)}.")
    except smtplib.SMTPRecipientsRefused as exc:
        who = "; ".join(f"{r}: {code} {text.decode(errors='replace')}" for r, (code, text) in exc.recipients.items())
        raise DeliveryError(f"The SMTP server {where} refused the recipients ({who}).") from None
    except smtplib.SMTPResponseException as exc:
        raise DeliveryError(f"The SMTP server {where} refused: {exc.smtp_code} "
                            f"{exc.smtp_error.decode(errors='replace') if isinstance(exc.smtp_error, bytes) else exc.smtp_error}.") from None
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryError(f"Sending through {where} failed: {exc}.") from None
