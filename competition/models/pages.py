"""The published agreement as Wagtail pages: a competition page, its target pages and one
commitment page per agency. Only the live (published) rows count on scoreboards."""

from decimal import Decimal

from django import forms
from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalKey
from wagtail import blocks
from wagtail.admin.panels import FieldPanel, FieldRowPanel, InlinePanel, MultiFieldPanel
from wagtail.contrib.routable_page.models import RoutablePageMixin, path
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Orderable, Page, PagePermissionTester
from wagtail.search import index

from ..enums import Aggregation, Direction, ReportingSchedule, Unit
from ..page_forms import CommitmentPageForm, CompetitionChildPageForm, CompetitionCopyForm, TargetPageForm
from ..panels import JudgingPanel
from ..validators import check_visible_fields, validate_in_period, validate_value_for_unit
from .agencies import Agency

DEFAULT_TIERS = (("Excellent", 90), ("Good", 75), ("Fair", 50), ("Below target", 0))


class MeasuredInput(forms.NumberInput):
    """A stored figure as people wrote it in the admin's forms: 86 and 76.9, not the column's
    86.0000 and 76.9000. What a refused form sends back is shown as typed."""

    def format_value(self, value):
        if isinstance(value, Decimal) and value.is_finite():
            value = format(value.normalize(), "f")
        return super().format_value(value)


class MeasuredDecimalField(models.DecimalField):
    """A DecimalField whose admin form shows no needless trailing zeros (MeasuredInput). Migrations
    see a plain DecimalField: only the form's widget differs."""

    def formfield(self, **kwargs):
        kwargs.setdefault("widget", MeasuredInput)
        return super().formfield(**kwargs)

    def deconstruct(self):
        name, _path, args, kwargs = super().deconstruct()
        return name, "django.db.models.DecimalField", args, kwargs


def decimal_field(verbose_name, **kwargs):
    """Measured values, baselines and targets: up to 14 integer digits and 4 decimals."""
    return MeasuredDecimalField(verbose_name, max_digits=18, decimal_places=4, **kwargs)


