"""Evidence nobody can change quietly (issue 12).

1. The evidence triggers are our own PostgreSQL functions, no longer django-pgtrigger's: those
   call `_pgtrigger_should_ignore`, so any session could switch them off with
   `SET LOCAL pgtrigger.ignore = ...`. Ours have no such hook:
   - `onboarding_termsacceptance`: every UPDATE and DELETE refused;
   - `onboarding_termsversion`: UPDATE and DELETE of a published version refused;
   - `onboarding_registration`: the submitted fields read-only, DELETE refused unless the
     notification is rejected or withdrawn (deleted after the retention period);
   - all three: TRUNCATE refused (a statement-level trigger; TRUNCATE fires no row trigger).
   Only the tables' owner (or a superuser) can disable them; the application's role is not the
   owner (deploy/roles.sql, deploy/README.md).
2. Every acceptance joins a hash chain (`onboarding.models.evidence`): its number, the SHA-256
   of the previous acceptance, and the SHA-256 of its own canonical content, with the
   organisation's OID and the accepting user's email as they are now. Existing acceptances are
   chained here in id order. No trigger protects the table while this migration fills the new
   columns: the pgtrigger triggers are dropped first and ours created last, all in this
   migration's transaction, whose ALTER TABLEs hold an ACCESS EXCLUSIVE lock until commit.
3. `EvidenceCheck` stores each verification (`services.evidence`); staff alerts link to it.
"""

import django.db.models.deletion
import pgtrigger.migrations
from django.db import migrations, models

from onboarding.models.evidence import GENESIS_SHA256, acceptance_sha256

REFUSE = "USING ERRCODE = 'insufficient_privilege'"

CREATE_TRIGGERS = f"""
CREATE FUNCTION onboarding_refuse_acceptance_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'Acceptances of the terms are evidence: % of acceptance % is refused.',
        TG_OP, OLD.id {REFUSE};
END $$;

CREATE TRIGGER acceptances_are_append_only
    BEFORE UPDATE OR DELETE ON onboarding_termsacceptance
    FOR EACH ROW EXECUTE FUNCTION onboarding_refuse_acceptance_change();

CREATE FUNCTION onboarding_refuse_published_terms_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'Published terms version % is evidence: % is refused.',
        OLD.version, TG_OP {REFUSE};
END $$;

CREATE TRIGGER published_terms_are_immutable
    BEFORE UPDATE OR DELETE ON onboarding_termsversion
    FOR EACH ROW WHEN (OLD.published_at IS NOT NULL)
    EXECUTE FUNCTION onboarding_refuse_published_terms_change();

CREATE FUNCTION onboarding_refuse_submission_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'Notification % is evidence: what was submitted cannot be changed.',
        OLD.id {REFUSE};
END $$;

CREATE TRIGGER submission_is_evidence
    BEFORE UPDATE ON onboarding_registration
    FOR EACH ROW WHEN (
        OLD.oid IS DISTINCT FROM NEW.oid
        OR OLD.data IS DISTINCT FROM NEW.data
        OR OLD.terms_version_id IS DISTINCT FROM NEW.terms_version_id
        OR OLD.content_sha256 IS DISTINCT FROM NEW.content_sha256
        OR OLD.submitted_by_id IS DISTINCT FROM NEW.submitted_by_id
        OR OLD.submitted_at IS DISTINCT FROM NEW.submitted_at
        OR OLD.ip_address IS DISTINCT FROM NEW.ip_address
        OR OLD.user_agent IS DISTINCT FROM NEW.user_agent
        OR OLD.language IS DISTINCT FROM NEW.language
        OR OLD.submission_token IS DISTINCT FROM NEW.submission_token
        OR OLD.corrects_id IS DISTINCT FROM NEW.corrects_id
    )
    EXECUTE FUNCTION onboarding_refuse_submission_change();

CREATE FUNCTION onboarding_refuse_registration_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION
        'Notification % is %: only a rejected or withdrawn notification can be deleted.',
        OLD.id, OLD.status {REFUSE};
END $$;

CREATE TRIGGER registrations_are_kept
    BEFORE DELETE ON onboarding_registration
    FOR EACH ROW WHEN (OLD.status NOT IN ('rejected', 'withdrawn'))
    EXECUTE FUNCTION onboarding_refuse_registration_delete();

CREATE FUNCTION onboarding_refuse_truncate() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% holds evidence: TRUNCATE is refused.', TG_TABLE_NAME {REFUSE};
END $$;

CREATE TRIGGER acceptances_are_not_truncated
    BEFORE TRUNCATE ON onboarding_termsacceptance
    FOR EACH STATEMENT EXECUTE FUNCTION onboarding_refuse_truncate();
CREATE TRIGGER terms_versions_are_not_truncated
    BEFORE TRUNCATE ON onboarding_termsversion
    FOR EACH STATEMENT EXECUTE FUNCTION onboarding_refuse_truncate();
CREATE TRIGGER registrations_are_not_truncated
    BEFORE TRUNCATE ON onboarding_registration
    FOR EACH STATEMENT EXECUTE FUNCTION onboarding_refuse_truncate();
"""

