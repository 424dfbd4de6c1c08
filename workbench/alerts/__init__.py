"""Alerts: Slack and e-mail from a background thread, deduplicated and rate-limited.

``AlertManager`` listens to execution events (``engine`` takes any callable; pass
``manager.on_event``); execution never imports this package.
"""

from __future__ import annotations

from workbench.alerts.channels import DeliveryError, Secret, SlackWebhook, SmtpChannel
from workbench.alerts.manager import AlertConfig, AlertManager, AlertStats
from workbench.alerts.rules import (
    Alert,
    Deduplicator,
    DrawdownRule,
    RateLimiter,
    Severity,
    drawdown_alert,
    error_alert,
    trade_alert,
)

__all__ = [
    "Alert",
    "AlertConfig",
    "AlertManager",
    "AlertStats",
    "Deduplicator",
    "DeliveryError",
    "DrawdownRule",
    "RateLimiter",
    "Secret",
    "Severity",
    "SlackWebhook",
    "SmtpChannel",
    "drawdown_alert",
    "error_alert",
    "trade_alert",
]
