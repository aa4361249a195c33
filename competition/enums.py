"""Choices shared by the models, the scoring engine and the open data (the words of docs/scoring.md)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Unit(models.TextChoices):
    PERCENT = "percent", _("Percent")
    NUMBER = "number", _("Number")
    DAYS = "days", _("Days")
    BOOLEAN = "boolean", _("Yes / no")


class Direction(models.TextChoices):
    HIGHER = "higher", _("Higher is better")
    LOWER = "lower", _("Lower is better")


class Status(models.TextChoices):
    """Status of a commitment target on the scoreboard (docs/scoring.md, section 5)."""

    NO_DATA = "no_data", _("No data")
    ACHIEVED = "achieved", _("Achieved")
    MISSED = "missed", _("Missed")
    ON_TRACK = "on_track", _("On track")
    AT_RISK = "at_risk", _("At risk")
    OFF_TRACK = "off_track", _("Off track")


class Aggregation(models.TextChoices):
    MEAN = "mean", _("Mean")
    MEDIAN = "median", _("Median")
    TRIMMED_MEAN = "trimmed_mean", _("Trimmed mean (drop highest and lowest)")


class SubmissionStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    ACCEPTED = "accepted", _("Accepted")
    RETURNED = "returned", _("Returned")
    REJECTED = "rejected", _("Rejected")


class ReportingSchedule(models.TextChoices):
    NONE = "none", _("Only the dates listed")
    MONTHLY = "monthly", _("Monthly (by the end of each month)")
    QUARTERLY = "quarterly", _("Quarterly (by the end of each quarter)")


class SubmissionSource(models.TextChoices):
    """Where a reported value came from (docs/feeds.md)."""

    FORM = "form", _("Form")
    IMPORT = "import", _("Import")
    FEED = "feed", _("Data feed")
