"""What OPH's organisation registry said about each OID (with history), the weekly checks of
the members, and their staff summary email (a kind, and the check as its cause)."""

import django.db.models.deletion
import django.utils.timezone
import onboarding.identifiers
import simple_history.models
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('onboarding', '0008_email_kinds'),
    ]

    operations = [
        migrations.CreateModel(
            name='RegistryCheck',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('started_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='started')),
                ('finished_at', models.DateTimeField(blank=True, null=True, verbose_name='finished')),
                ('checked', models.PositiveIntegerField(default=0, verbose_name='answered')),
                ('failed', models.PositiveIntegerField(default=0, verbose_name='failed')),
                ('stopped', models.CharField(blank=True, choices=[('off', "Lookups in OPH's organisation service are off."), ('timeout', "OPH's organisation service did not answer in time."), ('unreachable', "OPH's organisation service could not be reached."), ('server_error', "OPH's organisation service had an error."), ('bad_answer', "OPH's organisation service gave an answer the portal cannot read.")], max_length=16, verbose_name='stopped early because')),
            ],
            options={
                'verbose_name': 'registry check',
                'verbose_name_plural': 'registry checks',
                'ordering': ['-started_at'],
            },
        ),
        migrations.CreateModel(
            name='RegistryEntry',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('oid', models.CharField(max_length=64, unique=True, validators=[onboarding.identifiers.organisation_oid_validator], verbose_name='organisation OID')),
                ('found', models.BooleanField(default=False, verbose_name='found in the registry')),
                ('name_fi', models.TextField(blank=True, verbose_name='name in Finnish')),
                ('name_sv', models.TextField(blank=True, verbose_name='name in Swedish')),
                ('name_en', models.TextField(blank=True, verbose_name='name in English')),
                ('business_id', models.TextField(blank=True, verbose_name='business ID')),
                ('types', models.JSONField(blank=True, default=list, verbose_name='organisation types')),
                ('status', models.CharField(blank=True, max_length=32, verbose_name='status in the registry')),
                ('closed_on', models.DateField(blank=True, null=True, verbose_name='closing date')),
                ('parent_oids', models.JSONField(blank=True, default=list, verbose_name='parent organisations')),
                ('checked_at', models.DateTimeField(blank=True, null=True, verbose_name='verified at OPH')),
                ('last_failure', models.CharField(blank=True, choices=[('off', "Lookups in OPH's organisation service are off."), ('timeout', "OPH's organisation service did not answer in time."), ('unreachable', "OPH's organisation service could not be reached."), ('server_error', "OPH's organisation service had an error."), ('bad_answer', "OPH's organisation service gave an answer the portal cannot read.")], max_length=16, verbose_name='last failure')),
                ('last_failure_at', models.DateTimeField(blank=True, null=True, verbose_name='last failure at')),
            ],
            options={
                'verbose_name': 'registry entry',
                'verbose_name_plural': 'registry entries',
                'ordering': ['oid'],
            },
        ),
        migrations.AlterField(
            model_name='outgoingemail',
            name='kind',
            field=models.CharField(choices=[('receipt', 'Receipt of a notification'), ('to_review', 'Notification to review'), ('decision', 'Decision on a notification'), ('campaign_invitation', 'Campaign invitation'), ('campaign_reminder', 'Campaign reminder'), ('campaign_lapsed', 'Campaign lapse notice'), ('campaign_summary', 'Campaign summary'), ('terms_changed', 'Terms of use changed'), ('registry_summary', 'Registry check summary')], max_length=32, verbose_name='kind'),
        ),
        migrations.CreateModel(
            name='HistoricalRegistryEntry',
            fields=[
                ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                ('oid', models.CharField(db_index=True, max_length=64, validators=[onboarding.identifiers.organisation_oid_validator], verbose_name='organisation OID')),
                ('found', models.BooleanField(default=False, verbose_name='found in the registry')),
                ('name_fi', models.TextField(blank=True, verbose_name='name in Finnish')),
                ('name_sv', models.TextField(blank=True, verbose_name='name in Swedish')),
                ('name_en', models.TextField(blank=True, verbose_name='name in English')),
                ('business_id', models.TextField(blank=True, verbose_name='business ID')),
                ('types', models.JSONField(blank=True, default=list, verbose_name='organisation types')),
                ('status', models.CharField(blank=True, max_length=32, verbose_name='status in the registry')),
                ('closed_on', models.DateField(blank=True, null=True, verbose_name='closing date')),
                ('parent_oids', models.JSONField(blank=True, default=list, verbose_name='parent organisations')),
                ('history_id', models.AutoField(primary_key=True, serialize=False)),
                ('history_date', models.DateTimeField(db_index=True)),
                ('history_change_reason', models.CharField(max_length=100, null=True)),
                ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                ('history_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': 'historical registry entry',
                'verbose_name_plural': 'historical registry entries',
                'ordering': ('-history_date', '-history_id'),
                'get_latest_by': ('history_date', 'history_id'),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.AddField(
            model_name='outgoingemail',
            name='registry_check',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='emails', to='onboarding.registrycheck', verbose_name='registry check'),
        ),
    ]
