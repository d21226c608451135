"""A reminder run to many organisations, two administrative contacts each, one step due.

Measured in one run, to an SMTP sink on loopback (aiosmtpd, in this process):
(a) the baseline: a bare smtplib loop sending the same number of messages, of the same size,
    over one connection;
(b) the reminder run (`reminders_send_due`): the outbox written, one email per contact;
(c) sending every one of them through the real send path, `outgoing_email_send` per email as
    the worker does (in process here, without Celery);
and the database queries of b and c. Run at 1,000 and 10,000 organisations (BENCH_REMINDERS
chooses the sizes, e.g. `BENCH_REMINDERS=1000`), to show what the queries grow with.
Each size is timed once: a reminder step is sent once.
"""

from __future__ import annotations

import os
import smtplib
import ssl
import tempfile
import time
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Address
from pathlib import Path

from bench.public_pages import free_port

SIZES = [int(n) for n in os.environ.get("BENCH_REMINDERS", "1000,10000").split(",") if n]


class _Sink:
    """Accepts every message and counts them."""

    def __init__(self) -> None:
        self.messages = 0

    async def handle_DATA(self, server, session, envelope) -> str:
        self.messages += 1
        return "250 OK"


def _seed(size: int, first: int, effective_from):
    """`size` legacy members (numbered from `first`), two administrative contacts each, and a
    campaign launched five days ago whose 7-day reminder falls due today."""
    from django.db.models import F
    from django.utils import timezone

    from bench import education_providers
    from onboarding.models import (
        AcceptanceCampaign,
        CampaignMessage,
        ContactPerson,
        Organisation,
        OutgoingEmail,
    )
    from onboarding.services.campaigns import campaign_create, campaign_launch
    from tests.factories import published_terms

    # Earlier sizes' members and campaigns are done with: each size has its own.
    Organisation.objects.filter(membership="legacy_contract").update(membership="lapsed")
    AcceptanceCampaign.objects.update(lapsed_at=timezone.now())
    # Published before the members exist: its announcement goes to none of them.
    terms = published_terms(
        version=f"bench-{first}",
        effective_from=effective_from,
    )
    organisations = education_providers(
        range(first, first + size),
        oid_base=20_000_000_000,
        membership=lambda _n: "legacy_contract",
    )
    ContactPerson.objects.bulk_create(
        ContactPerson(
            organisation=organisation,
            name=f"Yhteys Henkilö {organisation.pk}-{c}",
            email=f"rehtori.{c}@koulutustoimija{organisation.pk}.fi",
            phone="+358401234567",
            role="administrative",
            language=["fi", "sv"][c],
        )
        for organisation in organisations
        for c in range(2)
    )
    campaign = campaign_create(
        terms_version=terms,
        deadline=timezone.localdate() + timedelta(days=7),
        audience="legacy",
        offsets=[7],
    )
    campaign_launch(campaign_id=campaign.pk)
    # As if launched and invited five days ago, the invitations sent then.
    AcceptanceCampaign.objects.filter(pk=campaign.pk).update(
        launched_at=F("launched_at") - timedelta(days=5)
    )
    CampaignMessage.objects.filter(campaign=campaign).update(
        created_at=F("created_at") - timedelta(days=5)
    )
    OutgoingEmail.objects.filter(status="queued").update(status="sent", sent_at=timezone.now())


