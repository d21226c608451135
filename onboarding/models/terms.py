from __future__ import annotations

import hashlib
import json
import unicodedata

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from onboarding.identifiers import MAX_OID_LENGTH
from onboarding.localised import active_language, localised
from onboarding.models.evidence import GENESIS_SHA256, acceptance_sha256, lock_chain
from onboarding.models.organisations import Language, Organisation


class ImmutableRecordError(Exception):
    """Raised when code tries to change or delete evidence that must stay as it was."""


def _normalise(text: str) -> str:
    return unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n")).strip()


class TermsVersionQuerySet(models.QuerySet):
    def published(self) -> TermsVersionQuerySet:
        return self.filter(published_at__isnull=False)

    # Bulk writes skip save() and delete(): they refuse published versions too (on any
    # database; PostgreSQL's trigger would refuse them anyway, less clearly).
    def update(self, **kwargs):
        if self.published().exists():
            raise ImmutableRecordError(_("Published terms versions can no longer be changed."))
        return super().update(**kwargs)

    def delete(self):
        if self.published().exists():
            raise ImmutableRecordError(_("Published terms versions cannot be deleted."))
        return super().delete()


class TermsVersion(models.Model):
    """A version of MPASSid's terms of use. Drafts can be edited; published ones never."""

    version = models.CharField(
        _("version"),
        max_length=32,
        unique=True,
        validators=[
            RegexValidator(
                r"^[0-9A-Za-z][0-9A-Za-z._-]*\Z",
                _("Use letters, digits, dots, hyphens and underscores only, e.g. 2024-1."),
            )
        ],
        help_text=_("A short label that appears in addresses, e.g. 2024-1."),
    )
    title_fi = models.CharField(_("title in Finnish"), max_length=200)
    title_sv = models.CharField(_("title in Swedish"), max_length=200)
    title_en = models.CharField(_("title in English"), max_length=200, blank=True)
    text_fi = models.TextField(_("text in Finnish"))
    text_sv = models.TextField(_("text in Swedish"))
    text_en = models.TextField(_("text in English"), blank=True)
    change_summary_fi = models.TextField(_("summary of changes in Finnish"), blank=True)
    change_summary_sv = models.TextField(_("summary of changes in Swedish"), blank=True)
    change_summary_en = models.TextField(_("summary of changes in English"), blank=True)
    effective_from = models.DateField(_("effective from"))
    requires_reacceptance = models.BooleanField(
        _("requires re-acceptance"),
        default=False,
        help_text=_("Members must accept this version again; otherwise they are only told."),
    )
    published_at = models.DateTimeField(_("published"), null=True, blank=True, editable=False)
    content_sha256 = models.CharField(
        _("content SHA-256"), max_length=64, blank=True, editable=False
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = TermsVersionQuerySet.as_manager()

    class Meta:
        verbose_name = _("terms of use version")
        verbose_name_plural = _("terms of use versions")
        ordering = ["-effective_from", "-published_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(published_at__isnull=True, content_sha256="")
                | models.Q(published_at__isnull=False) & ~models.Q(content_sha256=""),
                name="terms_published_has_sha256",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.version}: {self.title}"

    def save(self, *args, **kwargs):
        if self._stored_version_is_published():
            raise ImmutableRecordError(
                _("Version %(version)s is published and can no longer be changed.")
                % {"version": self.version}
            )
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self._stored_version_is_published():
            raise ImmutableRecordError(
                _("Version %(version)s is published and cannot be deleted.")
                % {"version": self.version}
            )
        return super().delete(*args, **kwargs)

    @property
    def is_published(self) -> bool:
        return self.published_at is not None

    @property
    def title(self) -> str:
        return localised(self, "title")

    @property
    def text(self) -> str:
        return localised(self, "text")

    def shown_language(self, language: str) -> str:
        """The language the text is shown in: the one asked for, or Finnish when that text
        is missing (English is optional)."""
        return language if getattr(self, f"text_{language}", "") else "fi"

    @property
    def shown_lang(self) -> str:
        """The language `text` is in for the active language: for lang="" (WCAG 3.1.2)."""
        return self.shown_language(active_language())

    @property
    def change_summary(self) -> str:
        return localised(self, "change_summary")

    def canonical_content(self) -> bytes:
        """The published text as one canonical document: the input of `content_sha256`.

        JSON with sorted keys, NFC text and Unix line endings, so the same words always hash
        the same and anyone can recompute the hash from the published version.
        """
        document = {"version": self.version, "effective_from": self.effective_from.isoformat()}
        for code in ("fi", "sv", "en"):
            text = _normalise(getattr(self, f"text_{code}"))
            if text:
                document[code] = {
                    "title": _normalise(getattr(self, f"title_{code}")),
                    "text": text,
                }
        return json.dumps(
            document, sort_keys=True, ensure_ascii=False, separators=(",", ":")
        ).encode()

    @property
    def canonical_filename(self) -> str:
        """The name under which `canonical_content` is saved, for checking its SHA-256."""
        return f"mpassid-terms-{self.version}.json"

    def compute_content_sha256(self) -> str:
        return hashlib.sha256(self.canonical_content()).hexdigest()

    def _stored_version_is_published(self) -> bool:
        return (
            self.pk is not None
            and type(self).objects.filter(pk=self.pk, published_at__isnull=False).exists()
        )


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise ImmutableRecordError(_("Acceptances of the terms cannot be changed."))

    def delete(self):
        raise ImmutableRecordError(_("Acceptances of the terms cannot be deleted."))


class TermsAcceptance(models.Model):
    """Evidence that a person accepted a terms version for an organisation. Written once."""

    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="acceptances",
        verbose_name=_("organisation"),
    )
    terms_version = models.ForeignKey(
        TermsVersion,
        on_delete=models.PROTECT,
        related_name="acceptances",
        verbose_name=_("terms of use version"),
    )
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="terms_acceptances",
        verbose_name=_("accepting user"),
    )
    accepter_name = models.CharField(_("name given by the accepting person"), max_length=200)
    accepter_title = models.CharField(_("title given by the accepting person"), max_length=200)
    authority_confirmed = models.BooleanField(
        _("confirmed authority to bind the organisation"), default=False
    )
    accepted_at = models.DateTimeField(_("accepted at"), default=timezone.now)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.TextField(_("user agent"), blank=True)
    language = models.CharField(_("language shown"), max_length=2, choices=Language.choices)
    content_sha256 = models.CharField(_("SHA-256 of the text shown"), max_length=64)
    registration = models.ForeignKey(
        "onboarding.Registration",
        on_delete=models.PROTECT,
        related_name="acceptances",
        null=True,
        blank=True,
        verbose_name=_("notification"),
    )
    in_force_from = models.DateField(
        _("in force from"),
        help_text=_("The first day the organisation is under these terms."),
    )
    # The evidence chain (`onboarding.models.evidence`): set by save(), never by a caller.
    organisation_oid = models.CharField(
        _("organisation OID when accepted"), max_length=MAX_OID_LENGTH
    )
    accepted_by_email = models.EmailField(_("accepting user's email when accepted"))
    sequence = models.PositiveIntegerField(_("number in the evidence chain"), editable=False)
    previous_sha256 = models.CharField(
        _("SHA-256 of the previous acceptance"), max_length=64, editable=False
    )
    record_sha256 = models.CharField(_("SHA-256 of this acceptance"), max_length=64, editable=False)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("acceptance of the terms")
        verbose_name_plural = _("acceptances of the terms")
        ordering = ["-accepted_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "terms_version"],
                name="acceptance_once_per_organisation_and_version",
                violation_error_message=_(
                    "This organisation has already accepted this terms version."
                ),
            ),
            models.CheckConstraint(
                condition=models.Q(authority_confirmed=True),
                name="acceptance_authority_confirmed",
            ),
            models.CheckConstraint(
                condition=~models.Q(content_sha256=""),
                name="acceptance_records_sha256",
            ),
            # The evidence chain: one record per place, each with its hashes.
            models.UniqueConstraint(fields=["sequence"], name="acceptance_chain_sequence_unique"),
            models.CheckConstraint(
                condition=models.Q(sequence__gte=1), name="acceptance_chain_sequence_positive"
            ),
            models.CheckConstraint(
                condition=~models.Q(record_sha256="") & ~models.Q(previous_sha256=""),
                name="acceptance_chain_hashes_recorded",
            ),
            models.CheckConstraint(
                condition=~models.Q(organisation_oid="") & ~models.Q(accepted_by_email=""),
                name="acceptance_chain_names_recorded",
            ),
        ]

    # Written by save() under the chain's lock, never by a caller: full_clean() leaves them out.
    CHAIN_FIELDS = (
        "organisation_oid",
        "accepted_by_email",
        "sequence",
        "previous_sha256",
        "record_sha256",
    )

    def __str__(self) -> str:
        return f"{self.organisation} – {self.terms_version.version}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ImmutableRecordError(_("Acceptances of the terms cannot be changed."))
        if self.in_force_from is None:
            # Evidence written outside acceptance_record (imports, test factories) gets the
            # date from the same rule; acceptance_record always passes it.
            from onboarding.services.membership import in_force_from_for

            self.in_force_from = in_force_from_for(
                organisation=self.organisation,
                accepted_at=self.accepted_at,
                approved_on=timezone.localdate(),
            )
        with transaction.atomic():
            self._append_to_chain()
            super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableRecordError(_("Acceptances of the terms cannot be deleted."))

    def full_clean(self, exclude=None, *args, **kwargs):
        super().full_clean({*(exclude or ()), *self.CHAIN_FIELDS}, *args, **kwargs)

    def _append_to_chain(self) -> None:
        """Link the new acceptance to the last one: every insert path (the service, imports,
        test factories) comes through save(), under a lock that keeps appends one at a time."""
        for name in ("accepted_at", "in_force_from"):  # as the database will give them back
            field = self._meta.get_field(name)
            setattr(self, name, field.to_python(getattr(self, name)))
        if timezone.is_naive(self.accepted_at):
            self.accepted_at = timezone.make_aware(self.accepted_at)
        lock_chain()
        last = type(self).objects.order_by("-sequence").values("sequence", "record_sha256")
        head = last.first()
        self.sequence = head["sequence"] + 1 if head else 1
        self.previous_sha256 = head["record_sha256"] if head else GENESIS_SHA256
        self.organisation_oid = self.organisation.oid
        self.accepted_by_email = self.accepted_by.email
        self.record_sha256 = acceptance_sha256(self)
