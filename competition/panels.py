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


class LineContextPanel(Panel):
    """Beside the submission form's fields: the chosen commitment target's unit, baseline, target
    value, deadline and the agency's last accepted value. Rendered for the line the form holds
    (so it shows without JavaScript after a reload); line_context.js shows the facts of another
    line as soon as it is chosen, from the same facts of every line offered by the form."""

    class BoundPanel(Panel.BoundPanel):
        template_name = "competition/admin/panels/line_context.html"

        class Media:
            js = ["competition/line_context.js"]

        def get_context_data(self, parent_context=None):
            from .domain.line_context import annotate_last_accepted, facts

            context = super().get_context_data(parent_context)
            field = self.form.fields.get("line")
            if field is None:
                return context
            lines = annotate_last_accepted(field.queryset)
            # Each line's facts start with its name: on a phone the select shows only the start
            # of a long choice, and the editor must see which target they report for.
            label = getattr(field, "label_from_instance", str)
            every = {str(line.pk): {"target": label(line), **facts(line)} for line in lines}
            chosen = self.form["line"].value()
            context.update({"every": every, "chosen": every.get(str(chosen)) if chosen else None})
            return context
