"""Sending e-mail with the standard library (`email`, `smtplib`): the SMTP settings of
the environment (MAIL_* in config.py), and messages with a plain-text part and an HTML
alternative."""
import email.errors
import smtplib
import ssl
import unicodedata
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

from .services.errors import InvalidInput

TIMEOUT_SECONDS = 30
# What composing a message raises for an address no header can carry (a non-ASCII
# local part, a second @, ...).
BAD_ADDRESS = (ValueError, email.errors.MessageError)


@dataclass(frozen=True)
class MailSettings:
    server: str
    port: int
    use_tls: bool  # STARTTLS after connecting
    username: str | None
    password: str | None
    sender: str  # the From header: "digest@momento.example" or "Momento <digest@...>"


def _refuse(setting, message):
    raise InvalidInput(f"{setting}: {message}", {setting: [message]})


def mail_settings(config):
    """The SMTP settings of `config`, or None when MAIL_SERVER is not set; InvalidInput
    naming the setting for a bad or missing one."""
    if not config.get("MAIL_SERVER"):
        return None
    use_tls = bool(config.get("MAIL_USE_TLS"))
    port = config.get("MAIL_PORT")
    if port in (None, ""):
        port = 587 if use_tls else 25
    try:
        port = int(port)
    except (TypeError, ValueError):
        _refuse("MAIL_PORT", f"must be a port number, not {port!r}.")
    if not 1 <= port <= 65535:
        _refuse("MAIL_PORT", f"must be a port number from 1 to 65535, not {port}.")
    sender = config.get("MAIL_FROM") or ""
    if "@" not in parseaddr(sender)[1]:
        _refuse("MAIL_FROM", "must be the sender's address, e.g. "
                             "'Momento <digest@momento.example>'.")
    username = config.get("MAIL_USERNAME") or None
    if username and not config.get("MAIL_PASSWORD"):
        _refuse("MAIL_PASSWORD", "is needed with MAIL_USERNAME.")
    return MailSettings(config["MAIL_SERVER"], port, use_tls, username,
                        config.get("MAIL_PASSWORD") or None, sender)


def display_name(name):
    """A person's name as a header may carry it: control characters dropped, every run of
    whitespace (line breaks too) one space."""
    kept = "".join(c for c in name or "" if not unicodedata.category(c).startswith("C")
                   or c.isspace())
    return " ".join(kept.split())


def message(sender, to_name, to_address, subject, text, html, language):
    """An EmailMessage from `sender` (MAIL_FROM) to one person: `text` as the plain-text
    part and `html` as its alternative, with a Message-ID of the sender's domain."""
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = sender
    msg["To"] = Address(display_name=display_name(to_name), addr_spec=to_address)
    msg["Date"] = formatdate(usegmt=True)
    msg["Message-ID"] = make_msgid(domain=parseaddr(sender)[1].rpartition("@")[2] or None)
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    msg["Content-Language"] = language  # after the parts: setting content clears Content-*
    return msg


class Mailer:
    """One SMTP session: `with Mailer(settings) as mailer: mailer.send(msg)`. send returns
    once the server accepted the message, and raises otherwise (smtplib's errors)."""

    def __init__(self, settings):
        self.settings = settings
        self.smtp = None

    def __enter__(self):
        settings = self.settings
        self.smtp = smtplib.SMTP(settings.server, settings.port, timeout=TIMEOUT_SECONDS)
        try:
            if settings.use_tls:
                self.smtp.starttls(context=ssl.create_default_context())
            if settings.username:
                self.smtp.login(settings.username, settings.password)
        except BaseException:
            self.smtp.close()
            raise
        return self

    def send(self, msg):
        # With one recipient, a refusal raises SMTPRecipientsRefused: nothing is half sent.
        self.smtp.send_message(msg)

    def __exit__(self, *exc):
        try:
            self.smtp.quit()
        except (smtplib.SMTPException, OSError):
            self.smtp.close()
