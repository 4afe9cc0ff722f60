"""E-mail backends for delivery tests: the edge we cannot run here is a misbehaving SMTP server, so these
raise what smtplib raises."""

import smtplib

from django.core.mail.backends.base import BaseEmailBackend


class DisconnectingBackend(BaseEmailBackend):
    """The server accepts the connection and drops it during the message."""

    def send_messages(self, email_messages):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


class UnreachableBackend(BaseEmailBackend):
    """No server listening."""

    def open(self):
        raise ConnectionRefusedError(111, "Connection refused")

    def send_messages(self, email_messages):
        raise AssertionError("send_messages must not be called when open() failed")
