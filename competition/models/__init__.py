"""The competition app's models, re-exported from one place."""

from .agencies import Agency, AgencyMembership, ImportRecord, Reminder
from .audit import CompetitionLogEntry
from .evidence import EvidenceFile, Submission, SubmissionAttachment, SubmissionLink
from .feeds import FeedToken
from .jury import Adjustment, DeclaredConflict, Juror, JuryScore, ReviewPanel
from .pages import (
    CommitmentLine,
    CommitmentPage,
    CompetitionPage,
    CompetitionPhase,
    CompetitionSignatory,
    CompetitionTier,
    ReportingDeadline,
    TargetMilestone,
    TargetPage,
)
from .progress import ProgressChange, ProgressDirty
from .registration import Registration, RegistrationLine, RegistrationStatus
from .results import Award, AwardBasis, AwardRule, CommendationDecision, OfficialResult

__all__ = [
    "Adjustment",
    "Agency",
    "AgencyMembership",
    "Award",
    "AwardBasis",
    "AwardRule",
    "CommendationDecision",
    "CommitmentLine",
    "CommitmentPage",
    "CompetitionLogEntry",
    "CompetitionPage",
    "CompetitionPhase",
    "CompetitionSignatory",
    "CompetitionTier",
    "DeclaredConflict",
    "EvidenceFile",
    "FeedToken",
    "ProgressChange",
    "ProgressDirty",
    "Registration",
    "RegistrationLine",
    "RegistrationStatus",
    "ReportingDeadline",
    "ReviewPanel",
    "JuryScore",
    "Reminder",
    "ImportRecord",
    "Juror",
    "OfficialResult",
    "Submission",
    "SubmissionAttachment",
    "SubmissionLink",
    "TargetMilestone",
    "TargetPage",
]
