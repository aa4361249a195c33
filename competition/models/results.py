"""How a competition ends: the official result published when judging closes (its board kept
as it was computed), the rules of its commendations, the awards proposed from the result and the
decision that grants them (docs/results.md)."""

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalKey
from wagtail.admin.panels import FieldPanel, FieldRowPanel
from wagtail.documents import get_document_model_string
from wagtail.models import Orderable

from ..validators import check_visible_fields, validate_no_nul
from .agencies import Agency
from .pages import CompetitionPage, acting_user_field


class OfficialResult(models.Model):
    """The board published when judging closed: as of the competition's end, with the jury's
    points, kept as plain data (`scoring.board_to_data`) so that a later change to the data
    behind it never changes a published result silently. Publishing again (after a reopening)
    adds a new one; the earlier ones stay, withdrawn, in the history."""

    competition = models.ForeignKey(
        CompetitionPage, verbose_name=_("competition"), on_delete=models.CASCADE, related_name="official_results"
    )
    as_of = models.DateField(_("as of"))
    board = models.JSONField(_("board"), encoder=DjangoJSONEncoder, editable=False)
    published_at = models.DateTimeField(_("published at"))
    published_by = acting_user_field(_("published by"))
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    withdrawn_by = acting_user_field(_("withdrawn by"))
    withdrawn_reason = models.TextField(_("reason for withdrawing"), blank=True, validators=[validate_no_nul])

    class Meta:
        verbose_name = _("official result")
        verbose_name_plural = _("official results")
        ordering = ["-published_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["competition"],
                condition=models.Q(withdrawn_at__isnull=True),
                name="one_current_official_result",
            )
        ]

    def __str__(self):
        return f"{self.competition.title} ({self.as_of.isoformat()})"

    def scoreboard(self):
        """The published board as a `scoring.Board`."""
        from ..scoring import board_from_data

        return board_from_data(self.board)


class AwardBasis(models.TextChoices):
    RANK = "rank", _("Rank overall at most")
    CLUSTER_RANK = "cluster_rank", _("Rank in its cluster at most")
    TIER = "tier", _("Tier at least")


class AwardRule(Orderable):
    """One kind of commendation a competition gives and who qualifies for it. The rules are
    applied in their order: an agency receives the first award it qualifies for, and each award
    goes to at most `limit` agencies, best ranked first."""

    page = ParentalKey(CompetitionPage, on_delete=models.CASCADE, related_name="award_rules")
    name = models.CharField(
        _("award"), max_length=255, help_text=_("For example “Cờ thi đua”, “Bằng khen” or “Giấy khen”.")
    )
    basis = models.CharField(_("condition"), max_length=16, choices=AwardBasis.choices, default=AwardBasis.RANK)
    rank = models.PositiveIntegerField(
        _("rank"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_("For a condition on the rank: the lowest rank that qualifies (3: the first three)."),
    )
    tier = models.CharField(
        _("tier"),
        max_length=100,
        blank=True,
        help_text=_("For a condition on the tier: the lowest tier that qualifies, as the competition names it."),
    )
    limit = models.PositiveIntegerField(
        _("at most"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_("How many agencies may receive it at most; empty for no limit."),
    )

    panels = [
        FieldPanel("name"),
        FieldRowPanel([FieldPanel("basis"), FieldPanel("rank"), FieldPanel("tier"), FieldPanel("limit")]),
    ]

    class Meta(Orderable.Meta):
        verbose_name = _("award rule")
        verbose_name_plural = _("award rules")

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        check_visible_fields(self, "name", "tier")
        if self.basis == AwardBasis.TIER:
            if not self.tier.strip():
                raise ValidationError({"tier": _("Name the lowest tier that qualifies.")})
            labels = [label for label, _minimum in self.page.get_tiers()] if getattr(self, "page", None) else []
            if labels and self.tier.strip() not in labels:
                raise ValidationError(
                    {"tier": _("The competition's tiers are: %(tiers)s.") % {"tiers": ", ".join(labels)}}
                )
        elif not self.rank:
            raise ValidationError({"rank": _("Give the lowest rank that qualifies.")})


class CommendationDecision(models.Model):
    """The decision that grants a competition's awards: its number, date, issuing body and the
    signed document. Once recorded, the awards it lists are final and judging cannot reopen."""

    competition = models.OneToOneField(
        CompetitionPage, verbose_name=_("competition"), on_delete=models.CASCADE, related_name="commendation_decision"
    )
    official_result = models.ForeignKey(
        OfficialResult, verbose_name=_("official result"), on_delete=models.PROTECT, related_name="+"
    )
    number = models.CharField(_("decision number"), max_length=100, validators=[validate_no_nul])
    issued_on = models.DateField(_("date of the decision"))
    issued_by = models.CharField(_("issued by"), max_length=255, validators=[validate_no_nul])
    signed_by = models.CharField(_("signed by"), max_length=255, blank=True, validators=[validate_no_nul])
    document = models.ForeignKey(
        get_document_model_string(),
        verbose_name=_("signed decision"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    recorded_by = acting_user_field(_("recorded by"))

    class Meta:
        verbose_name = _("commendation decision")
        verbose_name_plural = _("commendation decisions")

    def __str__(self):
        return f"{self.number} ({self.issued_on.isoformat()})"

    def clean(self):
        super().clean()
        check_visible_fields(self, "number", "issued_by", "signed_by")


class Award(models.Model):
    """An agency's award in a competition: proposed from the official result by the rules,
    added by a manager, or taken off a proposal (with the reason, kept for the record)."""

    class Origin(models.TextChoices):
        PROPOSED = "proposed", _("Proposed from the results")
        ADDED = "added", _("Added by a manager")

    competition = models.ForeignKey(
        CompetitionPage, verbose_name=_("competition"), on_delete=models.CASCADE, related_name="awards"
    )
    official_result = models.ForeignKey(
        OfficialResult, verbose_name=_("official result"), on_delete=models.CASCADE, related_name="awards"
    )
    agency = models.ForeignKey(Agency, verbose_name=_("agency"), on_delete=models.PROTECT, related_name="awards")
    name = models.CharField(_("award"), max_length=255, validators=[validate_no_nul])
    position = models.PositiveIntegerField(_("order of the award"), default=0)  # the rule's order
    rank = models.PositiveIntegerField(_("rank"), null=True, blank=True)
    group_rank = models.PositiveIntegerField(_("rank in cluster"), null=True, blank=True)
    tier = models.CharField(_("tier"), max_length=100, blank=True)
    origin = models.CharField(_("origin"), max_length=16, choices=Origin.choices, default=Origin.PROPOSED)
    reason = models.TextField(
        _("reason"),
        blank=True,
        validators=[validate_no_nul],
        help_text=_("Why a manager added or took off this award."),
    )
    removed = models.BooleanField(_("taken off"), default=False)
    decision = models.ForeignKey(
        CommendationDecision,
        verbose_name=_("decision"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="awards",
    )
    changed_at = models.DateTimeField(_("changed at"), auto_now=True)
    changed_by = acting_user_field(_("changed by"))

    class Meta:
        verbose_name = _("award")
        verbose_name_plural = _("awards")
        ordering = ["position", "rank", "agency__code"]
        constraints = [
            models.UniqueConstraint(fields=["official_result", "agency"], name="one_award_per_agency_and_result")
        ]

    def __str__(self):
        return f"{self.name}: {self.agency}"
