"""Where alerts go: a Slack incoming webhook and an SMTP mailbox.

Each channel makes one delivery attempt per call and raises :class:`DeliveryError` when it
fails; retries, back-off, rate limits and threads belong to :class:`~workbench.alerts.AlertManager`.
Secrets (the webhook URL, which is itself the credential, and the SMTP password) are held in
:class:`Secret`, whose ``str`` and ``repr`` are masked, and no error message a channel raises
contains them: errors are rebuilt from the status or the exception type, never from text that
could echo the URL.
"""

from __future__ import annotations

import json
import smtplib
import socket
import ssl
import urllib.error
import urllib.request
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

__all__ = ["DeliveryError", "Secret", "SlackWebhook", "SmtpChannel"]

_MASK = "***"


class Secret:
    """A string that does not show itself: ``str``, ``repr`` and f-strings give ``***``.

    Parameters
    ----------
    value : str
        The secret; :meth:`reveal` returns it, for the one call that needs it.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The secret itself (pass it straight to the library that needs it)."""
        return self._value

    def __str__(self) -> str:
        return _MASK

    def __repr__(self) -> str:
        return f"Secret({_MASK})"

    def __format__(self, spec: str) -> str:
        return _MASK

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)


class DeliveryError(Exception):
    """One delivery attempt failed.

    Parameters
    ----------
    channel : str
        ``"slack"`` or ``"email"``.
    reason : str
        What failed (an HTTP status, a refused connection), free of secrets.
    retryable : bool, default True
        False when trying again cannot help (a rejected address, bad credentials).
    """

    def __init__(self, channel: str, reason: str, *, retryable: bool = True) -> None:
        super().__init__(f"{channel} delivery failed: {reason}")
        self.channel = channel
        self.reason = reason
        self.retryable = retryable


def _os_reason(exc: BaseException) -> str:
    """A description of a network error that cannot carry a URL or a password."""
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return "timed out"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ConnectionError):
        return f"connection error ({type(exc).__name__})"
    if isinstance(exc, ssl.SSLError):
        return f"TLS error ({exc.reason or type(exc).__name__})"
    errno = getattr(exc, "errno", None)
    return f"{type(exc).__name__}" + (f" (errno {errno})" if errno else "")


class SlackWebhook:
    """A Slack incoming webhook: ``POST {"text": ..., "channel": ...}`` as JSON.

    Parameters
    ----------
    url : Secret or str
        The webhook URL (it is the credential: kept in a :class:`Secret`).
    timeout : float, default 10.0
        Seconds for the connection and the answer.
    default_channel : str, optional
        Channel used when :meth:`send` is given none (else the webhook's own channel).
    """

    name = "slack"

    def __init__(
        self, url: Secret | str, *, timeout: float = 10.0, default_channel: str | None = None
    ) -> None:
        self._url = url if isinstance(url, Secret) else Secret(url)
        self.timeout = timeout
        self.default_channel = default_channel

    def __repr__(self) -> str:
        return f"SlackWebhook(url={_MASK}, default_channel={self.default_channel!r})"

    @staticmethod
    def payload(message: str, channel: str | None) -> dict[str, str]:
        """The JSON body Slack receives for ``message`` (``channel`` only when given)."""
        body = {"text": message}
        if channel:
            body["channel"] = channel
        return body

    def send(self, message: str, channel: str | None = None) -> None:
        """Post one message.

        Raises
        ------
        DeliveryError
            On a network error or a status other than 2xx (4xx other than 429 are final).
        """
        data = json.dumps(self.payload(message, channel or self.default_channel)).encode()
        request = urllib.request.Request(
            self._url.reveal(),
            data=data,
            method="POST",
            headers={"Content-Type": "application/json; charset=utf-8"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                response.read()
        except urllib.error.HTTPError as exc:
            status = exc.code
            exc.close()
            final = 400 <= status < 500 and status != 429
            raise DeliveryError(self.name, f"HTTP {status}", retryable=not final) from None
        except urllib.error.URLError as exc:
            reason = exc.reason if isinstance(exc.reason, BaseException) else None
            text = _os_reason(reason) if reason is not None else "URL error"
            raise DeliveryError(self.name, text) from None
        except (OSError, ValueError) as exc:  # ValueError: a malformed URL
            retry = not isinstance(exc, ValueError)
            raise DeliveryError(self.name, _os_reason(exc), retryable=retry) from None


class SmtpChannel:
    """Mail through an SMTP server, with optional STARTTLS and login.

    Parameters
    ----------
    host, port : str, int
        The server.
    sender : str
        The From address.
    user : str, optional
        Login name; with ``password``, the channel logs in (after STARTTLS when enabled).
    password : Secret or str, optional
        Login password.
    starttls : bool, default False
        Upgrade the connection with STARTTLS before logging in or sending.
    ssl_context : ssl.SSLContext, optional
        Certificates to trust for STARTTLS (default: the system's).
    timeout : float, default 10.0
        Seconds for each network operation.
    """

    name = "email"

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        *,
        user: str | None = None,
        password: Secret | str | None = None,
        starttls: bool = False,
        ssl_context: ssl.SSLContext | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.host = host
        self.port = port
        self.sender = sender
        self.user = user
        self._password = (
            password if isinstance(password, Secret) or password is None else Secret(password)
        )
        self.starttls = starttls
        self.ssl_context = ssl_context
        self.timeout = timeout

    def __repr__(self) -> str:
        auth = f", user={self.user!r}, password={_MASK}" if self.user else ""
        return (
            f"SmtpChannel(host={self.host!r}, port={self.port}, sender={self.sender!r}"
            f"{auth}, starttls={self.starttls})"
        )

    def message(self, subject: str, body: str, recipient: str) -> EmailMessage:
        """The message :meth:`send` would deliver."""
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = recipient
        msg["Subject"] = subject
        msg["Date"] = formatdate(localtime=False, usegmt=True)
        msg["Message-ID"] = make_msgid(domain="workbench.alerts")
        msg.set_content(body)
        return msg

    def send(self, subject: str, body: str, recipient: str) -> None:
        """Deliver one message to ``recipient``.

        Raises
        ------
        DeliveryError
            On a network error, a refused login (final) or a refused recipient (final).
        """
        msg = self.message(subject, body, recipient)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    context = self.ssl_context or ssl.create_default_context()
                    smtp.starttls(context=context)
                if self.user and self._password is not None:
                    smtp.login(self.user, self._password.reveal())
                smtp.send_message(msg)
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryError(
                self.name, f"login refused (SMTP {exc.smtp_code})", retryable=False
            ) from None
        except smtplib.SMTPRecipientsRefused:
            raise DeliveryError(self.name, "recipient refused", retryable=False) from None
        except smtplib.SMTPNotSupportedError:
            raise DeliveryError(
                self.name, "the server does not offer STARTTLS or AUTH", retryable=False
            ) from None
        except smtplib.SMTPResponseException as exc:
            final = 500 <= exc.smtp_code < 600
            raise DeliveryError(self.name, f"SMTP {exc.smtp_code}", retryable=not final) from None
        except smtplib.SMTPException as exc:
            raise DeliveryError(self.name, type(exc).__name__) from None
        except OSError as exc:
            raise DeliveryError(self.name, _os_reason(exc)) from None
