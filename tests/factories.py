"""factory_boy factories for the competition's models (never the demo fixtures)."""

from datetime import date
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.utils.text import slugify
from wagtail.models import Site

from competition.domain.pages import create_and_publish
from competition.enums import SubmissionStatus
from competition.models import (
    Agency,
    CommitmentLine,
    CommitmentPage,
    CompetitionPage,
    Juror,
    JuryScore,
    Submission,
    TargetPage,
)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.org")
    password = factory.django.Password("pass-word-123")


class AgencyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agency
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"AG{n:04d}")
    name = factory.LazyAttribute(lambda agency: f"Agency {agency.code}")


def site_root():
    return Site.objects.get(is_default_site=True).root_page


def make_competition(slug="comp", start=date(2025, 1, 1), end=date(2025, 12, 31), parent=None, publish=True, **fields):
    page = CompetitionPage(title=fields.pop("title", slug.title()), slug=slug, start_date=start, end_date=end, **fields)
    if publish:
        create_and_publish(parent or site_root(), page)
    else:
        page.live = False
        (parent or site_root()).add_child(instance=page)
        page.save_revision()
    return page


def make_target(
    competition, code="T1", unit="percent", direction="higher", baseline=0, target=100, max_points=10, **kw
):
    page = TargetPage(
        title=kw.pop("title", f"Target {code}"),
        slug=f"target-{code.lower()}",
        code=code,
        unit=unit,
        direction=direction,
        baseline=Decimal(baseline),
        target_value=Decimal(target),
        max_points=Decimal(max_points),
        competition=competition,
        **kw,
    )
    create_and_publish(competition, page)
    return page


def make_commitment(competition, agency, targets, publish=True):
    page = CommitmentPage(
        title=agency.name, slug=f"agency-{slugify(agency.code)}", agency=agency, competition=competition
    )
    page.lines = [CommitmentLine(target=target) for target in targets]
    if publish:
        create_and_publish(competition, page)
    else:
        page.live = False
        competition.add_child(instance=page)
    return page


def make_submission(line, value, reported_on=date(2025, 6, 30), status=SubmissionStatus.ACCEPTED, **kw):
    from django.utils import timezone

    decided = timezone.now() if status in (SubmissionStatus.ACCEPTED, SubmissionStatus.REJECTED) else None
    return Submission.objects.create(
        line=line, value=Decimal(value), reported_on=reported_on, status=status, decided_at=decided, **kw
    )


def make_score(submission, username, points, agency=None):
    competition = submission.line.commitment.competition
    juror, _created = Juror.objects.get_or_create(
        competition=competition, user=UserFactory(username=username), defaults={"agency": agency}
    )
    return JuryScore.objects.create(submission=submission, juror=juror, points=Decimal(points))


def manager_of(competition, username):
    """A manager of `competition` only: the managers' model permissions, and the page
    permissions on that competition's page alone."""
    from django.contrib.auth.models import Group, Permission
    from wagtail.models import GroupPagePermission

    from competition.domain.roles import MANAGER_MODEL_PERMISSIONS

    group = Group.objects.create(name=f"{username} group")
    group.permissions.add(Permission.objects.get(codename="access_admin"))
    for dotted in MANAGER_MODEL_PERMISSIONS:
        app_label, codename = dotted.split(".")
        group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    for codename in ("add_page", "change_page", "publish_page"):
        GroupPagePermission.objects.create(
            group=group, page=competition, permission=Permission.objects.get(codename=codename)
        )
    user = UserFactory(username=username)
    user.groups.add(group)
    return user
