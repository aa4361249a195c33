"""Admin forms of the competition's pages: they tie a new target or commitment page to the
competition it is created under, before the model's own validation runs."""

from django.core.exceptions import ValidationError
from wagtail.admin.forms import WagtailAdminPageForm

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
