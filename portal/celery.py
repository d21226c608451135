import os

from celery import Celery
from celery.signals import worker_process_shutdown

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_process_shutdown.connect
def _close_kept_email_connection(**kwargs) -> None:
    """A worker process ending says goodbye on its kept SMTP connection (portal/mail.py)."""
    from portal.mail import close_kept

    close_kept()
