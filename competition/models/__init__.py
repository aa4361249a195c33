"""The competition app's models, re-exported from one place."""

from .agencies import Agency, AgencyMembership
from .evidence import Submission, SubmissionAttachment, SubmissionLink
from .jury import Adjustment, Juror, JuryScore
from .pages import (
    CommitmentLine,
    CommitmentPage,
    CompetitionPage,
    CompetitionPhase,
    CompetitionSignatory,
    CompetitionTier,
    TargetMilestone,
    TargetPage,
)

__all__ = [
    "Adjustment",
    "Agency",
    "AgencyMembership",
    "CommitmentLine",
    "CommitmentPage",
    "CompetitionPage",
    "CompetitionPhase",
    "CompetitionSignatory",
    "CompetitionTier",
    "JuryScore",
    "Juror",
    "Submission",
    "SubmissionAttachment",
    "SubmissionLink",
    "TargetMilestone",
    "TargetPage",
]
