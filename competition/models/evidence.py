"""Evidence: a value reported for one commitment target as of a date, with narrative,
attachments and links. Its state moves draft → submitted → accepted, or returned (and
submitted again), or rejected; only accepted submissions count (docs/scoring.md, section 2)."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalKey
from modelcluster.models import ClusterableModel
from wagtail.admin.panels import FieldPanel, FieldRowPanel, InlinePanel
from wagtail.documents import get_document_model_string
from wagtail.models import Orderable, RevisionMixin

from ..enums import SubmissionSource, SubmissionStatus
from ..validators import check_visible_fields, validate_in_period, validate_judging_open, validate_value_for_unit
from .indexes import CoveringIndex
from .pages import CommitmentLine, acting_user_field, decimal_field

# Which state may follow which; every other change is refused.
TRANSITIONS = {
    SubmissionStatus.DRAFT: {SubmissionStatus.SUBMITTED},
    SubmissionStatus.SUBMITTED: {SubmissionStatus.ACCEPTED, SubmissionStatus.RETURNED, SubmissionStatus.REJECTED},
    SubmissionStatus.RETURNED: {SubmissionStatus.SUBMITTED},
    SubmissionStatus.ACCEPTED: set(),
    SubmissionStatus.REJECTED: set(),
}
EDITABLE_STATUSES = {SubmissionStatus.DRAFT, SubmissionStatus.RETURNED}
# The three optional parts of a structured update, in the order readers see them.
TEXT_PARTS = ("done", "next_steps", "obstacles")
# Changed only by the submit and decide actions (competition.domain.evidence), never by a form.
STATE_FIELDS = ("status", "submitted_at", "submitted_by", "decided_at", "decided_by", "decision_note")


class SubmissionQuerySet(models.QuerySet):
    def accepted(self):
        return self.filter(status=SubmissionStatus.ACCEPTED)

    def for_competition(self, competition):
        return self.filter(line__commitment__competition=competition)


class Submission(RevisionMixin, ClusterableModel):
    line = models.ForeignKey(
        CommitmentLine, verbose_name=_("commitment target"), on_delete=models.PROTECT, related_name="submissions"
    )
    reported_on = models.DateField(_("reporting date"), help_text=_("The date the value was measured."))
    value = decimal_field(_("measured value"))
    narrative = models.TextField(_("narrative"), blank=True)
    # A structured update (docs/registration.md): three optional parts of the narrative. Empty in
    # the database too (db_default) for rows written in bulk without them (the `values` import).
    done = models.TextField(_("what was done"), blank=True, default="", db_default="")
    next_steps = models.TextField(_("what comes next"), blank=True, default="", db_default="")
    obstacles = models.TextField(_("what stands in the way"), blank=True, default="", db_default="")
    # Self-assessment (tự chấm điểm): the points the agency believes it earned, never counted.
    self_points = decimal_field(
        _("own points"),
        null=True,
        blank=True,
        help_text=_(
            "The points your agency believes this value earns, from 0 to the target's maximum. Reviewers see "
            "them beside the computed points; they never count on the scoreboard."
        ),
    )
    self_justification = models.TextField(_("why these points"), blank=True, default="", db_default="")
    status = models.CharField(
        _("status"), max_length=16, choices=SubmissionStatus.choices, default=SubmissionStatus.DRAFT, db_index=True
    )
    # How the value came in: typed into the form, imported by a manager, or sent by the agency's
    # own system (a data feed, docs/feeds.md). Set by the app, never by a form; db_default for
    # rows written in bulk without it.
    source = models.CharField(
        _("source"),
        max_length=16,
        choices=SubmissionSource.choices,
        default=SubmissionSource.FORM,
        db_default=SubmissionSource.FORM,
        editable=False,
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = acting_user_field(_("created by"))
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True, editable=False)
    submitted_by = acting_user_field(_("submitted by"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True, editable=False)
    decided_by = acting_user_field(_("decided by"))
    decision_note = models.TextField(
        _("decision note"), blank=True, help_text=_("Why the submission was returned or rejected.")
    )

    objects = SubmissionQuerySet.as_manager()

    # Nothing links to a submission from content: keeping Wagtail's reference index of
    # submissions up to date would only slow down imports of official statistics.
    wagtail_reference_index_ignore = True

    panels = [
        FieldPanel("line"),
        FieldRowPanel([FieldPanel("reported_on"), FieldPanel("value")]),
        FieldPanel("narrative"),
        InlinePanel("attachments", label=_("Attachments")),
        InlinePanel("links", label=_("Links")),
    ]

    class Meta:
        verbose_name = _("submission")
        verbose_name_plural = _("submissions")
        ordering = ["-reported_on", "-pk"]
        indexes = [
            models.Index(fields=["line", "status", "reported_on"], name="submission_line_status_date"),
            # The value boards read for a line (docs/scoring.md, section 2): its accepted submissions,
            # best first, carrying the value; see competition.domain.scoreboard.
            CoveringIndex(
                F("line"),
                F("reported_on").desc(),
                F("decided_at").desc(nulls_last=True),
                F("id").desc(),
                condition=Q(status=SubmissionStatus.ACCEPTED),
                covering=["value"],
                name="submission_chosen",
            ),
        ]

    def __str__(self):
        # The value as written, without the column's trailing zeros (76.9, not 76.9000).
        value = format(self.value.normalize(), "f") if isinstance(self.value, Decimal) else self.value
        return f"{self.line} · {self.reported_on.isoformat()} · {value}"

    @property
    def agency(self):
        return self.line.commitment.agency

    @property
    def target(self):
        return self.line.target

    @property
    def is_editable(self):
        return self.status in EDITABLE_STATUSES

    def with_content_json(self, content):
        """The submission as a revision holds it (reverting, comparing). Files deleted from the
        library since that revision are left out: they cannot come back, and loading a revision
        that names them must not fail."""
        attachments = content.get("attachments") or []
        if attachments:
            from wagtail.documents import get_document_model

            ids = {attachment.get("document") for attachment in attachments}
            existing = set(get_document_model().objects.filter(pk__in=ids).values_list("pk", flat=True))
            content = {**content, "attachments": [a for a in attachments if a.get("document") in existing]}
        return super().with_content_json(content)

    def can_transition_to(self, status):
        return status in TRANSITIONS[SubmissionStatus(self.status)]

    def clean(self):
        super().clean()
        texts = ("narrative", "decision_note", *TEXT_PARTS, "self_justification")
        check_visible_fields(self, *texts, multiline=texts)
        if self.line_id is None:
            return
        target = self.line.target
        competition = self.line.commitment.competition
        errors = {}
        if self.self_points is not None:
            if not (0 <= self.self_points <= target.max_points):
                errors["self_points"] = _("Your own points must lie between 0 and %(max)s, the target's maximum.") % {
                    "max": format(target.max_points.normalize(), "f")
                }
            if not self.self_justification.strip():
                errors["self_justification"] = _("Say briefly why your agency proposes these points.")
        try:
            validate_value_for_unit(self.value, target.unit)
        except ValidationError as error:
            errors["value"] = error
        try:
            validate_in_period(self.reported_on, competition.start_date, competition.end_date)
        except ValidationError as error:
            errors["reported_on"] = error
        try:
            validate_judging_open(competition)
        except ValidationError as error:
            errors["line"] = error
        if errors:
            raise ValidationError(errors)


class SubmissionAttachment(Orderable):
    submission = ParentalKey(
        Submission, verbose_name=_("submission"), on_delete=models.CASCADE, related_name="attachments"
    )
    document = models.ForeignKey(
        get_document_model_string(), verbose_name=_("document"), on_delete=models.PROTECT, related_name="+"
    )
    is_public = models.BooleanField(
        _("public"), default=True, help_text=_("Shown on the public commitment page once the submission is accepted.")
    )

    panels = [FieldPanel("document"), FieldPanel("is_public")]

    class Meta(Orderable.Meta):
        verbose_name = _("attachment")


class EvidenceFile(models.Model):
    """Where an evidence file came from: the agency and competition of the submission it was
    first uploaded to. Kept for good, so that a file taken off a draft, or left by a deleted
    draft, stays restricted to that agency's editors and the competition's managers (an accepted
    submission holding it makes it public again). Written when a file is first attached
    (competition.signals)."""

    document = models.OneToOneField(
        get_document_model_string(),
        verbose_name=_("document"),
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="competition_evidence",
    )
    # SET_NULL: deleting an agency or a competition page never fails because of an old file;
    # a file without an owner is then for superusers only.
    agency = models.ForeignKey(
        "competition.Agency", verbose_name=_("agency"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    competition = models.ForeignKey(
        "competition.CompetitionPage",
        verbose_name=_("competition"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("evidence file")
        verbose_name_plural = _("evidence files")

    def __str__(self):
        return str(self.document_id)


class SubmissionLink(Orderable):
    submission = ParentalKey(Submission, verbose_name=_("submission"), on_delete=models.CASCADE, related_name="links")
    url = models.URLField(_("address"), max_length=500)
    title = models.CharField(_("title"), max_length=255, blank=True)

    panels = [FieldRowPanel([FieldPanel("url"), FieldPanel("title")])]

    class Meta(Orderable.Meta):
        verbose_name = _("link")

    def __str__(self):
        return self.title or self.url