def acting_user_field(verbose_name):
    """Who did something to a record (created, submitted, decided it): set by the app, never in
    a form, and kept as empty when the account is deleted (the audit log keeps the name)."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=verbose_name,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )


class CanonicalQueryMixin:
    """A public page whose query is not in its canonical form answers with a redirect to it
    (competition.domain.presentation.note_canonical_query)."""

    def serve(self, request, *args, **kwargs):
        from ..domain.presentation import CanonicalRedirect

        try:
            return super().serve(request, *args, **kwargs)
        except CanonicalRedirect as redirect:
            return redirect.response


class CompetitionPage(CanonicalQueryMixin, RoutablePageMixin, Page):
    """One emulation campaign: the agreement text, its period and phases, the signatories and the
    scoring settings. Its children are its target pages and commitment pages."""

    intro = RichTextField(_("introduction"), blank=True)
    body = StreamField(
        [
            ("heading", blocks.CharBlock(form_classname="title", label=_("Heading"))),
            ("paragraph", blocks.RichTextBlock(label=_("Paragraph"))),
            ("quote", blocks.BlockQuoteBlock(label=_("Quote"))),
        ],
        blank=True,
        verbose_name=_("agreement text"),
    )
    organiser = models.CharField(_("organiser"), max_length=255, blank=True)
    signed_on = models.DateField(_("signing date"), null=True, blank=True)
    start_date = models.DateField(_("period start"))
    end_date = models.DateField(_("period end"))
    at_risk_margin = models.DecimalField(
        _("at-risk margin"),
        max_digits=5,
        decimal_places=4,
        default=Decimal("0.10"),
        validators=[MinValueValidator(0), MaxValueValidator(1)],
        help_text=_("A target is at risk while its progress trails the expected progress by at most this share."),
    )
    jury_aggregation = models.CharField(
        _("jury aggregation"), max_length=16, choices=Aggregation.choices, default=Aggregation.MEAN
    )
    # Judging: while open, the public boards leave the jury's points out (docs/scoring.md,
    # section 6); closing and reopening are managers' actions (domain.judging), never a field of
    # the page form, and kept across revisions (`with_content_json`).
    closed = models.BooleanField(
        _("judging closed"),
        default=False,
        editable=False,
        help_text=_(
            "Once judging is closed, reviewers can no longer enter or change their scores and the "
            "public boards count the jury's points."
        ),
    )
    closed_at = models.DateTimeField(_("judging closed at"), null=True, blank=True, editable=False)
    closed_by = acting_user_field(_("judging closed by"))
    # Registration (docs/registration.md): agencies propose their commitments from `registration_opens`,
    # due by `registration_due` (later ones are late, still accepted).
    registration_opens = models.DateField(
        _("registration opens"),
        null=True,
        blank=True,
        help_text=_("Agencies register their commitments from this day. Leave empty to take no registrations."),
    )
    registration_due = models.DateField(
        _("registration due by"),
        null=True,
        blank=True,
        help_text=_("Registrations not submitted by this day are overdue (they are still accepted)."),
    )
    reporting_schedule = models.CharField(
        _("reporting schedule"),
        max_length=16,
        choices=ReportingSchedule.choices,
        default=ReportingSchedule.NONE,
        help_text=_("Agencies report by the end of each month or quarter, besides any dates listed below."),
    )

    # Data feeds (docs/feeds.md): whether values an agency's system sends count at once.
    accept_feed_values = models.BooleanField(
        _("accept values from data feeds at once"),
        default=False,
        db_default=False,
        help_text=_(
            "Values sent by agencies' own systems count on the scoreboards at once. Otherwise each waits, "
            "submitted, for a manager to accept it."
        ),
    )

    content_panels = Page.content_panels + [
        FieldPanel("intro"),
        FieldPanel("body"),
        MultiFieldPanel(
            [
                FieldRowPanel([FieldPanel("organiser"), FieldPanel("signed_on")]),
                FieldRowPanel([FieldPanel("start_date"), FieldPanel("end_date")]),
                InlinePanel("phases", label=_("Phases")),
            ],
            heading=_("Agreement"),
        ),
        MultiFieldPanel(
            [FieldRowPanel([FieldPanel("registration_opens"), FieldPanel("registration_due")])],
            heading=_("Registration"),
        ),
        MultiFieldPanel(
            [
                FieldPanel("reporting_schedule"),
                InlinePanel("reporting_deadlines", label=_("Reporting deadlines")),
                FieldPanel("accept_feed_values"),
            ],
            heading=_("Reporting"),
        ),
        InlinePanel("signatories", label=_("Signatories")),
        MultiFieldPanel(
            [
                FieldRowPanel([FieldPanel("at_risk_margin"), FieldPanel("jury_aggregation")]),
                JudgingPanel(heading=_("Judging")),
                InlinePanel(
                    "tiers",
                    label=_("Classification tiers"),
                    help_text=_("Leave empty for the default tiers: Excellent 90, Good 75, Fair 50, Below target 0."),
                ),
            ],
            heading=_("Scoring"),
        ),
        MultiFieldPanel(
            [
                InlinePanel(
                    "award_rules",
                    label=_("Award rules"),
                    help_text=_(
                        "Applied in this order once results are published: each agency receives the first "
                        "award it qualifies for. Managers review the proposal before recording the decision."
                    ),
                )
            ],
            heading=_("Commendations"),
        ),
    ]
    search_fields = Page.search_fields + [index.SearchField("intro"), index.SearchField("organiser")]

    subpage_types = ["competition.TargetPage", "competition.CommitmentPage"]
    template = "competition/pages/competition_page.html"
    # A copy (next year's competition, say) starts with judging open.
    exclude_fields_in_copy = ["closed", "closed_at", "closed_by"]
    copy_form_class = CompetitionCopyForm  # copies, never aliases
    # Judging is the competition's state, not its content: a revision published later (made
    # before judging closed or reopened) keeps it as it is.
    JUDGING_FIELDS = ("closed", "closed_at", "closed_by")

    class Meta:
        verbose_name = _("competition")
        verbose_name_plural = _("competitions")

    def clean(self):
        super().clean()
        check_visible_fields(self, "title")
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValidationError({"end_date": _("The period must end on or after its start.")})
        if self.registration_due and not self.registration_opens:
            raise ValidationError({"registration_opens": _("Say when registration opens.")})
        if self.registration_opens and self.registration_due and self.registration_due < self.registration_opens:
            raise ValidationError({"registration_due": _("Registration must be due on or after it opens.")})

    def get_context(self, request, *args, **kwargs):
        from ..domain.presentation import competition_context

        context = super().get_context(request, *args, **kwargs)
        context.update(competition_context(self, request))
        return context

    @path("report/", name="report")
    def report(self, request):
        """The results report, made for A4 paper (`report.pdf` beside it is the same as PDF)."""
        from django.template.response import TemplateResponse

        from ..domain.report import read_report

        context = read_report(self, request)
        return TemplateResponse(request, "competition/pages/report_page.html", {**context, "self": self})

    @path("method/", name="method")
    def method(self, request):
        """How scores are computed: the scoring rules with this competition's own settings."""
        from django.template.response import TemplateResponse

        from ..domain.method import method_context

        return TemplateResponse(
            request, "competition/pages/method_page.html", {**method_context(self, request), "self": self}
        )

    @path("clusters/<str:code>/", name="cluster")
    def cluster(self, request, code):
        """One cluster of agencies (an agency above others): its ranking, figures and targets."""
        from django.template.response import TemplateResponse

        from ..domain.clusters import cluster_context

        return TemplateResponse(
            request, "competition/pages/cluster_page.html", {**cluster_context(self, request, code), "self": self}
        )

    def with_content_json(self, content):
        page = super().with_content_json(content)
        for name in self.JUDGING_FIELDS:
            setattr(page, name, getattr(self, name))
        return page

    def get_tiers(self):
        """The classification tiers as (label, minimum score percent), highest minimum first."""
        tiers = [(tier.label, tier.minimum) for tier in self.tiers.all()]
        return sorted(tiers or DEFAULT_TIERS, key=lambda tier: tier[1], reverse=True)


