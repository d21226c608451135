"""Names that say what they hold: a campaign's audience (a choice) and its targets (rows); a
campaign message is its invitation, a reminder or the lapse notice."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("onboarding", "0006_one_waiting_notification"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="acceptancecampaign", name="campaign_once_per_version_and_targets"
        ),
        migrations.RenameField(
            model_name="acceptancecampaign", old_name="targets", new_name="audience"
        ),
        migrations.RenameModel(old_name="Reminder", new_name="CampaignMessage"),
        migrations.RemoveConstraint(
            model_name="campaignmessage", name="reminder_once_per_step_and_recipient"
        ),
        migrations.AlterModelOptions(
            name="campaignmessage",
            options={
                "ordering": ["campaign", "organisation", "created_at"],
                "verbose_name": "campaign message",
                "verbose_name_plural": "campaign messages",
            },
        ),
        migrations.AlterField(
            model_name="acceptancecampaign",
            name="audience",
            field=models.CharField(
                choices=[
                    ("legacy", "Members with a joining agreement (migration)"),
                    ("members", "Every member (re-acceptance)"),
                ],
                max_length=16,
                verbose_name="audience",
            ),
        ),
        migrations.AlterField(
            model_name="campaignmessage",
            name="campaign",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="messages",
                to="onboarding.acceptancecampaign",
                verbose_name="campaign",
            ),
        ),
        migrations.AlterField(
            model_name="campaignmessage",
            name="email",
            field=models.OneToOneField(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="campaign_message",
                to="onboarding.outgoingemail",
                verbose_name="email",
            ),
        ),
        migrations.AlterField(
            model_name="campaignmessage",
            name="organisation",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="campaign_messages",
                to="onboarding.organisation",
                verbose_name="organisation",
            ),
        ),
        migrations.AlterField(
            model_name="campaigntarget",
            name="campaign",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="targets",
                to="onboarding.acceptancecampaign",
                verbose_name="campaign",
            ),
        ),
        migrations.AddConstraint(
            model_name="acceptancecampaign",
            constraint=models.UniqueConstraint(
                fields=("terms_version", "audience"),
                name="campaign_once_per_version_and_audience",
                violation_error_message="This version already has a campaign for this audience.",
            ),
        ),
        migrations.AddConstraint(
            model_name="campaignmessage",
            constraint=models.UniqueConstraint(
                fields=("campaign", "organisation", "step", "recipient"),
                name="campaign_message_once_per_step_and_recipient",
            ),
        ),
    ]
