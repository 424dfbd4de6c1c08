"""AlertManager against real servers on loopback: an SMTP server (aiosmtpd, plain, AUTH and
STARTTLS + AUTH) and an HTTP webhook (http.server). Nothing is mocked; time is driven by a
clock the test owns where deduplication and rate limits are concerned."""

from __future__ import annotations

import json
import logging
import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from workbench.alerts import (
    AlertConfig,
    AlertManager,
    DeliveryError,
    Secret,
    SlackWebhook,
    SmtpChannel,
    error_alert,
    trade_alert,
)
from workbench.errors import ConfigError
from workbench.model.records import Fill, Side

pytestmark = [
    pytest.mark.timeout(60),
    # the "auth" mailhost is a plain-text relay on purpose (aiosmtpd warns about it)
    pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning"),
]

HOOK_TOKEN = "T0ALERTS/B0WEBHOOK/s3cr3tW3bh00kT0k3n"
SMTP_USER = "alerts@example.test"
SMTP_PASSWORD = "pa55-w0rd-n0t-t0-b3-l0gg3d"
SENDER = "workbench@example.test"
RECIPIENT = "trader@example.test"


# --------------------------------------------------------------------------- webhook server
@dataclass
class Webhook:
    """A loopback Slack-like webhook: records each POST, answers from ``statuses``."""

    server: ThreadingHTTPServer
    statuses: list[int] = field(default_factory=list)  # answers in order, then 200
    requests: list[dict[str, Any]] = field(default_factory=list)
    gate: threading.Event = field(default_factory=threading.Event)  # cleared: hold answers
    entered: threading.Semaphore = field(default_factory=lambda: threading.Semaphore(0))

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}/services/{HOOK_TOKEN}"

    def bodies(self) -> list[dict[str, Any]]:
        return [r["json"] for r in self.requests]


def _handler(hook: Webhook) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers["Content-Length"]))
            hook.requests.append(
                {
                    "path": self.path,
                    "content_type": self.headers["Content-Type"],
                    "json": json.loads(raw),
                }
            )
            hook.entered.release()
            hook.gate.wait(30)
            status = hook.statuses.pop(0) if hook.statuses else 200
            body = b"ok" if status == 200 else f"error at {self.path}".encode()
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
            pass

    return Handler


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    hook = Webhook(server=ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler))
    hook.server.RequestHandlerClass = _handler(hook)
    hook.gate.set()
    thread = threading.Thread(target=hook.server.serve_forever, daemon=True)
    thread.start()
    yield hook
    hook.gate.set()
    hook.server.shutdown()
    hook.server.server_close()


