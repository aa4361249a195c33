"""Admin forms of the competition app."""

import django_filters
from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.template.defaultfilters import filesizeformat
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _
from django_filters.fields import ModelChoiceField as FilterModelChoiceField
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.forms.models import register_form_field_override
from wagtail.documents import get_document_model

from . import conf, permissions
from .domain.attachments import check_upload
from .validators import integer_key, validate_ascii_number


class AsciiDecimalField(forms.DecimalField):
    """A decimal written with the digits 0-9: Django's field also reads full-width and
    Arabic-Indic digits, which nobody can tell from the figures meant (the imports refuse them
    too, competition.validators.validate_ascii_number)."""

    def to_python(self, value):
        if isinstance(value, str):
            validate_ascii_number(value.strip())
        return super().to_python(value)


# Every decimal field of the Wagtail admin's model forms: values, points, targets, baselines,
# milestones, margins, tiers.
register_form_field_override(models.DecimalField, override={"form_class": AsciiDecimalField})


class IdChoiceField(FilterModelChoiceField):
    """A choice of a record by its id, from a query string that anyone can edit: an id that is
    not a number of a 64-bit column (?competition=99999999999999999999) is an unknown choice, not
    the database driver's OverflowError (SQLite)."""

    def to_python(self, value):
        if value not in self.empty_values and integer_key(value) is None:
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return super().to_python(value)


class IdChoiceFilter(django_filters.ModelChoiceFilter):
    """The admin listings' filters by a record (the competition filter): see IdChoiceField."""

    field_class = IdChoiceField


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data, initial=None):
        files = data if isinstance(data, (list, tuple)) else ([data] if data else [])
        return [super(MultipleFileField, self).clean(item, initial) for item in files]


def _evidence_files_help():
    """Formatted when the form is drawn, in the reader's language (`%` on a lazy string would
    translate it once, at import, in the default language)."""
    return _("PDF, Office or OpenDocument files, CSV, PNG or JPEG; at most %(size)s each.") % {
        "size": filesizeformat(getattr(settings, "WAGTAILDOCS_MAX_UPLOAD_SIZE", 20 * 1024 * 1024))
    }


