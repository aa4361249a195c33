"""Edit-form panels of the app's own: read-only facts beside the fields, with links to the
screens that change them."""

from wagtail.admin.panels import Panel

from . import permissions


class JudgingPanel(Panel):
    """A competition's judging state (open, or closed since when), with links for its managers
    to the board with the jury's points and to closing or reopening judging. Judging is not a
    field of the form: it changes only through that confirmation screen."""

    class BoundPanel(Panel.BoundPanel):
        template_name = "competition/admin/panels/judging.html"

        def get_context_data(self, parent_context=None):
            context = super().get_context_data(parent_context)
            user = getattr(self.request, "user", None)
            pk = self.instance.pk
            context["can_manage"] = bool(
                pk and user is not None and (user.is_superuser or permissions.manages(user, pk))
            )
            return context
