"""Registration (đăng ký thi đua): at the start of a competition each agency proposes the targets
it commits to, its own baseline and target value where they differ from the shared ones (with a
justification), and its pledges in free text. A manager approves the registration, which creates
or updates the agency's published commitment page, or returns it with a reason. Its state moves
draft → submitted → approved, or returned (and submitted again); see docs/registration.md."""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalKey
from modelcluster.models import ClusterableModel
from wagtail.models import RevisionMixin

from ..validators import check_visible_fields, validate_value_for_unit
from .agencies import Agency
from .pages import CompetitionPage, TargetPage, acting_user_field, decimal_field

MAX_PLEDGE = 5000
MAX_JUSTIFICATION = 1000


class RegistrationStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    RETURNED = "returned", _("Returned")
    APPROVED = "approved", _("Approved")


# An agency expected to register that has not saved anything yet has no row: "not started".
NOT_STARTED = "not_started"
EDITABLE_STATUSES = {RegistrationStatus.DRAFT, RegistrationStatus.RETURNED}
# Changed only by the actions of competition.domain.registration, never by a form.
STATE_FIELDS = ("status", "submitted_at", "submitted_by", "decided_at", "decided_by", "decision_note")


class Registration(RevisionMixin, ClusterableModel):
    """One agency's registration in one competition, with its lines (the targets it commits to)."""

    competition = models.ForeignKey(
        CompetitionPage, verbose_name=_("competition"), on_delete=models.CASCADE, related_name="registrations"
    )
    agency = models.ForeignKey(Agency, verbose_name=_("agency"), on_delete=models.PROTECT, related_name="registrations")
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=RegistrationStatus.choices,
        default=RegistrationStatus.DRAFT,
        db_index=True,
    )
    pledge = models.TextField(
        _("pledges"),
        blank=True,
        max_length=MAX_PLEDGE,
        help_text=_(
            "What the agency pledges beside the targets, in its own words; shown on its public commitment "
            "page once approved. Leave a blank line between paragraphs."
        ),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = acting_user_field(_("created by"))
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True, editable=False)
    submitted_by = acting_user_field(_("submitted by"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True, editable=False)
    decided_by = acting_user_field(_("decided by"))
    decision_note = models.TextField(
        _("reason for returning"), blank=True, help_text=_("Why the registration was returned to the agency.")
    )

    wagtail_reference_index_ignore = True

    class Meta:
        verbose_name = _("registration")
        verbose_name_plural = _("registrations")
        ordering = ["competition", "agency__code"]
        constraints = [models.UniqueConstraint(fields=["competition", "agency"], name="one_registration_per_agency")]

    def __str__(self):
        return f"{self.agency.name} · {self.competition.title}"

    @property
    def is_editable(self):
        return self.status in EDITABLE_STATUSES

    def clean(self):
        super().clean()
        check_visible_fields(self, "pledge", "decision_note", multiline=("pledge", "decision_note"))


class RegistrationLine(models.Model):
    """A target the agency commits to, with its own baseline and target value where it proposes
    them (each needs a justification)."""

    registration = ParentalKey(
        Registration, verbose_name=_("registration"), on_delete=models.CASCADE, related_name="lines"
    )
    target = models.ForeignKey(TargetPage, verbose_name=_("target"), on_delete=models.CASCADE, related_name="+")
    baseline = decimal_field(_("own baseline"), null=True, blank=True)
    target_value = decimal_field(_("own target value"), null=True, blank=True)
    justification = models.TextField(_("justification"), blank=True, max_length=MAX_JUSTIFICATION)

    class Meta:
        verbose_name = _("registered target")
        verbose_name_plural = _("registered targets")
        constraints = [
            models.UniqueConstraint(fields=["registration", "target"], name="one_registration_line_per_target")
        ]

    def __str__(self):
        return f"{self.registration.agency.code} · {self.target.code}"

    @property
    def has_own_values(self):
        return self.baseline is not None or self.target_value is not None

    def clean(self):
        super().clean()
        check_visible_fields(self, "justification", multiline=("justification",))
        if self.target_id is None:
            return
        target = self.target
        registration = getattr(self, "registration", None)
        errors = {}
        if registration is not None and registration.competition_id != target.competition_id:
            errors["target"] = _("This target belongs to another competition.")
        for field in ("baseline", "target_value"):
            try:
                validate_value_for_unit(getattr(self, field), target.unit)
            except ValidationError as error:
                errors[field] = error
        if self.has_own_values and not self.justification.strip():
            errors["justification"] = _("Say why the agency proposes its own baseline or target value.")
        if errors:
            raise ValidationError(errors)
