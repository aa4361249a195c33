"""The jury: reviewers of a competition, their scores for submissions, and the bonus and
deduction points managers record (docs/scoring.md, section 6)."""

from django.conf import settings
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalManyToManyField
from modelcluster.models import ClusterableModel
from wagtail.admin.panels import FieldPanel, FieldRowPanel

from ..enums import SubmissionStatus
from ..validators import check_visible_fields, validate_in_period, validate_judging_open, validate_no_nul
from .agencies import Agency
from .evidence import Submission
from .indexes import CoveringIndex
from .pages import CommitmentPage, CompetitionPage, TargetPage, acting_user_field, decimal_field

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
        """Affiliated with the agency, or declared a conflict with it (DeclaredConflict)."""
        if self.agency_id is not None and self.agency_id == agency_id:
            return True
        return agency_id in self.declared_agency_ids()

    def declared_agency_ids(self):
        """Ids of the agencies the juror declared a conflict with (read once per instance)."""
        if not hasattr(self, "_declared_agency_ids"):
            self._declared_agency_ids = (
                frozenset(self.declared_conflicts.values_list("agency_id", flat=True)) if self.pk else frozenset()
            )
        return self._declared_agency_ids


class DeclaredConflict(models.Model):
    """A conflict of interest a reviewer declared with an agency: from then on they are treated
    as affiliated with it (docs/results.md, "Review panels and conflicts")."""

    juror = models.ForeignKey(
        Juror, verbose_name=_("juror"), on_delete=models.CASCADE, related_name="declared_conflicts"
    )
    agency = models.ForeignKey(
        Agency, verbose_name=_("agency"), on_delete=models.PROTECT, related_name="declared_conflicts"
    )
    reason = models.TextField(_("reason"))
    declared_at = models.DateTimeField(_("declared at"), auto_now_add=True)

    class Meta:
        verbose_name = _("declared conflict")
        verbose_name_plural = _("declared conflicts")
        ordering = ["-declared_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["juror", "agency"], name="unique_declared_conflict")]

    def __str__(self):
        return f"{self.juror.user.get_username()} / {self.agency.code}"


class ReviewPanel(ClusterableModel):
    """Reviewers assigned to part of a competition: its lines of the chosen targets (all when
    none is chosen) of the agencies in the chosen clusters (agency groups, by direct parent; all
    when none is chosen). A line that lies in some panel is reviewed, and its jury points
    aggregated, by those panels' members only; a line in no panel by the whole jury."""

    competition = models.ForeignKey(
        CompetitionPage, verbose_name=_("competition"), on_delete=models.CASCADE, related_name="review_panels"
    )
    name = models.CharField(_("name"), max_length=255)
    targets = ParentalManyToManyField(
        TargetPage,
        verbose_name=_("targets"),
        blank=True,
        related_name="review_panels",
        help_text=_("Leave empty for every target of the competition."),
    )
    clusters = ParentalManyToManyField(
        Agency,
        verbose_name=_("clusters"),
        blank=True,
        related_name="review_panels",
        help_text=_("Agency groups: the panel reviews the agencies directly below them. Leave empty for every agency."),
    )
    members = ParentalManyToManyField(Juror, verbose_name=_("reviewers"), blank=True, related_name="review_panels")

    panels = [
        FieldPanel("competition"),
        FieldPanel("name"),
        FieldPanel("targets"),
        FieldPanel("clusters"),
        FieldPanel("members"),
    ]

    class Meta:
        verbose_name = _("review panel")
        verbose_name_plural = _("review panels")
        ordering = ["competition", "name"]
        constraints = [models.UniqueConstraint(fields=["competition", "name"], name="unique_panel_name")]

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        check_visible_fields(self, "name")
        if self.competition_id:
            try:
                validate_judging_open(self.competition)
            except ValidationError as error:
                raise ValidationError({"competition": error}) from None


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
    # False when the juror is not a reviewer of the submission's line under the competition's
    # review panels: the score is kept but left out of the jury points (domain.panels keeps it).
    counted = models.BooleanField(_("counted"), default=True, db_default=True)

    panels = [FieldRowPanel([FieldPanel("points")]), FieldPanel("comment")]

    class Meta:
        verbose_name = _("jury score")
        verbose_name_plural = _("jury scores")
        constraints = [models.UniqueConstraint(fields=["submission", "juror"], name="unique_score_per_juror")]
        # Boards read the counted points of each chosen submission from this index alone.
        indexes = [
            CoveringIndex(fields=["submission"], covering=["points", "counted"], name="juryscore_submission_counted")
        ]

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
        from ..templatetags.competition_tags import signed_points

        # As the listings and public pages write points: "+2", "-0.5", not "+2.0000".
        return f"{self.agency.code} {signed_points(self.points)} {self.reason}"

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
