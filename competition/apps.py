from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CompetitionConfig(AppConfig):
    name = "competition"
    label = "competition"
    verbose_name = _("Emulation competitions")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.core import checks
        from wagtail.documents import get_document_model
        from wagtail.permissions import register_permission_policy

        from . import signals
        from .account_forms import use_account_name_email_form
        from .checks import check_evidence_download_middleware, check_evidence_not_served_as_media, check_shared_cache
        from .models import Submission
        from .page_types_report import hide_unseen_pages_in_page_types_report
        from .permission_policies import DocumentPermissionPolicy, SubmissionPermissionPolicy, scoped_policies
        from .site_history import use_flat_site_history_union

        register_permission_policy(Submission, SubmissionPermissionPolicy(Submission))
        for model, policy in scoped_policies().items():
            register_permission_policy(model, policy)
        # Documents: Wagtail's policy without evidence (docs/security.md). `exact_class` makes it
        # win over the one wagtail.documents registers in its own ready(), whichever app is
        # listed first in INSTALLED_APPS.
        register_permission_policy(get_document_model(), DocumentPermissionPolicy(), exact_class=True)
        signals.connect()
        use_account_name_email_form()
        use_flat_site_history_union()
        hide_unseen_pages_in_page_types_report()
        checks.register(check_evidence_download_middleware, checks.Tags.security)
        checks.register(check_shared_cache, checks.Tags.caches)
        checks.register(check_evidence_not_served_as_media, checks.Tags.security, checks.Tags.urls)
