"""The registration form: one group of fields per target of the competition (commit to it, an own
baseline and target value, a justification) and the agency's pledges. Required targets, and
targets with reported values, stay ticked whatever is posted."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .domain.registration import LineData, RegistrationData, reported_target_ids
from .enums import Unit
from .forms import AsciiDecimalField
from .models.registration import MAX_JUSTIFICATION, MAX_PLEDGE
from .validators import validate_value_for_unit, validate_visible_text


def _decimal(label):
    return AsciiDecimalField(
        label=label,
        required=False,
        max_digits=18,
        decimal_places=4,
        widget=forms.NumberInput(attrs={"step": "any"}),
    )


def _plain(value):
    """A stored decimal as people write it: 72.0000 -> 72."""
    return None if value is None else format(value.normalize(), "f")


class TargetForm(forms.Form):
    """The fields of one target, prefixed with `t<target id>`."""

    commit = forms.BooleanField(label=_("Commit to this target"), required=False)
    baseline = _decimal(_("Own baseline"))
    target_value = _decimal(_("Own target value"))
    justification = forms.CharField(
        label=_("Justification of the own values"),
        required=False,
        max_length=MAX_JUSTIFICATION,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, target, locked=False, reason="", **kwargs):
        super().__init__(*args, prefix=f"t{target.pk}", **kwargs)
        self.target = target
        self.locked = locked
        self.locked_reason = reason
        if locked:
            self.fields["commit"].disabled = True
            self.fields["commit"].initial = True
        if target.unit == Unit.BOOLEAN:
            # A yes/no target goes from no to yes for everyone (docs/scoring.md, section 3).
            del self.fields["baseline"], self.fields["target_value"], self.fields["justification"]

    @property
    def own_value_fields(self):
        return [self[name] for name in ("baseline", "target_value") if name in self.fields]

    def clean(self):
        cleaned = super().clean()
        own = [cleaned.get(name) for name in ("baseline", "target_value") if name in self.fields]
        justification = (cleaned.get("justification") or "").strip()
        if not cleaned.get("commit"):
            if any(value is not None for value in own) or justification:
                raise ValidationError(_("Tick “Commit to this target” to propose values for it, or clear them."))
            return cleaned
        for name in ("baseline", "target_value"):
            if name in self.fields and cleaned.get(name) is not None:
                try:
                    validate_value_for_unit(cleaned[name], self.target.unit)
                except ValidationError as error:
                    self.add_error(name, error)
        if justification:
            try:
                validate_visible_text(justification, multiline=True)
            except ValidationError as error:
                self.add_error("justification", error)
        if any(value is not None for value in own) and not justification:
            self.add_error("justification", _("Say why the agency proposes its own baseline or target value."))
        return cleaned

    def line(self):
        data = self.cleaned_data
        if not data.get("commit"):
            return None
        return LineData(
            self.target,
            data.get("baseline"),
            data.get("target_value"),
            (data.get("justification") or "").strip(),
        )


class RegistrationForm(forms.Form):
    """The whole registration: a TargetForm per target, the pledges, and the revision the form
    was opened from (so that saving never silently overwrites someone else's save)."""

    pledge = forms.CharField(
        label=_("Pledges"),
        required=False,
        max_length=MAX_PLEDGE,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_(
            "What your agency pledges beside the targets, in its own words; shown on its public commitment page "
            "once approved. Leave a blank line between paragraphs."
        ),
    )
    loaded_revision = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, competition, agency, targets, initial_data, loaded_revision="", **kwargs):
        super().__init__(*args, initial={"pledge": initial_data.pledge, "loaded_revision": loaded_revision}, **kwargs)
        reported = reported_target_ids(competition, agency.pk)
        self.target_forms = []
        for target in targets:
            existing = initial_data.lines.get(target.pk)
            if target.required:
                locked, reason = True, _("Required of every agency")
            elif target.pk in reported:
                locked, reason = True, _("Values reported: it stays committed")
            else:
                locked, reason = False, ""
            initial = {"commit": existing is not None or locked}
            if existing is not None:
                initial.update(
                    baseline=_plain(existing.baseline),
                    target_value=_plain(existing.target_value),
                    justification=existing.justification,
                )
            self.target_forms.append(
                TargetForm(
                    self.data if self.is_bound else None,
                    target=target,
                    locked=locked,
                    reason=reason,
                    initial=initial,
                )
            )

    def clean_pledge(self):
        pledge = self.cleaned_data.get("pledge", "")
        validate_visible_text(pledge, multiline=True)
        return pledge

    def is_valid(self):
        valid = super().is_valid()
        # Every target's form is validated (not only up to the first invalid one): all errors show.
        results = [form.is_valid() for form in self.target_forms]
        return valid and all(results)

    @property
    def has_errors(self):
        return bool(self.errors) or any(form.errors for form in self.target_forms)

    def registration_data(self):
        lines = {}
        for form in self.target_forms:
            line = form.line()
            if line is not None:
                lines[form.target.pk] = line
        return RegistrationData(self.cleaned_data.get("pledge", ""), lines)


class DecisionForm(forms.Form):
    note = forms.CharField(
        label=_("Reason (required to return it; the agency reads it)"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
