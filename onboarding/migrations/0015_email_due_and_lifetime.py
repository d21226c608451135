"""An email's due time (`next_attempt_at`) and lifetime (`expires_at`), and the status of an
email that expired unsent. The queued emails are given the time their next try was due."""

from datetime import timedelta

import django.utils.timezone
from django.db import migrations, models


def due_times(apps, schema_editor):
    """Never tried: due since it was written. Refused for now: due after the wait that follows
    its last try (30 s doubling, at most 5 minutes, as `retry_delay` says today)."""
    OutgoingEmail = apps.get_model("onboarding", "OutgoingEmail")
    for email in OutgoingEmail.objects.filter(status="queued").iterator():
        if email.attempts and email.last_attempt_at:
            wait = min(30 * 2 ** min(email.attempts - 1, 10), 300)
            email.next_attempt_at = email.last_attempt_at + timedelta(seconds=wait)
        else:
            email.next_attempt_at = email.created_at
        email.save(update_fields=["next_attempt_at"])


class Migration(migrations.Migration):
    dependencies = [
        ("onboarding", "0014_evidence_chain"),
    ]

    operations = [
        migrations.AddField(
            model_name="outgoingemail",
            name="expires_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="expires"),
        ),
        migrations.AddField(
            model_name="outgoingemail",
            name="next_attempt_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="next attempt"),
        ),
        migrations.RunPython(due_times, migrations.RunPython.noop, elidable=True),
        migrations.AlterField(
            model_name="outgoingemail",
            name="next_attempt_at",
            field=models.DateTimeField(
                blank=True,
                default=django.utils.timezone.now,
                null=True,
                verbose_name="next attempt",
            ),
        ),
        migrations.AlterField(
            model_name="outgoingemail",
            name="status",
            field=models.CharField(
                choices=[
                    ("queued", "Queued"),
                    ("sent", "Sent"),
                    ("failed", "Failed"),
                    ("expired", "Expired"),
                ],
                default="queued",
                max_length=16,
                verbose_name="status",
            ),
        ),
        migrations.AddIndex(
            model_name="outgoingemail",
            index=models.Index(
                condition=models.Q(("status", "queued")),
                fields=["next_attempt_at"],
                name="onboarding_email_due",
            ),
        ),
        migrations.AddConstraint(
            model_name="outgoingemail",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("status", "queued"), _negated=True),
                    ("next_attempt_at__isnull", False),
                    _connector="OR",
                ),
                name="onboarding_queued_email_is_due",
            ),
        ),
    ]