def closed_port() -> int:
    """A loopback port nobody listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --------------------------------------------------------------------------- SMTP server
class Inbox:
    """aiosmtpd handler keeping each delivered message and the login that sent it."""

    def __init__(self) -> None:
        self.messages: list[tuple[Envelope, Message]] = []
        self.logins: list[str] = []
        self.received = threading.Semaphore(0)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        assert isinstance(envelope.content, bytes)
        self.messages.append((envelope, message_from_bytes(envelope.content)))
        if session.authenticated and isinstance(session.auth_data, LoginPassword):
            self.logins.append(session.auth_data.login.decode())
        self.received.release()
        return "250 OK"


def authenticator(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login.decode() == SMTP_USER
        and auth_data.password.decode() == SMTP_PASSWORD
    )
    return AuthResult(success=ok, handled=False, auth_data=auth_data)


@dataclass
class Mailhost:
    inbox: Inbox
    port: int
    mode: str
    client_tls: ssl.SSLContext | None

    def channel(self, password: str = SMTP_PASSWORD) -> SmtpChannel:
        auth = self.mode != "plain"
        return SmtpChannel(
            "127.0.0.1",
            self.port,
            SENDER,
            user=SMTP_USER if auth else None,
            password=password if auth else None,
            starttls=self.mode == "starttls",
            ssl_context=self.client_tls,
            timeout=10,
        )


@pytest.fixture(scope="module")
def tls() -> tuple[ssl.SSLContext, ssl.SSLContext]:
    ca = trustme.CA()
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server)
    client = ssl.create_default_context()
    ca.configure_trust(client)
    return server, client


@pytest.fixture(params=["plain", "auth", "starttls"])
def mailhost(
    request: pytest.FixtureRequest, tls: tuple[ssl.SSLContext, ssl.SSLContext]
) -> Iterator[Mailhost]:
    mode = request.param
    inbox = Inbox()
    kwargs: dict[str, Any] = {}
    if mode == "auth":  # AUTH over a plain connection (a relay on a private network)
        kwargs = {"authenticator": authenticator, "auth_required": True}
        kwargs["auth_require_tls"] = False
    elif mode == "starttls":
        kwargs = {"authenticator": authenticator, "auth_required": True}
        kwargs |= {"tls_context": tls[0], "require_starttls": True}
    port = closed_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    yield Mailhost(inbox, port, mode, tls[1] if mode == "starttls" else None)
    controller.stop()


def manager(**kwargs: Any) -> AlertManager:
    """A manager that reads nothing from the environment and retries fast."""
    kwargs.setdefault("backoff", 0.01)
    return AlertManager(AlertConfig(email_to=RECIPIENT), **kwargs)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def body(msg: Message) -> str:
    payload = msg.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode()


FILL = Fill(time=1_730_000_000 * 10**9, symbol="MCLZ5", side=Side.BUY, quantity=2, price=71.23)


# --------------------------------------------------------------------------- webhook tests
def test_slack_payloads_are_exact(webhook: Webhook) -> None:
    with manager(slack=SlackWebhook(webhook.url)) as alerts:
        assert alerts.send_slack("MCL session started", "#trading")
        assert alerts.send_slack("no channel given")
        assert alerts.alert_on_trade(FILL)
        assert alerts.close()
    assert webhook.bodies() == [
        {"text": "MCL session started", "channel": "#trading"},
        {"text": "no channel given"},
        {"text": trade_alert(FILL).message},
    ]
    assert trade_alert(FILL).message.startswith("Filled BUY 2 MCLZ5 @ 71.23")
    assert {r["path"] for r in webhook.requests} == {f"/services/{HOOK_TOKEN}"}
    assert {r["content_type"] for r in webhook.requests} == {"application/json; charset=utf-8"}
    assert alerts.stats.sent == 3
    assert alerts.stats.failed == 0


def test_caller_returns_before_the_server_answers(webhook: Webhook) -> None:
    webhook.gate.clear()  # the server holds every answer until released
    alerts = manager(slack=SlackWebhook(webhook.url))
    assert alerts.alert_on_error(RuntimeError("broker disconnected"))
    assert webhook.entered.acquire(timeout=10)  # the request is at the server, unanswered
    assert alerts.send_slack("second")  # the loop goes on while the first is stuck
    assert alerts.stats.sent == 0
    assert alerts.pending == 2
    webhook.gate.set()
    assert alerts.close()
    assert alerts.stats.sent == 2
    assert [b["text"] for b in webhook.bodies()] == [
        "RuntimeError: broker disconnected",
        "second",
    ]


def test_full_queue_drops_the_oldest(webhook: Webhook) -> None:
    webhook.gate.clear()
    alerts = manager(slack=SlackWebhook(webhook.url), queue_size=2)
    alerts.send_slack("m0")
    assert webhook.entered.acquire(timeout=10)  # m0 is in flight, the queue is empty
    for i in range(1, 5):
        assert alerts.send_slack(f"m{i}")
    assert alerts.stats.dropped == 2
    webhook.gate.set()
    assert alerts.close()
    assert [b["text"] for b in webhook.bodies()] == ["m0", "m3", "m4"]
    assert alerts.stats.sent == 3


def test_close_times_out_on_a_hung_server(webhook: Webhook) -> None:
    webhook.gate.clear()
    alerts = manager(slack=SlackWebhook(webhook.url, timeout=30))
    alerts.send_slack("stuck")
    assert webhook.entered.acquire(timeout=10)
    alerts.send_slack("waiting")
    assert alerts.close(timeout=0.2) is False
    assert alerts.stats.abandoned == 1
    assert not alerts.send_slack("after close")  # closed: refused, not queued
    webhook.gate.set()


def test_server_errors_are_retried_then_delivered(webhook: Webhook) -> None:
    webhook.statuses[:] = [500, 503]
    with manager(slack=SlackWebhook(webhook.url), retries=3) as alerts:
        alerts.send_slack("eventually")
        assert alerts.close()
    assert [b["text"] for b in webhook.bodies()] == ["eventually"] * 3
    assert (alerts.stats.sent, alerts.stats.retried, alerts.stats.failed) == (1, 2, 0)


def test_retries_run_out_and_the_failure_is_counted(webhook: Webhook) -> None:
    webhook.statuses[:] = [500] * 10
    alerts = manager(slack=SlackWebhook(webhook.url), retries=2)
    alerts.send_slack("never")
    assert alerts.close()
    assert len(webhook.requests) == 3  # one attempt and two retries
    assert (alerts.stats.sent, alerts.stats.retried, alerts.stats.failed) == (0, 2, 1)


def test_a_client_error_is_not_retried(webhook: Webhook) -> None:
    webhook.statuses[:] = [404]
    alerts = manager(slack=SlackWebhook(webhook.url), retries=5)
    alerts.send_slack("gone")
    assert alerts.close()
    assert len(webhook.requests) == 1
    assert (alerts.stats.retried, alerts.stats.failed) == (0, 1)


def test_a_server_that_is_down_does_not_stop_the_caller() -> None:
    url = f"http://127.0.0.1:{closed_port()}/services/{HOOK_TOKEN}"
    alerts = manager(slack=SlackWebhook(url), retries=2)
    for i in range(3):
        assert alerts.alert_on_error(ValueError(f"bad {i}"))
    assert alerts.close()
    assert (alerts.stats.sent, alerts.stats.failed, alerts.stats.retried) == (0, 3, 6)


def test_duplicates_are_sent_once_and_counted(webhook: Webhook) -> None:
    clock = Clock()
    alerts = manager(slack=SlackWebhook(webhook.url), clock=clock, dedup_window=300)
    error = ConnectionError("gateway lost")
    assert alerts.alert_on_error(error)
    assert not alerts.alert_on_error(error)
    assert not alerts.alert_on_error(ConnectionError("gateway lost"))
    assert alerts.alert_on_error(ConnectionError("another message"))
    clock.now += 301  # the window has passed: the next one goes, with the count of repeats
    assert alerts.alert_on_error(error)
    assert alerts.close()
    assert alerts.stats.deduplicated == 2
    assert [b["text"] for b in webhook.bodies()] == [
        "ConnectionError: gateway lost",
        "ConnectionError: another message",
        "ConnectionError: gateway lost (2 similar alerts suppressed)",
    ]


def test_rate_limit(webhook: Webhook) -> None:
    clock = Clock()
    alerts = manager(slack=SlackWebhook(webhook.url), clock=clock, rate_limit=3, rate_window=60)
    sent = [alerts.send_slack(f"n{i}") for i in range(5)]
    assert sent == [True, True, True, False, False]
    clock.now += 30
    assert not alerts.send_slack("still limited")
    clock.now += 31  # the first three are now out of the window
    assert alerts.send_slack("n5")
    assert alerts.close()
    assert alerts.stats.rate_limited == 3
    assert [b["text"] for b in webhook.bodies()] == ["n0", "n1", "n2", "n5"]


def test_drawdown_and_events(webhook: Webhook) -> None:
    with manager(slack=SlackWebhook(webhook.url)) as alerts:
        assert not alerts.alert_on_drawdown(0.03, 0.05)
        assert alerts.alert_on_drawdown(-0.06, 0.05)
        alerts.on_event({"kind": "fill", "fill": FILL})
        alerts.on_event(TimeoutError("order ack late"))
        alerts.on_event({"kind": "heartbeat"})  # not an alert
        assert alerts.close()
    assert [b["text"] for b in webhook.bodies()] == [
        "Drawdown is 6.00%, at or beyond the 5.00% threshold.",
        trade_alert(FILL).message,
        "TimeoutError: order ack late",
    ]
    with pytest.raises(ValueError, match="threshold"):
        alerts.alert_on_drawdown(0.1, 0)


def test_no_channel_configured_is_counted() -> None:
    alerts = AlertManager(AlertConfig())
    assert not alerts.send_slack("nowhere")
    assert not alerts.alert_on_error("nowhere either")
    assert alerts.close()
    assert alerts.stats.unrouted == 2


# --------------------------------------------------------------------------- SMTP tests
def test_email_delivered_to_a_real_smtp_server(mailhost: Mailhost) -> None:
    with manager(email=mailhost.channel()) as alerts:
        assert alerts.send_email("Daily P&L", "Net +125.00 USD on 3 trades.", RECIPIENT)
        assert alerts.alert_on_error(RuntimeError("risk limit hit"))  # default recipient
        assert alerts.close()
    assert alerts.stats.sent == 2, alerts.stats
    (env1, msg1), (env2, msg2) = mailhost.inbox.messages
    assert env1.mail_from == SENDER
    assert env1.rcpt_tos == [RECIPIENT]
    assert msg1["Subject"] == "Daily P&L"
    assert msg1["From"] == SENDER
    assert msg1["To"] == RECIPIENT
    assert body(msg1).strip() == "Net +125.00 USD on 3 trades."
    expected = error_alert(RuntimeError("risk limit hit"))
    assert msg2["Subject"] == expected.subject == "Error: RuntimeError: risk limit hit"
    assert body(msg2).strip() == expected.message
    assert env2.rcpt_tos == [RECIPIENT]
    if mailhost.mode != "plain":
        assert mailhost.inbox.logins == [SMTP_USER, SMTP_USER]


def test_wrong_smtp_password_fails_without_retry(
    tls: tuple[ssl.SSLContext, ssl.SSLContext],
) -> None:
    inbox = Inbox()
    port = closed_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=authenticator,
        auth_required=True,
        tls_context=tls[0],
        require_starttls=True,
    )
    controller.start()
    try:
        host = Mailhost(inbox, port, "starttls", tls[1])
        alerts = manager(email=host.channel(password="wrong"), retries=3)
        alerts.send_email("s", "b", RECIPIENT)
        assert alerts.close()
    finally:
        controller.stop()
    assert inbox.messages == []
    assert (alerts.stats.failed, alerts.stats.retried) == (1, 0)


# --------------------------------------------------------------------------- secrets
def send_one(channel: SlackWebhook | SmtpChannel) -> None:
    if isinstance(channel, SlackWebhook):
        channel.send("x")
    else:
        channel.send("s", "b", RECIPIENT)


def test_secrets_never_reach_logs_errors_or_reprs(
    webhook: Webhook,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    tls: tuple[ssl.SSLContext, ssl.SSLContext],
) -> None:
    caplog.set_level(logging.DEBUG)
    webhook.statuses[:] = [500, 500, 500]
    monkeypatch.setenv("WORKBENCH_SLACK_WEBHOOK_URL", webhook.url)
    monkeypatch.setenv("WORKBENCH_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("WORKBENCH_SMTP_PORT", str(closed_port()))
    monkeypatch.setenv("WORKBENCH_SMTP_USER", SMTP_USER)
    monkeypatch.setenv("WORKBENCH_SMTP_PASSWORD", SMTP_PASSWORD)
    monkeypatch.setenv("WORKBENCH_SMTP_SENDER", SENDER)
    monkeypatch.setenv("WORKBENCH_ALERT_EMAIL_TO", RECIPIENT)
    config = AlertConfig.from_env()
    assert config.slack_webhook_url == Secret(webhook.url)
    assert config.smtp_starttls is False  # not port 587
    alerts = AlertManager(config, retries=2, backoff=0.01)
    # an error whose text carries the secrets must be redacted on its way out too
    alerts.alert_on_error(RuntimeError(f"failed posting to {webhook.url} ({SMTP_PASSWORD})"))
    assert alerts.close()
    assert alerts.stats.failed == 2  # slack: three 500s; e-mail: nobody listening

    errors: list[str] = []
    for channel in (SlackWebhook(webhook.url), config.email()):
        assert channel is not None
        webhook.statuses[:] = [500]
        with pytest.raises(DeliveryError) as info:  # a direct call, for the exception text
            send_one(channel)
        errors += [str(info.value), repr(info.value)]
    bad_url = SlackWebhook(f"http://127.0.0.1:{closed_port()}/services/{HOOK_TOKEN}")
    with pytest.raises(DeliveryError) as info:
        bad_url.send("x")
    errors += [str(info.value), repr(info.value)]

    texts = [r.getMessage() for r in caplog.records] + [
        caplog.text,
        repr(config),
        str(config),
        repr(alerts),
        repr(alerts.stats),
        repr(config.slack()),
        repr(config.email()),
        *errors,
    ]
    token = HOOK_TOKEN.rsplit("/", 1)[1]
    assert any("not delivered" in t for t in texts)  # the failures were logged ...
    for text in texts:  # ... without the secrets
        assert token not in text, text
        assert SMTP_PASSWORD not in text, text
    sent = [b["text"] for b in webhook.bodies()]
    assert sent
    assert all(token not in t and SMTP_PASSWORD not in t for t in sent)
    assert "failed posting to *** (***)" in sent[0]
    assert "HTTP 500" in " ".join(errors)
    assert "connection refused" in " ".join(errors)


def test_bad_environment_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKBENCH_SMTP_PORT", "five-eight-seven")
    with pytest.raises(ConfigError, match="WORKBENCH_SMTP_PORT"):
        AlertConfig.from_env()
    monkeypatch.setenv("WORKBENCH_SMTP_PORT", "587")
    monkeypatch.setenv("WORKBENCH_SMTP_STARTTLS", "maybe")
    with pytest.raises(ConfigError, match="WORKBENCH_SMTP_STARTTLS"):
        AlertConfig.from_env()
