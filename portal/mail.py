"""Django's SMTP backend with its connection kept open between emails.

The outbox sends one email per Celery task (onboarding/tasks.py). With Django's own backend
each of them opened a connection of its own: a TCP and TLS handshake, a greeting, EHLO and a
login per email, several times the cost of the message itself at a campaign's thousands. Here
each thread (a worker process, or a thread of one) keeps its connection for the next email to
the same server. Before it is used again, a NOOP checks it is still open (a relay closes idle
connections); a connection that answers otherwise, or that any send failed on, is dropped and
the next email opens a new one. What the outbox records of each email does not change: a
refusal or a dropped line is still that email's try, retried as before.
"""

from __future__ import annotations

import smtplib
import threading

from django.core.mail.backends.smtp import EmailBackend

_kept = threading.local()


class KeptOpenEmailBackend(EmailBackend):
    def _server(self) -> tuple:
        """What a kept connection must match to be used again."""
        return (self.host, self.port, self.username, self.use_tls, self.use_ssl)

    def open(self) -> bool | None:
        if self.connection is None:
            self.connection = _take_kept(self._server())
        if self.connection is not None:
            return False  # never closed by send_messages: see close()
        opened = super().open()
        return None if opened is None else False

    def close(self) -> None:
        """Kept for the next email instead of closed (`close_kept` closes it)."""
        if self.connection is not None:
            _kept.server, _kept.connection = self._server(), self.connection
            self.connection = None

    def send_messages(self, email_messages) -> int:
        try:
            sent = super().send_messages(email_messages)
        except BaseException:
            # The line is in an unknown state (refused mid-message, dropped, timed out).
            _quit(self.connection)
            self.connection = None
            raise
        self.close()
        return sent


def _take_kept(server: tuple) -> smtplib.SMTP | None:
    """This thread's kept connection to `server`, if it still answers; None otherwise."""
    connection = getattr(_kept, "connection", None)
    _kept.connection = None
    if connection is None:
        return None
    if _kept.server == server:
        try:
            if connection.noop()[0] == 250:
                return connection
        except (smtplib.SMTPException, OSError):
            pass
    _quit(connection)
    return None


def _quit(connection: smtplib.SMTP | None) -> None:
    if connection is None:
        return
    try:
        connection.quit()
    except (smtplib.SMTPException, OSError):
        connection.close()


def close_kept() -> None:
    """Say goodbye to the server on this thread's kept connection (a worker shutting down)."""
    _quit(getattr(_kept, "connection", None))
    _kept.connection = None
