"""Admin forms of the competition's pages: they tie a new target or commitment page to the
competition it is created under, before the model's own validation runs."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms import WagtailAdminPageForm
from wagtail.admin.forms.pages import CopyForm

from .validators import validate_in_period, validate_value_for_unit


class CompetitionChildPageForm(WagtailAdminPageForm):
    def clean(self):
        cleaned_data = super().clean()
        if self.instance.competition_id is None and self.parent_page is not None:
            parent = self.parent_page.specific
            # The page model refuses any other parent; here the parent is a competition page.
            if parent.__class__.__name__ == "CompetitionPage":
                self.instance.competition = parent
        return cleaned_data


class TargetPageForm(CompetitionChildPageForm):
    """Checks each milestone against the target's unit and the competition's period: the
    milestone forms are validated before they are attached to the page."""

    def is_valid(self):
        valid = super().is_valid()
        unit = self.cleaned_data.get("unit") if hasattr(self, "cleaned_data") else None
        competition = self.instance.competition if self.instance.competition_id else None
        for form in self.formsets["milestones"].forms:
            data = getattr(form, "cleaned_data", None) or {}
            if not data or data.get("DELETE"):
                continue
            checks = [("value", validate_value_for_unit, (data.get("value"), unit))]
            if competition is not None:
                checks.append(
                    ("date", validate_in_period, (data.get("date"), competition.start_date, competition.end_date))
                )
            for field, check, args in checks:
                try:
                    check(*args)
                except ValidationError as error:
                    form.add_error(field, error)
                    valid = False
        return valid


class CommitmentPageForm(CompetitionChildPageForm):
    """Keeps every committed target in the page's competition, and keeps reported values where
    they were reported: once a line has submissions, it can neither be removed nor point at
    another target, and the page cannot change agency (its evidence would change hands)."""

    def is_valid(self):
        valid = super().is_valid()
        from .models import CommitmentLine, Submission

        competition_id = self.instance.competition_id
        reported = set()
        if self.instance.pk:
            reported = set(
                Submission.objects.filter(line__commitment_id=self.instance.pk).values_list("line_id", flat=True)
            )
        saved_targets = dict(CommitmentLine.objects.filter(pk__in=reported).values_list("pk", "target_id"))
        for form in self.formsets["lines"].forms:
            data = getattr(form, "cleaned_data", None) or {}
            line_id = form.instance.pk
            if line_id in reported and data.get("DELETE"):
                self.add_error(
                    None, _("%(target)s has reported values: it stays committed.") % {"target": form.instance.target}
                )
                valid = False
                continue
            target = data.get("target")
            if target is None or data.get("DELETE"):
                continue
            if competition_id is not None and target.competition_id != competition_id:
                form.add_error("target", _("This target belongs to another competition."))
                valid = False
            elif line_id in reported and target.pk != saved_targets[line_id]:
                form.add_error("target", _("Values have been reported for this line: its target cannot change."))
                valid = False
        # The page cannot change agency once values are reported: CommitmentPage.clean says so,
        # on this form's agency field and wherever a revision is published.
        return valid


class CompetitionCopyForm(CopyForm):
    """Wagtail's Copy screen for a competition, without its "alias" option: an alias of a
    competition with its subpages would repeat every target's code and every agency's commitment
    in the original competition (its aliases keep the original's fields). A copy is a new
    competition (docs/security.md)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields.pop("alias", None)
