"""The jury: reviewers of a competition, their scores for submissions, and the bonus and
deduction points managers record (docs/scoring.md, section 6)."""

from django.conf import settings
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, FieldRowPanel

from ..enums import SubmissionStatus
from ..validators import check_visible_fields, validate_in_period, validate_judging_open, validate_no_nul
from .agencies import Agency
from .evidence import Submission
from .indexes import CoveringIndex
from .pages import CommitmentPage, CompetitionPage, acting_user_field, decimal_field

SCORABLE_STATUSES = {SubmissionStatus.SUBMITTED, SubmissionStatus.ACCEPTED}


class Juror(models.Model):
    """A user's membership in a competition's jury. A juror affiliated with an agency never
    scores that agency (conflict of interest)."""

    competition = models.ForeignKey(
        CompetitionPage, verbose_name=_("competition"), on_delete=models.CASCADE, related_name="jurors"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="jury_seats"
    )
    agency = models.ForeignKey(
        Agency,
        verbose_name=_("affiliated agency"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="jurors",
        help_text=_("The juror never sees or scores this agency's submissions."),
    )

    panels = [FieldPanel("competition"), FieldPanel("user"), FieldPanel("agency")]

    class Meta:
        verbose_name = _("juror")
        verbose_name_plural = _("jurors")
        constraints = [models.UniqueConstraint(fields=["competition", "user"], name="unique_juror_per_competition")]

    def __str__(self):
        return f"{self.user.get_username()} ({self.competition.title})"

    def clean(self):
        super().clean()
        if (
            self.pk
            and self.agency_id
            and JuryScore.objects.filter(juror=self, submission__line__commitment__agency_id=self.agency_id).exists()
        ):
            raise ValidationError(
                {
                    "agency": _(
                        "This reviewer has already scored the agency's submissions; "
                        "the affiliation would be a conflict of interest."
                    )
                }
            )

    def has_conflict_with(self, agency_id):
        return self.agency_id is not None and self.agency_id == agency_id


class JuryScore(models.Model):
    """One juror's points for one submission, between 0 and the target's maximum."""

    submission = models.ForeignKey(
        Submission, verbose_name=_("submission"), on_delete=models.PROTECT, related_name="scores"
    )
    juror = models.ForeignKey(Juror, verbose_name=_("juror"), on_delete=models.PROTECT, related_name="scores")
    points = decimal_field(_("points"))
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    panels = [FieldRowPanel([FieldPanel("points")]), FieldPanel("comment")]

    class Meta:
        verbose_name = _("jury score")
        verbose_name_plural = _("jury scores")
        constraints = [models.UniqueConstraint(fields=["submission", "juror"], name="unique_score_per_juror")]
        # Boards read the points of each chosen submission from this index alone.
        indexes = [CoveringIndex(fields=["submission"], covering=["points"], name="juryscore_submission_points")]

    def __str__(self):
        return f"{self.juror.user.get_username()}: {self.points}"

    def clean(self):
        super().clean()
        try:
            validate_no_nul(self.comment)
        except ValidationError as error:
            raise ValidationError({"comment": error}) from None
        check_visible_fields(self, "comment", multiline=("comment",))
        if self.submission_id is None or self.juror_id is None:
            return
        line = self.submission.line
        commitment = line.commitment
        if self.juror.competition_id != commitment.competition_id:
            raise ValidationError({"juror": _("This user is not a reviewer of the submission's competition.")})
        if self.juror.has_conflict_with(commitment.agency_id):
            raise ValidationError(
                {"juror": _("A reviewer affiliated with an agency cannot score that agency (conflict of interest).")}
            )
        if self.submission.status not in SCORABLE_STATUSES:
            raise ValidationError({"submission": _("Only submitted or accepted submissions can be scored.")})
        try:
            validate_judging_open(commitment.competition)
        except ValidationError as error:
            raise ValidationError({"submission": error}) from None
        max_points = line.target.max_points
        if self.points is not None and not (0 <= self.points <= max_points):
            raise ValidationError(
                {"points": _("Points must lie between 0 and %(max)s, the target's maximum.") % {"max": max_points}}
            )


class Adjustment(models.Model):
    """Bonus (+) or deduction (-) points for an agency in a competition, with the reason."""

    competition = models.ForeignKey(
        CompetitionPage, verbose_name=_("competition"), on_delete=models.CASCADE, related_name="adjustments"
    )
    agency = models.ForeignKey(Agency, verbose_name=_("agency"), on_delete=models.PROTECT, related_name="adjustments")
    points = decimal_field(_("points"), help_text=_("Positive for a bonus, negative for a deduction."))
    reason = models.CharField(_("reason"), max_length=500)
    on = models.DateField(
        _("counts from"),
        null=True,
        blank=True,
        help_text=_(
            "The points count on scoreboards dated on or after this day. Leave empty to count them "
            "from the competition's start."
        ),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = acting_user_field(_("created by"))

    panels = [
        FieldPanel("competition"),
        FieldPanel("agency"),
        FieldRowPanel([FieldPanel("points"), FieldPanel("on")]),
        FieldPanel("reason"),
    ]

    class Meta:
        verbose_name = _("adjustment")
        verbose_name_plural = _("adjustments")
        constraints = [
            models.UniqueConstraint(fields=["competition", "agency", "reason"], name="unique_adjustment_reason")
        ]

    def __str__(self):
        return f"{self.agency.code} {self.points:+} {self.reason}"

    def clean(self):
        super().clean()
        check_visible_fields(self, "reason", multiline=("reason",))
        if self.points is not None and self.points == 0:
            raise ValidationError(
                {"points": _("An adjustment of 0 points changes nothing; enter a bonus or a deduction.")}
            )
        if (
            self.competition_id
            and self.agency_id
            and not CommitmentPage.objects.filter(competition_id=self.competition_id, agency_id=self.agency_id).exists()
        ):
            raise ValidationError({"agency": _("This agency has no commitment in the competition.")})
        if self.on is not None and self.competition_id:
            try:
                validate_in_period(self.on, self.competition.start_date, self.competition.end_date)
            except ValidationError as error:
                raise ValidationError({"on": error}) from None
        if self.competition_id:
            try:
                validate_judging_open(self.competition)
            except ValidationError as error:
                raise ValidationError({"competition": error}) from None

    @property
    @admin.display(description=_("counts from"), ordering="on")
    def effective_on(self):
        """The day from which the points count: `on`, or the competition's start."""
        return self.on or self.competition.start_date
