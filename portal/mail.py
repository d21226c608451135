"""Django's SMTP backend with its connection kept open between emails.

The outbox sends one email per Celery task (onboarding/tasks.py). With Django's own backend
each of them opened a connection of its own: a TCP and TLS handshake, a greeting, EHLO and a
login per email, more than the message itself costs at a campaign's thousands. Here each
thread (a worker process, or a thread of one) keeps its connection for the next email to the
same server, under three limits:
- a connection idle for more than KEPT_IDLE is closed, not tried (a relay or a firewall may
  have dropped it silently);
- one that has carried KEPT_EMAILS emails is closed (relays cap the messages per connection;
  Exchange's default is 20), so the cap never turns an email into a refused try;
- before each reuse a NOOP, with a short timeout, checks that the server still answers;
and one that any send failed on is dropped. What the outbox records of each email does not
change: a refusal or a dropped line is that email's try, retried as before.
"""

from __future__ import annotations

import smtplib
import threading
import time
from dataclasses import dataclass

from django.core.mail.backends.smtp import EmailBackend

KEPT_IDLE = 30  # seconds
KEPT_EMAILS = 20
#: Seconds to wait for the answer to a NOOP or a goodbye: a server that does not answer at once
#: is replaced, not waited for.
QUICK_TIMEOUT = 5


@dataclass
class _Kept:
    server: tuple
    connection: smtplib.SMTP
    emails: int
    used_at: float


_thread = threading.local()


class KeptOpenEmailBackend(EmailBackend):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._emails = 0  # carried by self.connection so far

    def _server(self) -> tuple:
        """What a kept connection must match to be used again."""
        return (
            self.host,
            self.port,
            self.username,
            self.password,
            self.use_tls,
            self.use_ssl,
            self.ssl_certfile,
            self.ssl_keyfile,
            self.timeout,
        )

    def open(self) -> bool | None:
        if self.connection is None:
            self.connection, self._emails = _take_kept(self._server())
        if self.connection is not None:
            return False  # never closed by send_messages: see close()
        self._emails = 0
        opened = super().open()
        return None if opened is None else False

    def close(self) -> None:
        """Kept for the next email instead of closed (`close_kept` closes it)."""
        if self._partial_connection is not None:  # a failed STARTTLS or login
            _quit(self._partial_connection)
            self._partial_connection = None
        if self.connection is not None:
            _keep(_Kept(self._server(), self.connection, self._emails, time.monotonic()))
            self.connection = None

    def send_messages(self, email_messages) -> int:
        try:
            sent = super().send_messages(email_messages)
        except BaseException:
            # The line is in an unknown state (refused mid-message, dropped, timed out).
            _quit(self.connection)
            self.connection = None
            self.close()
            raise
        self._emails += sent
        self.close()
        return sent


def _keep(kept: _Kept) -> None:
    close_kept()  # another backend's, in this thread
    if kept.emails < KEPT_EMAILS:
        _thread.kept = kept
    else:
        _quit(kept.connection)


def _take_kept(server: tuple) -> tuple[smtplib.SMTP | None, int]:
    """This thread's kept connection to `server` and the emails it carried, if it may carry
    more and still answers; (None, 0) otherwise."""
    kept: _Kept | None = getattr(_thread, "kept", None)
    _thread.kept = None
    if kept is None:
        return None, 0
    if kept.server == server and time.monotonic() - kept.used_at <= KEPT_IDLE:
        try:
            kept.connection.sock.settimeout(QUICK_TIMEOUT)
            answered = kept.connection.noop()[0] == 250
            kept.connection.sock.settimeout(kept.server[-1])
        except (smtplib.SMTPException, OSError, AttributeError):
            answered = False
        if answered:
            return kept.connection, kept.emails
    _quit(kept.connection)
    return None, 0


def _quit(connection: smtplib.SMTP | None) -> None:
    if connection is None:
        return
    try:
        if connection.sock is not None:
            connection.sock.settimeout(QUICK_TIMEOUT)
        connection.quit()
    except (smtplib.SMTPException, OSError):
        connection.close()


def close_kept() -> None:
    """Say goodbye on this thread's kept connection (a worker process shutting down)."""
    kept: _Kept | None = getattr(_thread, "kept", None)
    _thread.kept = None
    if kept is not None:
        _quit(kept.connection)
