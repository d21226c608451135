"""The day the terms are in force for each acceptance (`TermsAcceptance.in_force_from`), and
the education sectors an organisation serves (`Organisation.sectors`).

Existing acceptances get their date once, here, from the rule in
`onboarding.services.membership.in_force_date` (a new joiner: the approval day; a contract
member that accepted before its contract's `ends_on`: that `ends_on`; one that accepted on or
after it: the approval day). The approval day of an existing acceptance is its notification's
`reviewed_at` day in Helsinki, or, without a reviewed notification, its `accepted_at` day.

Acceptances are evidence: the trigger `acceptances_are_append_only` refuses every UPDATE and
DELETE. To write the new column once, `fill_in_force_from` disables that one trigger on
`onboarding_termsacceptance` with `ALTER TABLE ... DISABLE TRIGGER`, updates only
`in_force_from`, and enables the trigger again, all inside this migration's transaction: the
ALTER TABLE holds an ACCESS EXCLUSIVE lock until commit, so no other session can write while
the trigger is off, and a failure rolls the trigger back on. Every other path (the ORM's
save/update, raw SQL, later migrations) stays refused; tests/services/test_in_force.py checks
that an UPDATE of `in_force_from` is refused afterwards. The column becomes NOT NULL after the fill.
"""

from zoneinfo import ZoneInfo

import onboarding.models.organisations
from django.db import migrations, models

# The trigger's name in PostgreSQL, as 0001_initial installed it.
APPEND_ONLY_TRIGGER = "pgtrigger_acceptances_are_append_only_9e1d4"
HELSINKI = ZoneInfo("Europe/Helsinki")


def fill_in_force_from(apps, schema_editor):
    from onboarding.services.membership import in_force_date

    TermsAcceptance = apps.get_model("onboarding", "TermsAcceptance")
    LegacyContract = apps.get_model("onboarding", "LegacyContract")
    ends_on = {}
    for contract in LegacyContract.objects.all():
        known = ends_on.get(contract.organisation_id)
        ends_on[contract.organisation_id] = max(contract.ends_on, known or contract.ends_on)
    acceptances = TermsAcceptance.objects.select_related("registration").filter(
        in_force_from__isnull=True
    )
    dates = {}
    for acceptance in acceptances:
        reviewed_at = acceptance.registration.reviewed_at if acceptance.registration else None
        dates[acceptance.pk] = in_force_date(
            accepted_on=acceptance.accepted_at.astimezone(HELSINKI).date(),
            approved_on=(reviewed_at or acceptance.accepted_at).astimezone(HELSINKI).date(),
            contract_ends_on=ends_on.get(acceptance.organisation_id),
        )
    if not dates:
        return
    table = schema_editor.quote_name(TermsAcceptance._meta.db_table)
    triggers = schema_editor.connection.vendor == "postgresql"  # the demo's SQLite has none
    with schema_editor.connection.cursor() as cursor:
        if triggers:
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {APPEND_ONLY_TRIGGER}")
        cursor.executemany(
            f"UPDATE {table} SET in_force_from = %s WHERE id = %s",
            [(day, pk) for pk, day in dates.items()],
        )
        if triggers:
            cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER {APPEND_ONLY_TRIGGER}")


class Migration(migrations.Migration):
    dependencies = [
        ("onboarding", "0009_registry"),
    ]

    operations = [
        migrations.AddField(
            model_name="historicalorganisation",
            name="sectors",
            field=onboarding.models.organisations.SectorsField(
                blank=True,
                default=list,
                help_text="The education sectors the organisation's users come from or its services serve.",
                verbose_name="sectors",
            ),
        ),
        migrations.AddField(
            model_name="organisation",
            name="sectors",
            field=onboarding.models.organisations.SectorsField(
                blank=True,
                default=list,
                help_text="The education sectors the organisation's users come from or its services serve.",
                verbose_name="sectors",
            ),
        ),
        migrations.AddField(
            model_name="termsacceptance",
            name="in_force_from",
            field=models.DateField(
                help_text="The first day the organisation is under these terms.",
                null=True,
                verbose_name="in force from",
            ),
        ),
        migrations.RunPython(fill_in_force_from, migrations.RunPython.noop, elidable=False),
        migrations.AlterField(
            model_name="termsacceptance",
            name="in_force_from",
            field=models.DateField(
                help_text="The first day the organisation is under these terms.",
                verbose_name="in force from",
            ),
        ),
    ]