class SubmissionForm(WagtailAdminModelForm):
    """The editor's form: only their own agencies' commitment targets can be chosen, and new
    evidence files are uploaded here into the agency's collection."""

    new_attachments = MultipleFileField(
        label=_("Add evidence files"),
        required=False,
        help_text=lazy(_evidence_files_help, str)(),
    )

    kept_attachments = forms.MultipleChoiceField(
        label=_("Files kept from your last try"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "You chose these before the form was refused; they are added when you save. Untick a file to leave it out."
        ),
    )

    remove_attachments = forms.TypedMultipleChoiceField(
        label=_("Remove evidence files"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "Ticked files are taken off this submission. They stay in the agency's evidence collection, "
            "and earlier versions in the history still list them."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from .models import CommitmentLine

        self._checked_uploads = []  # new files that passed check_upload (clean_new_attachments)

        self.offer_kept_files()
        choices = self.attachment_choices()
        if choices:
            self.fields["remove_attachments"].choices = choices
        else:
            del self.fields["remove_attachments"]

        lines = CommitmentLine.objects.filter(commitment__live=True, target__live=True).select_related(
            "commitment__agency", "commitment__competition", "target"
        )
        user = self.for_user
        if user is not None and not user.is_superuser:
            lines = lines.filter(commitment__agency_id__in=permissions.editor_agency_ids(user))
        ordering = ("commitment__competition__title", "commitment__agency__code", "target__code")
        self.fields["line"].queryset = lines.order_by(*ordering)
        self.fields["line"].label_from_instance = line_label
        accept = ",".join(f".{ext}" for ext in conf.get("EVIDENCE_EXTENSIONS"))
        self.fields["new_attachments"].widget.attrs["accept"] = accept

    def offer_kept_files(self, extra=()):
        """The kept files named by the form's data (and `extra` tokens) as ticked choices."""
        from .domain import stash

        name = self.add_prefix("kept_attachments")
        tokens = list(self.data.getlist(name)) if self.is_bound and hasattr(self.data, "getlist") else []
        tokens += [token for token in extra if token not in tokens]
        choices = [(token, stash.name_of(token, self.for_user)) for token in tokens] if self.for_user else []
        choices = [(token, file_name) for token, file_name in choices if file_name]
        if not choices:
            self.fields.pop("kept_attachments", None)
            return
        field = self.fields.setdefault("kept_attachments", self.base_fields["kept_attachments"].__deepcopy__({}))
        field.choices = choices
        if extra:
            # Shown ticked: the bound data names every kept file.
            self.data = self.data.copy()
            self.data.setlist(name, [token for token, _name in choices])

    def is_valid(self):
        """Refused for any reason: the evidence files that passed their own checks are kept on the
        server (competition.domain.stash) and offered again, ticked, instead of vanishing."""
        valid = super().is_valid()
        if not valid:
            self.keep_chosen_files()
        return valid

    def keep_chosen_files(self):
        """The form is refused (invalid, or valid but refused by the view, e.g. as stale): the new
        files that passed their own checks go to the stash and are offered again, ticked, with the
        files already kept; nothing is attached."""
        for kept in getattr(self, "cleaned_data", {}).get("kept_attachments") or []:
            kept.close()
        if self.for_user is None or getattr(self, "_kept", False):
            return
        from .domain import stash

        self._kept = True
        uploads = [upload for upload in self._checked_uploads if not getattr(upload, "stash_path", None)]
        if uploads:
            self.offer_kept_files([stash.keep(upload, self.for_user) for upload in uploads])

    def clean_kept_attachments(self):
        from .domain import stash

        files = []
        for token in self.cleaned_data.get("kept_attachments") or []:
            upload = stash.take(token, self.for_user)
            files.append(upload)
            try:
                check_upload(upload)
            except ValidationError:
                for kept in files:
                    kept.close()
                raise
        return files

    def attachment_choices(self):
        """(attachment id, file title) of the files this version of the submission holds. When a
        revision is reverted to, they are the revision's (an in-memory list, which may name files
        taken off since: saving the reverted version puts them back)."""
        if not self.instance.pk:
            return []
        attachments = sorted(self.instance.attachments.all(), key=lambda a: (a.sort_order or 0, a.pk or 0))
        documents = get_document_model().objects.in_bulk([a.document_id for a in attachments])
        return [(a.pk, documents[a.document_id].title) for a in attachments if a.document_id in documents]

    def clean_new_attachments(self):
        """Every file is checked: all the refusals are shown at once, and the files that passed
        are remembered (kept for the next try when the form is refused)."""
        files = self.cleaned_data.get("new_attachments") or []
        errors = []
        for upload in files:
            try:
                check_upload(upload)
            except ValidationError as error:
                errors.append(error)
            else:
                self._checked_uploads.append(upload)
        if errors:
            raise ValidationError(errors)
        return files

    def clean(self):
        cleaned_data = super().clean()
        if self.instance.pk and not self.instance.is_editable:
            raise ValidationError(_("Accepted and rejected submissions cannot change; enter a new submission."))
        return cleaned_data

    def save(self, commit=True):
        submission = super().save(commit=False)
        if submission.pk is None and self.for_user is not None:
            submission.created_by = self.for_user
        if commit:
            submission.save()
            self.save_m2m()
        return submission

    def _save_m2m(self):
        super()._save_m2m()
        from .domain.attachments import attach
        from .models import SubmissionAttachment

        removed = self.cleaned_data.get("remove_attachments")
        if removed:
            # Only the link goes; the document is kept (PROTECT) for the history.
            SubmissionAttachment.objects.filter(submission=self.instance, pk__in=removed).delete()
        for upload in self.cleaned_data.get("new_attachments") or []:
            attach(self.instance, upload, self.for_user)
        from .domain import stash

        for upload in self.cleaned_data.get("kept_attachments") or []:
            attach(self.instance, upload, self.for_user)
            stash.discard(upload)


def line_label(line):
    commitment, target = line.commitment, line.target
    return f"{commitment.agency.name} · {target.code} {target.title} ({commitment.competition.title})"