class CompetitionPhase(Orderable):
    page = ParentalKey(CompetitionPage, on_delete=models.CASCADE, related_name="phases")
    name = models.CharField(_("name"), max_length=255)
    end_date = models.DateField(_("end date"))

    panels = [FieldRowPanel([FieldPanel("name"), FieldPanel("end_date")])]

    class Meta(Orderable.Meta):
        verbose_name = _("phase")

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        try:
            validate_in_period(self.end_date, self.page.start_date, self.page.end_date)
        except ValidationError as error:
            raise ValidationError({"end_date": error}) from None


class ReportingDeadline(Orderable):
    """A date by which every agency reports a value for each of its commitment targets."""

    page = ParentalKey(CompetitionPage, on_delete=models.CASCADE, related_name="reporting_deadlines")
    date = models.DateField(_("date"))

    panels = [FieldPanel("date")]

    class Meta(Orderable.Meta):
        verbose_name = _("reporting deadline")

    def __str__(self):
        return self.date.isoformat()

    def clean(self):
        super().clean()
        page = getattr(self, "page", None)
        if page is not None:
            try:
                validate_in_period(self.date, page.start_date, page.end_date)
            except ValidationError as error:
                raise ValidationError({"date": error}) from None


class CompetitionSignatory(Orderable):
    page = ParentalKey(CompetitionPage, on_delete=models.CASCADE, related_name="signatories")
    agency = models.ForeignKey(Agency, verbose_name=_("agency"), on_delete=models.PROTECT, related_name="+")
    signed_by = models.CharField(_("signed by"), max_length=255, blank=True)
    signer_title = models.CharField(_("signer's title"), max_length=255, blank=True)

    panels = [FieldPanel("agency"), FieldRowPanel([FieldPanel("signed_by"), FieldPanel("signer_title")])]

    class Meta(Orderable.Meta):
        verbose_name = _("signatory")

    def __str__(self):
        return str(self.agency)


