"""Who may do what, as plain predicates (user, object) -> bool, reused by the permission
policy, the admin views and the domain actions.

- An agency editor (AgencyMembership) sees and creates submissions of their own agencies only,
  and changes them only while they are drafts or returned.
- A competition manager is a user with the "publish" page permission on a competition page (or
  above it, as the demo's managers group has on the site root): they see every submission of
  that competition and decide on submitted ones.
- Superusers may do what managers and editors may do; nobody edits an accepted or rejected
  submission, and nobody deletes one that was ever submitted.
- Jurors and adjustments belong to a competition: on top of the Django model permissions, a
  manager reaches only those of the competitions they manage. Agencies are a directory shared by
  competitions: anyone with the model permissions reads and chooses them, but a manager changes
  only an agency (and its editors) taking part in a competition they manage, or in none yet.
"""

from django.db.models import Q

from .enums import SubmissionStatus

EDITABLE = {SubmissionStatus.DRAFT, SubmissionStatus.RETURNED}


def _active(user):
    return user is not None and user.is_authenticated and user.is_active


def editor_agency_ids(user):
    """Ids of the agencies the user edits for (cached on the user object for the request)."""
    if not _active(user):
        return frozenset()
    if not hasattr(user, "_competition_agency_ids"):
        from .models import AgencyMembership

        user._competition_agency_ids = frozenset(
            AgencyMembership.objects.filter(user=user).values_list("agency_id", flat=True)
        )
    return user._competition_agency_ids


def managed_competition_ids(user):
    """Ids of the competitions the user manages (cached on the user object for the request)."""
    if not _active(user):
        return frozenset()
    if not hasattr(user, "_competition_managed_ids"):
        from wagtail.models import GroupPagePermission

        from .models import CompetitionPage

        if user.is_superuser:
            ids = CompetitionPage.objects.values_list("pk", flat=True)
        else:
            paths = list(
                GroupPagePermission.objects.filter(group__user=user, permission__codename="publish_page").values_list(
                    "page__path", flat=True
                )
            )
            query = Q()
            for path in paths:
                query |= Q(path__startswith=path)
            ids = CompetitionPage.objects.filter(query).values_list("pk", flat=True) if paths else []
        user._competition_managed_ids = frozenset(ids)
    return user._competition_managed_ids


def is_editor(user):
    return bool(editor_agency_ids(user))


def is_manager(user):
    return bool(managed_competition_ids(user))


def manages(user, competition_id):
    return competition_id in managed_competition_ids(user)


def edits_for(user, agency_id):
    return agency_id in editor_agency_ids(user) or (_active(user) and user.is_superuser)


def visible_submissions_filter(user):
    """A Q selecting the submissions `user` may see."""
    if not _active(user):
        return Q(pk__in=[])
    if user.is_superuser:
        return Q()
    return Q(line__commitment__agency_id__in=editor_agency_ids(user)) | Q(
        line__commitment__competition_id__in=managed_competition_ids(user)
    )


def competition_scope(user, prefix=""):
    """A Q on a model with a `competition` field (or, with `prefix` such as "juror__", on rows
    reaching one): the rows of the competitions `user` manages."""
    if not _active(user):
        return Q(pk__in=[])
    if user.is_superuser:
        return Q()
    return Q(**{f"{prefix}competition_id__in": managed_competition_ids(user)})


def agency_scope(user, prefix=""):
    """A Q on agencies (or, with `prefix` such as "agency__", on rows with an agency) selecting
    those taking part in a competition `user` manages, or in no competition at all."""
    if not _active(user):
        return Q(pk__in=[])
    if user.is_superuser:
        return Q()
    from .models import CommitmentPage

    managed = CommitmentPage.objects.filter(competition_id__in=managed_competition_ids(user)).values("agency_id")
    field = f"{prefix}pk" if not prefix else f"{prefix}id"
    return Q(**{f"{field}__in": managed}) | ~Q(**{f"{field}__in": CommitmentPage.objects.values("agency_id")})


def hidden_competitions(user):
    """The unpublished competitions whose titles `user` may not see (in page choosers, filters):
    all of them, except for superusers and those with a page permission on the competition or
    above it (who see it in Wagtail's page explorer anyway)."""
    from wagtail.models import Page
    from wagtail.permissions import policy_registry

    from .models import CompetitionPage

    unpublished = CompetitionPage.objects.filter(live=False)
    if not _active(user):
        return unpublished
    if user.is_superuser:
        return unpublished.none()
    explorable = policy_registry.get_by_type(Page).explorable_instances(user)
    return unpublished.exclude(pk__in=explorable.values("pk"))


def hidden_pages_filter(user):
    """A Q on pages selecting the unpublished competitions `user` may not see and every page
    below them."""
    query = Q(pk__in=[])
    for path in hidden_competitions(user).values_list("path", flat=True):
        query |= Q(path__startswith=path)
    return query


def _facts(submission):
    commitment = submission.line.commitment
    return commitment.agency_id, commitment.competition_id


def _results_published(submission):
    """Judging of the submission's competition is closed: its values and decisions are frozen
    until a manager reopens it (docs/results.md)."""
    return submission.line.commitment.competition.closed


def can_view_submission(user, submission):
    if not _active(user):
        return False
    agency_id, competition_id = _facts(submission)
    return user.is_superuser or agency_id in editor_agency_ids(user) or manages(user, competition_id)


def can_change_submission(user, submission):
    agency_id, _competition_id = _facts(submission)
    return submission.status in EDITABLE and edits_for(user, agency_id) and not _results_published(submission)


def can_submit_submission(user, submission):
    return can_change_submission(user, submission)


def can_delete_submission(user, submission):
    """Only a draft that was never submitted, by its agency's editors."""
    agency_id, _competition_id = _facts(submission)
    return (
        submission.status == SubmissionStatus.DRAFT and submission.submitted_at is None and edits_for(user, agency_id)
    )


def can_decide_submission(user, submission):
    _agency_id, competition_id = _facts(submission)
    return (
        submission.status == SubmissionStatus.SUBMITTED
        and ((_active(user) and user.is_superuser) or manages(user, competition_id))
        and not _results_published(submission)
    )


INSTANCE_RULES = {
    "view": can_view_submission,
    "change": can_change_submission,
    "delete": can_delete_submission,
    "submit": can_submit_submission,
    "decide": can_decide_submission,
}


def can(user, action, submission):
    rule = INSTANCE_RULES.get(action)
    return bool(rule and rule(user, submission))
