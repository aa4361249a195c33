"""The summary behind the progress chart of a competition page (competition.domain.history): the
change each agency's reported values make to its progress on each reporting date, kept in the
database so that a chart drawn with nothing in the cache reads a few rows per agency, not every
submission; and the marks of the agencies whose summary is out of date, which readers compute
from the submissions until the background refresh brings their summary up to date. Neither is
edited by anyone: both are derived data, written by the signals and the refresh only."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from .agencies import Agency
from .pages import CompetitionPage


class ProgressChange(models.Model):
    """For an agency of a competition and a reporting date, the sum over its live lines (a live
    commitment page, a live target) of weight x (P of each accepted submission reported that day
    less P of the one before it in the order of docs/scoring.md, section 2); `reported_on` NULL
    (and `change` 0) marks an agency that takes part (has a live line on a live target)."""

    competition = models.ForeignKey(
        CompetitionPage, verbose_name=_("competition"), on_delete=models.CASCADE, related_name="+"
    )
    agency = models.ForeignKey(Agency, verbose_name=_("agency"), on_delete=models.CASCADE, related_name="+")
    reported_on = models.DateField(_("reporting date"), null=True)
    change = models.FloatField(_("change of progress"))

    class Meta:
        verbose_name = _("progress summary row")
        verbose_name_plural = _("progress summary rows")
        indexes = [models.Index(fields=["competition", "agency"], name="progress_change_agency")]

    def __str__(self):
        return f"{self.agency_id} {self.reported_on or '-'}: {self.change}"


class ProgressDirty(models.Model):
    """A mark: the summary of this agency (NULL: of every agency of the competition) may be out of
    date. Written in the transaction of the change; a new row for every change (its id is the
    stamp), so that the refresh, which deletes the marks it read by their ids, never deletes the
    mark of a change it did not see."""

    # Without constraints in the database: the deletion of a competition deletes its commitment
    # pages, whose signals mark their agencies in the same transaction, after the competition's
    # marks were collected for deletion (the signals delete them again once the competition is
    # gone: competition.signals.on_delete); a mark left naming nothing would be harmless.
    competition = models.ForeignKey(
        CompetitionPage,
        verbose_name=_("competition"),
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
    )
    agency = models.ForeignKey(
        Agency, verbose_name=_("agency"), null=True, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )

    class Meta:
        verbose_name = _("out-of-date progress summary mark")
        verbose_name_plural = _("out-of-date progress summary marks")
        indexes = [models.Index(fields=["competition", "agency"], name="progress_dirty_agency")]

    def __str__(self):
        return f"{self.competition_id} {self.agency_id or '*'} #{self.pk}"
