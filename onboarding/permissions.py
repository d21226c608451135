"""The Reviewers group: OPH staff who review notifications and keep organisations current.

A staff account that is not a superuser gets its rights from this group: it reads everything
in the admin (history included), decides notifications and edits organisations, contacts and
contracts. Publishing terms, campaigns and imports stay with superusers. The group is kept as
written here after every `migrate` (and test database flush)."""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.db import router

REVIEWERS = "Reviewers"
READ = [
    "organisation",
    "contactperson",
    "legacycontract",
    "termsversion",
    "termsacceptance",
    "registration",
    "pendingregistration",
    "outgoingemail",
    "acceptancecampaign",
    "campaigntarget",
    "campaignmessage",
    "registryentry",
    "registrycheck",
    "contactsconfirmationround",
    "contactsconfirmationtarget",
    "contactsconfirmationmessage",
]
WRITE = {
    "registration": ["change"],
    "pendingregistration": ["change"],
    "organisation": ["change"],
    "contactperson": ["add", "change"],
    "legacycontract": ["add", "change"],
}


def reviewer_codenames() -> set[str]:
    names = {f"view_{model}" for model in READ}
    for model, actions in WRITE.items():
        names |= {f"{action}_{model}" for action in actions}
    return names


def ensure_reviewers_group(sender, using="default", **kwargs) -> None:
    """post_migrate: the group exists with exactly the permissions above."""
    if not router.allow_migrate_model(using, Group):
        return

    permissions = Permission.objects.using(using).filter(
        content_type__app_label="onboarding", codename__in=reviewer_codenames()
    )
    group, _created = Group.objects.using(using).get_or_create(name=REVIEWERS)
    group.permissions.set(permissions)
