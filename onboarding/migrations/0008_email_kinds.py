"""An email says what it tells (its kind) and links to what caused it; its key is made from
those and the recipient. Existing emails get their kind and links from their old keys (a
campaign message's from its CampaignMessage row), and a key in the new form.

The keys stay new when migrating back: no event that already has its email sends it again."""

import hashlib
import re

import django.db.models.deletion
from django.db import migrations, models

# The keys as the code before this migration wrote them, and what they name.
OLD_KEYS = [
    (re.compile(r"receipt:(?P<registration>\d+)$"), "receipt"),
    (re.compile(r"review:(?P<registration>\d+):"), "to_review"),
    (re.compile(r"decision:(?P<registration>\d+):"), "decision"),
    (
        re.compile(r"campaign:(?P<campaign>\d+):(?P<organisation>\d+):(?P<step>[^:]+):"),
        "campaign",
    ),
    (re.compile(r"campaign-summary:(?P<campaign>\d+):"), "campaign_summary"),
    (
        re.compile(r"terms-changed:(?P<terms_version>\d+):(?P<organisation>\d+):"),
        "terms_changed",
    ),
]
CAUSES = ("registration", "campaign", "terms_version", "organisation")  # the key's order
CAUSE_MODELS = {
    "registration": "Registration",
    "campaign": "AcceptanceCampaign",
    "terms_version": "TermsVersion",
    "organisation": "Organisation",
}


def parse(key: str, message) -> tuple[str, dict[str, int], str] | None:
    """(kind, cause ids, step) that an old key names; None for a key of no known form."""
    for pattern, kind in OLD_KEYS:
        match = pattern.match(key)
        if match is None:
            continue
        parts = match.groupdict()
        step = parts.pop("step", "")
        if kind == "campaign" and message is not None:  # its row says it without parsing
            parts = {"campaign": message.campaign_id, "organisation": message.organisation_id}
            step = message.step
        if kind == "campaign":
            kind = {"invitation": "campaign_invitation", "lapsed": "campaign_lapsed"}.get(
                step, "campaign_reminder"
            )
        return kind, {name: int(pk) for name, pk in parts.items()}, step
    return None


def new_key(kind: str, cause: dict[str, int], step: str, to: str) -> str:
    """As `onboarding.emails.email_key` made it when this migration was written."""
    ids = [str(cause[name]) for name in CAUSES if cause.get(name) is not None]
    steps = [step] if kind == "campaign_reminder" else []
    key = ":".join([kind, *ids, *steps, to.lower()])
    if len(key) <= 200:
        return key
    return f"{key[:135]}#{hashlib.sha256(key.encode()).hexdigest()}"


def fill_kinds_and_causes(apps, schema_editor):
    OutgoingEmail = apps.get_model("onboarding", "OutgoingEmail")
    CampaignMessage = apps.get_model("onboarding", "CampaignMessage")
    messages = {message.email_id: message for message in CampaignMessage.objects.all()}
    existing = {
        name: set(apps.get_model("onboarding", model).objects.values_list("pk", flat=True))
        for name, model in CAUSE_MODELS.items()
    }
    keys = set(OutgoingEmail.objects.values_list("key", flat=True))
    changed = []
    for email in OutgoingEmail.objects.order_by("pk").iterator(chunk_size=2000):
        parsed = parse(email.key, messages.get(email.pk))
        if parsed is None:
            continue
        kind, cause, step = parsed
        email.kind = kind
        for name, pk in cause.items():
            if pk in existing[name]:  # a cause deleted since is not linked
                setattr(email, f"{name}_id", pk)
        key = new_key(kind, cause, step, email.to)
        if key not in keys:  # two old keys could name one new (e-mail case): keep the old
            keys.discard(email.key)
            keys.add(key)
            email.key = key
        changed.append(email)
    OutgoingEmail.objects.bulk_update(changed, ["kind", "key", *CAUSES], batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [
        ("onboarding", "0007_campaign_names"),
    ]

    operations = [
        migrations.AddField(
            model_name="outgoingemail",
            name="kind",
            field=models.CharField(
                choices=[
                    ("receipt", "Receipt of a notification"),
                    ("to_review", "Notification to review"),
                    ("decision", "Decision on a notification"),
                    ("campaign_invitation", "Campaign invitation"),
                    ("campaign_reminder", "Campaign reminder"),
                    ("campaign_lapsed", "Campaign lapse notice"),
                    ("campaign_summary", "Campaign summary"),
                    ("terms_changed", "Terms of use changed"),
                ],
                default="",
                max_length=32,
                verbose_name="kind",
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="outgoingemail",
            name="registration",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="emails",
                to="onboarding.registration",
                verbose_name="notification",
            ),
        ),
        migrations.AddField(
            model_name="outgoingemail",
            name="campaign",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="emails",
                to="onboarding.acceptancecampaign",
                verbose_name="acceptance campaign",
            ),
        ),
        migrations.AddField(
            model_name="outgoingemail",
            name="terms_version",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="emails",
                to="onboarding.termsversion",
                verbose_name="terms of use version",
            ),
        ),
        migrations.AddField(
            model_name="outgoingemail",
            name="organisation",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="emails",
                to="onboarding.organisation",
                verbose_name="organisation",
            ),
        ),
        migrations.RunPython(fill_kinds_and_causes, migrations.RunPython.noop),
    ]
