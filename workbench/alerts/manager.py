"""``AlertManager``: alerts that never hold up the trading loop.

Every public call does a little bookkeeping under a lock (deduplication, rate limit) and
puts a job on a bounded queue; one background thread delivers, retrying with exponential
back-off. A full queue drops its oldest job (counted). :meth:`AlertManager.close` waits for
the queue to drain, up to a timeout. Nothing here raises because a channel failed: failures
are counted in :attr:`AlertManager.stats` and logged without secrets.

Configuration comes from the environment (:meth:`AlertConfig.from_env`):

========================================  ============================================
``WORKBENCH_SLACK_WEBHOOK_URL``           Slack incoming webhook (a secret)
``WORKBENCH_SLACK_CHANNEL``               channel override, optional
``WORKBENCH_SMTP_HOST`` / ``_PORT``       mail server (port default 587)
``WORKBENCH_SMTP_USER`` / ``_PASSWORD``   login, optional (the password is a secret)
``WORKBENCH_SMTP_SENDER``                 From address
``WORKBENCH_SMTP_STARTTLS``               1/0 (default 1 on port 587, else 0)
``WORKBENCH_ALERT_EMAIL_TO``              default recipient of alert e-mails
========================================  ============================================

Execution never imports this module: the engine takes any callable listener, and
:meth:`AlertManager.on_event` is one.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from types import TracebackType
from typing import Any, Self

from workbench.alerts.channels import DeliveryError, Secret, SlackWebhook, SmtpChannel
from workbench.alerts.rules import (
    Alert,
    Deduplicator,
    RateLimiter,
    drawdown_alert,
    error_alert,
    trade_alert,
)
from workbench.errors import ConfigError

__all__ = ["AlertConfig", "AlertManager", "AlertStats"]

logger = logging.getLogger(__name__)

ENV_PREFIX = "WORKBENCH_"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


@dataclass(frozen=True)
class AlertConfig:
    """Where alerts go; secrets are :class:`Secret` (masked in ``repr``)."""

    slack_webhook_url: Secret | None = None
    slack_channel: str | None = None
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: Secret | None = None
    smtp_sender: str | None = None
    smtp_starttls: bool = True
    email_to: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> AlertConfig:
        """Read the ``WORKBENCH_SLACK_*``, ``WORKBENCH_SMTP_*`` and ``WORKBENCH_ALERT_*``
        variables (see the module docstring); unset ones leave a channel off.

        Raises
        ------
        ConfigError
            When the port is not a number or STARTTLS is not a yes/no value.
        """
        env = os.environ if environ is None else environ

        def get(name: str) -> str | None:
            value = env.get(ENV_PREFIX + name, "").strip()
            return value or None

        port_text = get("SMTP_PORT") or "587"
        try:
            port = int(port_text)
        except ValueError:
            raise ConfigError(
                f"{ENV_PREFIX}SMTP_PORT must be a port number, got {port_text!r}",
                hint="e.g. 587 (STARTTLS) or 25",
            ) from None
        tls_text = (get("SMTP_STARTTLS") or ("1" if port == 587 else "0")).lower()
        if tls_text not in _TRUE | _FALSE:
            raise ConfigError(
                f"{ENV_PREFIX}SMTP_STARTTLS must be 1 or 0, got {tls_text!r}",
                hint="1 upgrades the connection with STARTTLS before logging in",
            )
        url, password = get("SLACK_WEBHOOK_URL"), get("SMTP_PASSWORD")
        return cls(
            slack_webhook_url=Secret(url) if url else None,
            slack_channel=get("SLACK_CHANNEL"),
            smtp_host=get("SMTP_HOST"),
            smtp_port=port,
            smtp_user=get("SMTP_USER"),
            smtp_password=Secret(password) if password else None,
            smtp_sender=get("SMTP_SENDER"),
            smtp_starttls=tls_text in _TRUE,
            email_to=get("ALERT_EMAIL_TO"),
        )

    def slack(self) -> SlackWebhook | None:
        """The Slack channel, if a webhook URL is configured."""
        if self.slack_webhook_url is None:
            return None
        return SlackWebhook(self.slack_webhook_url, default_channel=self.slack_channel)

    def email(self) -> SmtpChannel | None:
        """The SMTP channel, if a host and a sender are configured."""
        if not (self.smtp_host and self.smtp_sender):
            return None
        return SmtpChannel(
            self.smtp_host,
            self.smtp_port,
            self.smtp_sender,
            user=self.smtp_user,
            password=self.smtp_password,
            starttls=self.smtp_starttls,
        )


@dataclass(frozen=True)
class AlertStats:
    """Counters since the manager started (a snapshot)."""

    queued: int = 0  # jobs put on the queue (one per channel)
    sent: int = 0  # deliveries that succeeded
    failed: int = 0  # deliveries given up on (retries exhausted or a final error)
    retried: int = 0  # attempts repeated after a failure
    deduplicated: int = 0  # calls held back as repeats of a recent alert
    rate_limited: int = 0  # calls refused by the rate limit
    dropped: int = 0  # oldest jobs pushed out of a full queue
    abandoned: int = 0  # jobs still queued when close() timed out
    unrouted: int = 0  # calls for a channel that is not configured


@dataclass
class _Job:
    channel: str  # "slack" | "email"
    args: tuple[str, ...]
    attempts: int = 0


class AlertManager:
    """Sends alerts to Slack and e-mail from a background thread.

    Parameters
    ----------
    config : AlertConfig, optional
        Channels and recipients; default :meth:`AlertConfig.from_env`.
    slack, email : SlackWebhook, SmtpChannel, optional
        Channels to use instead of those the config describes.
    queue_size : int, default 256
        Jobs waiting at most; beyond it the oldest is dropped.
    dedup_window : float, default 300.0
        Seconds during which the same alert is sent once.
    rate_limit : int, default 30
        Alerts admitted per ``rate_window`` seconds (both channels of one alert count once).
    rate_window : float, default 60.0
    retries : int, default 3
        Further attempts after a failed delivery.
    backoff : float, default 1.0
        Seconds before the first retry; doubled each time, capped at ``max_backoff``.
    max_backoff : float, default 30.0
    clock : callable, default time.monotonic
        Seconds, for deduplication and the rate limit.
    """

    def __init__(
        self,
        config: AlertConfig | None = None,
        *,
        slack: SlackWebhook | None = None,
        email: SmtpChannel | None = None,
        queue_size: int = 256,
        dedup_window: float = 300.0,
        rate_limit: int = 30,
        rate_window: float = 60.0,
        retries: int = 3,
        backoff: float = 1.0,
        max_backoff: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if queue_size < 1:
            raise ValueError(f"queue_size must be at least 1, got {queue_size}")
        self.config = config if config is not None else AlertConfig.from_env()
        self._slack = slack if slack is not None else self.config.slack()
        self._email = email if email is not None else self.config.email()
        self._secrets = tuple(
            s.reveal()
            for s in (
                self.config.slack_webhook_url,
                self.config.smtp_password,
                getattr(self._slack, "_url", None),
                getattr(self._email, "_password", None),
            )
            if isinstance(s, Secret) and s.reveal()
        )
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self._clock = clock
        self._dedup = Deduplicator(dedup_window)
        self._limiter = RateLimiter(rate_limit, rate_window)
        self._queue: deque[_Job] = deque()
        self._queue_size = queue_size
        self._counts = {f.name: 0 for f in fields(AlertStats)}
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._busy = False
        self._closing = False
        self._stop = threading.Event()
        self._worker = threading.Thread(target=self._run, name="alert-delivery", daemon=True)
        self._worker.start()

    def __repr__(self) -> str:
        channels = [c for c, on in (("slack", self._slack), ("email", self._email)) if on]
        return f"AlertManager(channels={channels}, pending={len(self._queue)})"

    # ------------------------------------------------------------------ public calls
    def send_slack(self, message: str, channel: str | None = None) -> bool:
        """Queue a Slack message. True when queued (not a repeat, within the rate limit)."""
        return self._submit(f"slack:{channel}:{message}", [("slack", (message, channel or ""))])

    def send_email(self, subject: str, body: str, recipient: str | None = None) -> bool:
        """Queue an e-mail to ``recipient`` (default ``WORKBENCH_ALERT_EMAIL_TO``)."""
        to = recipient or self.config.email_to or ""
        return self._submit(f"email:{to}:{subject}:{body}", [("email", (subject, body, to))])

    def alert(self, alert: Alert) -> bool:
        """Queue ``alert`` for every configured channel (e-mail to the default recipient)."""
        routes: list[tuple[str, tuple[str, ...]]] = []
        if self._slack is not None:
            routes.append(("slack", (alert.message, "")))
        if self._email is not None and self.config.email_to:
            routes.append(("email", (alert.subject, alert.message, self.config.email_to)))
        return self._submit(alert.key, routes, alert)

    def alert_on_drawdown(self, current_dd: float, threshold: float) -> bool:
        """Alert when ``|current_dd| >= |threshold|`` (fractions: 0.05 = 5 %)."""
        found = drawdown_alert(current_dd, threshold)
        return found is not None and self.alert(found)

    def alert_on_trade(self, trade: Any) -> bool:
        """Alert on a fill or a closed trade (see :func:`~workbench.alerts.rules.trade_alert`)."""
        return self.alert(trade_alert(trade))

    def alert_on_error(self, error: BaseException | str) -> bool:
        """Alert on an error: type and message, no traceback."""
        return self.alert(error_alert(error))

    def on_event(self, event: Any) -> None:
        """A listener for execution events: exceptions become error alerts; objects or
        mappings whose ``kind`` is ``fill`` or ``trade`` trade alerts (the event itself, or
        its ``fill``/``trade`` field); ``drawdown`` events need ``drawdown`` and
        ``threshold``; ``error``/``risk``/``reject`` events a ``message``. Others are ignored.
        """
        if isinstance(event, BaseException):
            self.alert_on_error(event)
            return

        def get(name: str) -> Any:
            if isinstance(event, Mapping):
                return event.get(name)
            return getattr(event, name, None)

        kind = str(get("kind") or get("type") or "").lower()
        if kind in ("fill", "trade"):
            self.alert_on_trade(get(kind) or event)
        elif kind == "drawdown":
            self.alert_on_drawdown(get("drawdown"), get("threshold"))
        elif kind in ("error", "risk", "reject", "rejected", "kill_switch"):
            self.alert_on_error(f"{kind}: {get('message') or get('reason') or event}")

    @property
    def stats(self) -> AlertStats:
        """The counters now."""
        with self._lock:
            return AlertStats(**self._counts)

    @property
    def pending(self) -> int:
        """Jobs queued or being delivered."""
        with self._lock:
            return len(self._queue) + int(self._busy)

    def close(self, timeout: float = 10.0) -> bool:
        """Stop taking alerts, deliver what is queued for up to ``timeout`` seconds.

        Returns True when everything queued was delivered or given up on; False when the
        timeout came first (the rest is counted as ``abandoned``).
        """
        deadline = time.monotonic() + timeout
        with self._wake:
            self._closing = True
            self._wake.notify_all()
            while self._queue or self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._wake.wait(left)
            flushed = not (self._queue or self._busy)
            self._counts["abandoned"] += len(self._queue)
            self._queue.clear()
        self._stop.set()  # cut a back-off short
        self._worker.join(max(0.0, deadline - time.monotonic()) + 0.1)
        return flushed

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # ------------------------------------------------------------------ internals
    def _redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def _submit(
        self,
        key: str,
        routes: list[tuple[str, tuple[str, ...]]],
        alert: Alert | None = None,
    ) -> bool:
        now = self._clock()
        with self._wake:
            if self._closing:
                return False
            routable = [r for r in routes if self._channel(r[0]) is not None]
            routable = [r for r in routable if r[0] != "email" or r[1][2]]
            if not routable:
                self._counts["unrouted"] += 1
                return False
            repeats = self._dedup.admit(key, now)
            if repeats is None:
                self._counts["deduplicated"] += 1
                return False
            if not self._limiter.admit(now):
                self._counts["rate_limited"] += 1
                return False
            for channel, args in routable:
                if repeats and alert is not None:
                    args = self._with_repeats(channel, args, alert, repeats)
                args = tuple(self._redact(a) for a in args)  # a secret is never sent on either
                if len(self._queue) >= self._queue_size:
                    self._queue.popleft()
                    self._counts["dropped"] += 1
                self._queue.append(_Job(channel, args))
                self._counts["queued"] += 1
            self._wake.notify_all()
        return True

    @staticmethod
    def _with_repeats(
        channel: str, args: tuple[str, ...], alert: Alert, repeats: int
    ) -> tuple[str, ...]:
        noted = alert.with_repeats(repeats)
        if channel == "slack":
            return (noted.message, args[1])
        return (args[0], noted.message, args[2])

    def _channel(self, name: str) -> SlackWebhook | SmtpChannel | None:
        return self._slack if name == "slack" else self._email

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._queue and not self._closing:
                    self._wake.wait()
                if not self._queue:  # closing and drained
                    self._wake.notify_all()
                    return
                job = self._queue.popleft()
                self._busy = True
            outcome = self._deliver(job)
            with self._wake:
                self._busy = False
                self._counts[outcome] += 1
                self._wake.notify_all()
            if self._stop.is_set():
                return

    def _deliver(self, job: _Job) -> str:
        """Try a job until it succeeds or retries run out; the counter to bump."""
        while True:
            job.attempts += 1
            try:
                self._send(job)
                return "sent"
            except DeliveryError as exc:
                reason, retryable = self._redact(str(exc)), exc.retryable
            except Exception as exc:  # a bug in a channel must not kill the worker
                reason = self._redact(f"{job.channel}: {type(exc).__name__}: {exc}")
                retryable = False
            if not retryable or job.attempts > self.retries or self._stop.is_set():
                logger.warning("alert not delivered after %d attempt(s): %s", job.attempts, reason)
                return "failed"
            delay = min(self.max_backoff, self.backoff * 2 ** (job.attempts - 1))
            logger.info("alert delivery failed (%s); retrying in %.2f s", reason, delay)
            with self._lock:
                self._counts["retried"] += 1
            if self._stop.wait(delay):
                logger.warning("alert not delivered (closing): %s", reason)
                return "failed"

    def _send(self, job: _Job) -> None:
        if job.channel == "slack":
            assert self._slack is not None
            message, channel = job.args
            self._slack.send(message, channel or None)
        else:
            assert self._email is not None
            subject, body, recipient = job.args
            self._email.send(subject, body, recipient)
