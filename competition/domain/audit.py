"""Who reads which entries of the competition's audit log (CompetitionLogEntry).

- Superusers read every entry.
- Everyone else reads the entries of the objects they may see, as the object's permission
  policy says (competition.permission_policies): an editor their agencies' submissions, a
  manager the submissions, jurors and adjustments of the competitions they manage and the
  agency editors of the agencies they look after, anyone with the model permissions on
  agencies every agency (a directory shared by competitions).
- Reviewers' actions on a submission (their scores) are read only by the managers of its
  competition: the agency that was scored never learns who scored it.
- A registration's entries are read by its agency's editors and its competition's managers.
- And everyone reads the entries of what they did themselves, including objects deleted since.
"""

from django.contrib.contenttypes.models import ContentType
from django.db.models import CharField, Q
from django.db.models.functions import Cast
from wagtail.permissions import policy_registry

from .. import permissions

# Actions of reviewers on a submission: who did them is for the competition's managers only.
REVIEWER_ACTIONS = ("competition.score", "competition.score_withdraw")


def logged_models():
    """The competition's models whose entries go to CompetitionLogEntry (all but its pages,
    which keep Wagtail's page log and its rules)."""
    from django.apps import apps
    from wagtail.models import Page

    from ..models import CompetitionLogEntry

    return [
        model
        for model in apps.get_app_config("competition").get_models()
        if not issubclass(model, (Page, CompetitionLogEntry))
    ]


def _ids(queryset):
    return queryset.annotate(logged_id=Cast("pk", output_field=CharField())).values("logged_id")


def visible_entries(user):
    """A Q on CompetitionLogEntry selecting the entries `user` may read."""
    from ..models import Registration, Submission

    if not permissions._active(user):
        return Q(pk__in=[])
    if user.is_superuser:
        return Q()
    query = Q(user_id=user.pk)
    for model in logged_models():
        policy = policy_registry.get_by_type(model)
        if policy is None or model in (Submission, Registration):
            continue
        visible = policy.instances_user_has_any_permission_for(user, ["view"])
        query |= Q(content_type=_content_type(model), object_id__in=_ids(visible))
    submissions = Submission.objects.filter(permissions.visible_submissions_filter(user))
    managed = Submission.objects.filter(line__commitment__competition_id__in=permissions.managed_competition_ids(user))
    query |= Q(content_type=_content_type(Submission), object_id__in=_ids(submissions)) & (
        ~Q(action__in=REVIEWER_ACTIONS) | Q(object_id__in=_ids(managed))
    )
    # Registrations: their agency's editors and their competition's managers (docs/registration.md).
    registrations = Registration.objects.filter(
        Q(agency_id__in=permissions.editor_agency_ids(user))
        | Q(competition_id__in=permissions.managed_competition_ids(user))
    )
    query |= Q(content_type=_content_type(Registration), object_id__in=_ids(registrations))
    return query


def sees_reviewers(user, submission):
    """Whether `user` may know who reviewed `submission` (its competition's managers)."""
    return permissions._active(user) and (
        user.is_superuser or permissions.manages(user, submission.line.commitment.competition_id)
    )


def _content_type(model):
    return ContentType.objects.get_for_model(model, for_concrete_model=False)