class CompetitionTier(Orderable):
    page = ParentalKey(CompetitionPage, on_delete=models.CASCADE, related_name="tiers")
    label = models.CharField(_("label"), max_length=100)
    minimum = models.DecimalField(
        _("minimum score %"), max_digits=7, decimal_places=2, validators=[MinValueValidator(0)]
    )

    panels = [FieldRowPanel([FieldPanel("label"), FieldPanel("minimum")])]

    class Meta(Orderable.Meta):
        verbose_name = _("tier")

    def __str__(self):
        return f"{self.label} ({self.minimum})"


class CompetitionChildPagePermissionTester(PagePermissionTester):
    def can_copy(self):
        return False


class CompetitionChildPage(CanonicalQueryMixin, Page):
    """What target and commitment pages share: they live directly under one competition page,
    recorded in `competition` so that queries and constraints need no tree walk."""

    competition = models.ForeignKey(
        CompetitionPage, verbose_name=_("competition"), on_delete=models.RESTRICT, related_name="+", editable=False
    )

    base_form_class = CompetitionChildPageForm
    parent_page_types = ["competition.CompetitionPage"]
    subpage_types = []
    # A copy belongs to the competition it is copied under (next year's competition, copied with
    # its subpages): `save` sets it from the new parent.
    exclude_fields_in_copy = ["competition"]

    def clean(self):
        super().clean()
        check_visible_fields(self, "title")
        if self.competition_id is not None:
            # The form leaves `competition` out (it is set from the parent), and Django then skips
            # the constraints naming it: a second target with one code, or a second commitment
            # of one agency, in one competition would reach the database as a server error.
            self.validate_constraints()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.competition_id is None:
            self.competition = self.get_parent().specific
        return super().save(*args, **kwargs)

    def serve(self, request, *args, **kwargs):
        # Wagtail serves a live page below a page that is not live: a competition unpublished
        # (or expired) without its child pages would still show its targets and every agency's
        # figures. Its pages are gone from the public site with it; a preview (in the admin, of a
        # competition being prepared) still shows them.
        if not self.competition.live and not getattr(request, "is_preview", False):
            raise Http404
        return super().serve(request, *args, **kwargs)

    def permissions_for_user(self, user):
        """Wagtail's permissions, except that a target or commitment page is not copied on its
        own (its code or agency is unique in its competition): Copy is not offered, and the
        Copy screen and the admin API's `copy` refuse it. A competition copied with its subpages
        copies them."""
        return CompetitionChildPagePermissionTester(user, self)

    def can_move_to(self, parent):
        """A target or commitment never leaves its competition: its reported values, scores and
        lines would go with it. Wagtail asks this on every move path (the Move screen, the page
        listing's bulk "Move", the admin API's `move`), for superusers too; reordering within the
        competition does not ask it."""
        return super().can_move_to(parent) and (self.competition_id is None or parent.pk == self.competition_id)


