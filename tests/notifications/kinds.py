"""Notification kinds that exist only in tests (product kinds are registered by the apps that own them)."""

from notifications import api

DEMO = "demo.event"  # e-mailed right away by default
DAILY = "demo.daily"  # daily digest by default
QUIET = "demo.quiet"  # no e-mail by default
STAFF = "demo.staff"  # staff only


def register_demo_kinds() -> None:
    api.register_kind(DEMO, label="Demo events", description="Something happened in a test.")
    api.register_kind(DAILY, label="Demo daily news", default_email=api.EMAIL_DIGEST)
    api.register_kind(QUIET, label="Demo quiet news", default_email=api.EMAIL_NONE)
    api.register_kind(STAFF, label="Demo staff alerts", staff_only=True)