DROP_TRIGGERS = """
DROP TRIGGER acceptances_are_append_only ON onboarding_termsacceptance;
DROP TRIGGER published_terms_are_immutable ON onboarding_termsversion;
DROP TRIGGER submission_is_evidence ON onboarding_registration;
DROP TRIGGER registrations_are_kept ON onboarding_registration;
DROP TRIGGER acceptances_are_not_truncated ON onboarding_termsacceptance;
DROP TRIGGER terms_versions_are_not_truncated ON onboarding_termsversion;
DROP TRIGGER registrations_are_not_truncated ON onboarding_registration;
DROP FUNCTION onboarding_refuse_acceptance_change();
DROP FUNCTION onboarding_refuse_published_terms_change();
DROP FUNCTION onboarding_refuse_submission_change();
DROP FUNCTION onboarding_refuse_registration_delete();
DROP FUNCTION onboarding_refuse_truncate();
"""


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":  # the demo's SQLite has none
        schema_editor.execute(CREATE_TRIGGERS, params=None)


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_TRIGGERS, params=None)


def chain_existing_acceptances(apps, schema_editor):
    TermsAcceptance = apps.get_model("onboarding", "TermsAcceptance")
    acceptances = TermsAcceptance.objects.select_related(
        "organisation", "accepted_by", "terms_version"
    ).order_by("id")
    previous = GENESIS_SHA256
    rows = []
    for sequence, acceptance in enumerate(acceptances, start=1):
        acceptance.sequence = sequence
        acceptance.organisation_oid = acceptance.organisation.oid
        acceptance.accepted_by_email = acceptance.accepted_by.email
        acceptance.previous_sha256 = previous
        previous = acceptance.record_sha256 = acceptance_sha256(acceptance)
        rows.append(acceptance)
    TermsAcceptance.objects.bulk_update(
        rows,
        ["sequence", "organisation_oid", "accepted_by_email", "previous_sha256", "record_sha256"],
        batch_size=500,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("onboarding", "0013_person_erasures"),
    ]

    operations = [
        migrations.CreateModel(
            name="EvidenceCheck",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("checked_at", models.DateTimeField(auto_now_add=True, verbose_name="checked at")),
                ("ok", models.BooleanField(verbose_name="intact")),
                ("records", models.PositiveIntegerField(verbose_name="acceptances checked")),
                (
                    "head_sequence",
                    models.PositiveIntegerField(
                        blank=True, null=True, verbose_name="last acceptance"
                    ),
                ),
                (
                    "head_sha256",
                    models.CharField(
                        blank=True, max_length=64, verbose_name="hash of the last acceptance"
                    ),
                ),
                ("problems", models.JSONField(blank=True, default=list, verbose_name="problems")),
            ],
            options={
                "verbose_name": "evidence check",
                "verbose_name_plural": "evidence checks",
                "ordering": ["-checked_at"],
            },
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name="registration",
            name="registrations_are_kept",
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name="registration",
            name="submission_is_evidence",
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name="termsacceptance",
            name="acceptances_are_append_only",
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name="termsversion",
            name="published_terms_are_immutable",
        ),
        migrations.AddField(
            model_name="termsacceptance",
            name="accepted_by_email",
            field=models.EmailField(
                default="", max_length=254, verbose_name="accepting user's email when accepted"
            ),
        ),
        migrations.AddField(
            model_name="termsacceptance",
            name="organisation_oid",
            field=models.CharField(
                default="", max_length=64, verbose_name="organisation OID when accepted"
            ),
        ),
        migrations.AddField(
            model_name="termsacceptance",
            name="previous_sha256",
            field=models.CharField(
                default="",
                editable=False,
                max_length=64,
                verbose_name="SHA-256 of the previous acceptance",
            ),
        ),
        migrations.AddField(
            model_name="termsacceptance",
            name="record_sha256",
            field=models.CharField(
                default="", editable=False, max_length=64, verbose_name="SHA-256 of this acceptance"
            ),
        ),
        migrations.AddField(
            model_name="termsacceptance",
            name="sequence",
            field=models.PositiveIntegerField(
                editable=False, null=True, verbose_name="number in the evidence chain"
            ),
        ),
        migrations.RunPython(chain_existing_acceptances, migrations.RunPython.noop, elidable=False),
        migrations.AlterField(
            model_name="termsacceptance",
            name="accepted_by_email",
            field=models.EmailField(
                max_length=254, verbose_name="accepting user's email when accepted"
            ),
        ),
        migrations.AlterField(
            model_name="termsacceptance",
            name="organisation_oid",
            field=models.CharField(max_length=64, verbose_name="organisation OID when accepted"),
        ),
        migrations.AlterField(
            model_name="termsacceptance",
            name="previous_sha256",
            field=models.CharField(
                editable=False, max_length=64, verbose_name="SHA-256 of the previous acceptance"
            ),
        ),
        migrations.AlterField(
            model_name="termsacceptance",
            name="record_sha256",
            field=models.CharField(
                editable=False, max_length=64, verbose_name="SHA-256 of this acceptance"
            ),
        ),
        migrations.AlterField(
            model_name="termsacceptance",
            name="sequence",
            field=models.PositiveIntegerField(
                editable=False, verbose_name="number in the evidence chain"
            ),
        ),
        migrations.AddConstraint(
            model_name="termsacceptance",
            constraint=models.UniqueConstraint(
                fields=("sequence",), name="acceptance_chain_sequence_unique"
            ),
        ),
        migrations.AddConstraint(
            model_name="termsacceptance",
            constraint=models.CheckConstraint(
                condition=models.Q(("sequence__gte", 1)), name="acceptance_chain_sequence_positive"
            ),
        ),
        migrations.AddConstraint(
            model_name="termsacceptance",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("record_sha256", ""), _negated=True),
                    models.Q(("previous_sha256", ""), _negated=True),
                ),
                name="acceptance_chain_hashes_recorded",
            ),
        ),
        migrations.AddConstraint(
            model_name="termsacceptance",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("organisation_oid", ""), _negated=True),
                    models.Q(("accepted_by_email", ""), _negated=True),
                ),
                name="acceptance_chain_names_recorded",
            ),
        ),
        migrations.AddField(
            model_name="outgoingemail",
            name="evidence_check",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="emails",
                to="onboarding.evidencecheck",
                verbose_name="evidence check",
            ),
        ),
        migrations.RunPython(create_triggers, drop_triggers, elidable=False),
    ]