class TargetPage(CompetitionChildPage):
    """One measurable goal of a competition (docs/scoring.md, sections 3 and 4)."""

    code = models.CharField(_("code"), max_length=32, help_text=_("Unique within the competition, e.g. T1."))
    description = RichTextField(_("description"), blank=True)
    unit = models.CharField(_("unit"), max_length=16, choices=Unit.choices)
    direction = models.CharField(_("direction"), max_length=16, choices=Direction.choices, default=Direction.HIGHER)
    baseline = decimal_field(_("baseline"))
    target_value = decimal_field(_("target value"))
    deadline = models.DateField(
        _("deadline"), null=True, blank=True, help_text=_("Leave empty for the end of the competition.")
    )
    max_points = decimal_field(_("maximum points"), validators=[MinValueValidator(0)])
    required = models.BooleanField(
        _("required of every agency"),
        default=False,
        db_default=False,  # rows written in bulk (the benchmark's generator) leave it out
        help_text=_("Already in every agency's registration; agencies cannot take it out."),
    )

    content_panels = Page.content_panels + [
        FieldRowPanel([FieldPanel("code"), FieldPanel("max_points")]),
        FieldPanel("required"),
        FieldPanel("description"),
        FieldRowPanel([FieldPanel("unit"), FieldPanel("direction")]),
        FieldRowPanel([FieldPanel("baseline"), FieldPanel("target_value"), FieldPanel("deadline")]),
        InlinePanel("milestones", label=_("Milestones")),
    ]
    search_fields = Page.search_fields + [index.SearchField("code"), index.SearchField("description")]
    template = "competition/pages/target_page.html"
    base_form_class = TargetPageForm

    class Meta:
        verbose_name = _("target")
        verbose_name_plural = _("targets")
        constraints = [
            models.UniqueConstraint(fields=["competition", "code"], name="unique_target_code_per_competition")
        ]

    def __str__(self):
        return f"{self.code} {self.title}"

    def get_context(self, request, *args, **kwargs):
        from ..domain.presentation import target_context

        context = super().get_context(request, *args, **kwargs)
        context.update(target_context(self, request))
        return context

    @property
    def effective_deadline(self):
        return self.deadline or self.competition.end_date

    def clean(self):
        super().clean()
        errors = {}
        if self.max_points is not None and self.max_points <= 0:
            errors["max_points"] = _("The maximum points must be more than 0.")
        for field in ("baseline", "target_value"):
            try:
                validate_value_for_unit(getattr(self, field), self.unit)
            except ValidationError as error:
                errors[field] = error
        if self.competition_id is not None and self.deadline is not None:
            competition = self.competition
            try:
                validate_in_period(self.deadline, competition.start_date, competition.end_date, inclusive_start=False)
            except ValidationError as error:
                errors["deadline"] = error
        if errors:
            raise ValidationError(errors)


class TargetMilestone(Orderable):
    """An intermediate value the target should reach by a date (docs/scoring.md, section 4)."""

    page = ParentalKey(TargetPage, on_delete=models.CASCADE, related_name="milestones")
    date = models.DateField(_("date"))
    value = decimal_field(_("value"))

    panels = [FieldRowPanel([FieldPanel("date"), FieldPanel("value")])]

    class Meta(Orderable.Meta):
        verbose_name = _("milestone")

    def __str__(self):
        return f"{self.date}: {self.value}"

    def clean(self):
        super().clean()
        # In the page editor the milestone is validated before it is attached to its page;
        # TargetPageForm checks it there.
        page = getattr(self, "page", None)
        if page is None:
            return
        errors = {}
        try:
            validate_value_for_unit(self.value, page.unit)
        except ValidationError as error:
            errors["value"] = error
        if page.competition_id is not None:
            competition = page.competition
            try:
                validate_in_period(self.date, competition.start_date, competition.end_date)
            except ValidationError as error:
                errors["date"] = error
        if errors:
            raise ValidationError(errors)