def _tls_context(directory: Path) -> ssl.SSLContext:
    """The sink's STARTTLS context, with a certificate for 127.0.0.1 made for this run and
    trusted by this process's clients (SSL_CERT_FILE: Django's and the bare loop's)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(IPv4Address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "sink.pem", directory / "sink.key"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    os.environ["SSL_CERT_FILE"] = str(cert_file)
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_file, key_file)
    return server


def _bare_loop(port: int, messages: list[tuple[str, str, bytes]]) -> float:
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        smtp.starttls(context=ssl.create_default_context())
        for sender, recipient, data in messages:
            smtp.sendmail(sender, [recipient], data)
    return time.perf_counter() - started


def _one_size(size: int, first: int, port: int, sink: _Sink) -> dict:
    from django.core.mail import EmailMultiAlternatives
    from django.test.utils import override_settings
    from django.utils import timezone

    from bench import timed
    from onboarding.models import OutgoingEmail
    from onboarding.services.campaigns import reminders_send_due
    from onboarding.services.outgoing_emails import outgoing_email_send
    from portal.mail import close_kept

    setup_started = time.perf_counter()
    # Each size's version takes effect after the last one's, all by today.
    effective_from = timezone.localdate() - timedelta(days=len(SIZES) - SIZES.index(size))
    _seed(size, first, effective_from)
    setup = time.perf_counter() - setup_started

    write_s, write_q, planned = timed(reminders_send_due)
    queued = list(
        OutgoingEmail.objects.filter(status="queued").order_by("pk").values_list("pk", flat=True)
    )
    assert len(planned) == len(queued) == 2 * size, (len(planned), len(queued))

    # The baseline's messages: the same emails as the send path makes them, as bytes.
    messages = []
    for email in OutgoingEmail.objects.filter(pk__in=queued).iterator():
        message = EmailMultiAlternatives(email.subject, email.body_text, to=[email.to])
        if email.body_html:
            message.attach_alternative(email.body_html, "text/html")
        messages.append((message.from_email, email.to, message.message().as_bytes(linesep="\r\n")))
    received = sink.messages
    bare = _bare_loop(port, messages)
    assert sink.messages - received == len(messages)

    def send_all():
        for email_id in queued:
            outgoing_email_send(email_id=email_id)

    received = sink.messages
    with override_settings(EMAIL_BACKEND="portal.mail.KeptOpenEmailBackend"):
        send_s, send_q, _ = timed(send_all)
    close_kept()
    assert sink.messages - received == len(queued)
    assert not OutgoingEmail.objects.filter(pk__in=queued).exclude(status="sent").exists()

    # The same again with Django's own backend, a connection per email, as before portal.mail
    # (the emails queued again, for the measurement only).
    OutgoingEmail.objects.filter(pk__in=queued).update(
        status="queued", attempts=0, sent_at=None, next_attempt_at=timezone.now()
    )
    received = sink.messages
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend"):
        django_s, _q, _ = timed(send_all)
    assert sink.messages - received == len(queued)
    return {
        "django_backend": django_s,
        "organisations": size,
        "emails": len(queued),
        "setup": setup,
        "bare": bare,
        "write": write_s,
        "write_q": write_q,
        "send": send_s,
        "send_q": send_q,
        "bytes": sum(len(m[2]) for m in messages) // len(messages),
    }


def run() -> None:
    import logging

    from aiosmtpd.controller import Controller
    from django.test.utils import override_settings

    from portal.celery import app

    # Tasks go to the broker, as in production (the memory broker's default is eager), and are
    # not consumed: the sending is timed on its own, through the same service the task calls.
    app.conf.task_always_eager = False
    sink = _Sink()
    port = free_port()
    certificates = tempfile.TemporaryDirectory()
    controller = Controller(
        sink,
        hostname="127.0.0.1",
        port=port,
        server_hostname="sink.localhost",
        tls_context=_tls_context(Path(certificates.name)),
        require_starttls=True,  # as production's relay: EMAIL_URL=smtp+tls://
    )
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    controller.start()
    results = []
    try:
        with override_settings(
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=port,
            EMAIL_USE_TLS=True,
            EMAIL_USE_SSL=False,
            EMAIL_HOST_USER="",
            EMAIL_HOST_PASSWORD="",
        ):
            print(
                "A reminder run (one step due, two contacts per organisation) to an SMTP sink "
                "on loopback, with STARTTLS"
            )
            print(
                f"{'organisations':>13}  {'emails':>6}  {'size':>6}  {'(a) bare smtplib':>16}  "
                f"{'(b) write':>9}  {'(c) send':>9}  {'b+c':>9}  {'(b+c)/a':>7}  {'c/a':>5}  "
                f"{'queries b':>9}  {'queries c':>9}  {'setup':>7}",
                flush=True,
            )
            first = 0
            for size in SIZES:
                results.append(_one_size(size, first, port, sink))
                _print_row(results[-1])  # at once: the next size takes long
                first += size
    finally:
        controller.stop()
        certificates.cleanup()
    print("(c) again with Django's own SMTP backend, a new connection per email:")
    for r in results:
        print(
            f"at {r['organisations']:,}: {r['django_backend']:.2f} s, "
            f"{r['django_backend'] / r['bare']:.1f}× the bare loop "
            f"(c: {r['send'] / r['bare']:.1f}×)"
        )
    for r in results:
        print(
            f"at {r['organisations']:,}: {r['write_q'] / r['organisations']:.1f} queries per "
            f"organisation to write, {r['send_q'] / r['emails']:.1f} per email to send"
        )


def _print_row(r: dict) -> None:
    total = r["write"] + r["send"]
    print(
        f"{r['organisations']:>13,}  {r['emails']:>6,}  {r['bytes']:>5,}B  "
        f"{r['bare']:>14.2f} s  {r['write']:>7.2f} s  {r['send']:>7.2f} s  {total:>7.2f} s  "
        f"{total / r['bare']:>6.1f}×  {r['send'] / r['bare']:>4.1f}×  "
        f"{r['write_q']:>9,}  {r['send_q']:>9,}  {r['setup']:>5.1f} s",
        flush=True,
    )


if __name__ == "__main__":
    from bench import run_alone

    run_alone(run)
