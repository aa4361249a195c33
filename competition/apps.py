from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CompetitionConfig(AppConfig):
    name = "competition"
    label = "competition"
    verbose_name = _("Emulation competitions")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from wagtail.permissions import register_permission_policy

        from . import signals
        from .models import Submission
        from .permission_policies import SubmissionPermissionPolicy

        register_permission_policy(Submission, SubmissionPermissionPolicy(Submission))
        signals.connect()