class CommitmentPage(CompetitionChildPage):
    """One agency's pledge in a competition: which targets it commits to, with its own baseline
    and target value where they differ from the target's."""

    agency = models.ForeignKey(Agency, verbose_name=_("agency"), on_delete=models.PROTECT, related_name="commitments")
    pledge = RichTextField(_("pledge"), blank=True)

    content_panels = Page.content_panels + [
        FieldPanel("agency"),
        FieldPanel("pledge"),
        InlinePanel("lines", label=_("Committed targets"), min_num=1),
    ]
    template = "competition/pages/commitment_page.html"
    base_form_class = CommitmentPageForm
    # In a copy of its competition, a commitment page names its agency and pledge but no target:
    # its lines point at the original competition's targets and carry what was reported there.
    exclude_fields_in_copy = ["competition", "lines"]

    class Meta:
        verbose_name = _("commitment")
        verbose_name_plural = _("commitments")
        constraints = [models.UniqueConstraint(fields=["competition", "agency"], name="unique_commitment_per_agency")]

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        if self._state.adding and self.live and not self.lines.all():
            # A new commitment page naming no target (the copy of a competition published with
            # its subpages copies no lines) is saved as a draft, never published empty.
            self.live = False
            self.has_unpublished_changes = True
        return super().save(*args, **kwargs)

    def clean(self):
        """Reported values stay where they were reported: once a line has values, the page keeps
        its agency and the line stays, with its target. Wagtail validates a page here whenever
        it goes live, so the rule holds on every path that publishes a revision (the page
        editor, the page listing's bulk "Publish", the admin API's `publish`, an approved
        workflow task, scheduled publishing), however old the revision."""
        super().clean()
        if self.pk is None:
            return
        reported = dict(
            CommitmentLine.objects.filter(commitment_id=self.pk, submissions__isnull=False)
            .distinct()
            .values_list("pk", "target_id")
        )
        if not reported:
            return
        errors = {}
        saved_agency = type(self).objects.filter(pk=self.pk).values_list("agency_id", flat=True).first()
        if self.agency_id != saved_agency:
            errors["agency"] = _("Values have been reported under this commitment: its agency cannot change.")
        targets = {line.pk: line.target_id for line in self.lines.all() if line.pk is not None}
        problems = []
        for line in CommitmentLine.objects.filter(pk__in=reported).select_related("target"):
            if line.pk not in targets:
                problems.append(_("%(target)s has reported values: it stays committed.") % {"target": line.target})
            elif targets[line.pk] != line.target_id:
                problems.append(_("Values have been reported for this line: its target cannot change."))
        if problems:
            errors[NON_FIELD_ERRORS] = problems
        if errors:
            raise ValidationError(errors)

    def get_context(self, request, *args, **kwargs):
        from ..domain.presentation import commitment_context

        context = super().get_context(request, *args, **kwargs)
        context.update(commitment_context(self, request))
        return context


class CommitmentLine(Orderable):
    """One target an agency commits to; `baseline` and `target_value` override the target's."""

    commitment = ParentalKey(
        CommitmentPage, verbose_name=_("commitment"), on_delete=models.CASCADE, related_name="lines"
    )
    target = models.ForeignKey(
        TargetPage, verbose_name=_("target"), on_delete=models.PROTECT, related_name="commitment_lines"
    )
    baseline = decimal_field(_("own baseline"), null=True, blank=True, help_text=_("Leave empty for the target's."))
    target_value = decimal_field(
        _("own target value"), null=True, blank=True, help_text=_("Leave empty for the target's.")
    )

    panels = [FieldPanel("target"), FieldRowPanel([FieldPanel("baseline"), FieldPanel("target_value")])]

    class Meta(Orderable.Meta):
        verbose_name = _("committed target")
        verbose_name_plural = _("committed targets")
        constraints = [models.UniqueConstraint(fields=["commitment", "target"], name="unique_line_per_target")]

    def __str__(self):
        return f"{self.commitment.agency.code} · {self.target.code}"

    @property
    def effective_baseline(self):
        return self.target.baseline if self.baseline is None else self.baseline

    @property
    def effective_target_value(self):
        return self.target.target_value if self.target_value is None else self.target_value

    def clean(self):
        super().clean()
        if self.target_id is None:
            return
        target = self.target
        # The commitment page may be unsaved (a new page in the editor, or an import).
        commitment = getattr(self, "commitment", None)
        if commitment is not None and commitment.competition_id and target.competition_id != commitment.competition_id:
            raise ValidationError({"target": _("This target belongs to another competition.")})
        errors = {}
        for field in ("baseline", "target_value"):
            try:
                validate_value_for_unit(getattr(self, field), target.unit)
            except ValidationError as error:
                errors[field] = error
        if errors:
            raise ValidationError(errors)
