from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class OnboardingConfig(AppConfig):
    name = "onboarding"
    verbose_name = _("MPASSid membership")

    def ready(self):
        # Models are loaded only now: these modules import them.
        from onboarding.permissions import ensure_reviewers_group
        from onboarding.register import connect_signals

        # After auth's own handler has made the permissions (auth is installed before us).
        post_migrate.connect(ensure_reviewers_group, sender=self)
        # The member register is rebuilt after acceptances, lapses, approvals and edits, also
        # in the Celery worker, which never loads the URLs.
        connect_signals()
