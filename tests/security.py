"""Shared by the upload, escaping and fuzzing tests: a small competition with two agencies and
every role, the files in storage, and an admin submission form's POST data."""

import os
from pathlib import Path

from django.conf import settings

from competition.domain.roles import EDITORS, MANAGERS, REVIEWERS, ensure_roles
from competition.models import AgencyMembership, CommitmentLine, Juror
from tests.factories import AgencyFactory, UserFactory, make_commitment, make_competition, make_target

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"


def build_world(slug="safe", **competition_fields):
    """Competition `slug` with target T1 (percent, max 10 points), agencies A and B committed to
    it, an editor for each, a manager (of every competition under the site root), an unaffiliated reviewer and a
    superuser."""
    groups = ensure_roles()
    competition = make_competition(slug=slug, **competition_fields)
    target = make_target(competition, code="T1", baseline=0, target=100, max_points=10)
    agency_a, agency_b = AgencyFactory(code="A"), AgencyFactory(code="B")
    make_commitment(competition, agency_a, [target])
    make_commitment(competition, agency_b, [target])
    users = {}
    for name, agency in (("editor_a", agency_a), ("editor_b", agency_b)):
        users[name] = UserFactory(username=name)
        users[name].groups.add(groups[EDITORS])
        AgencyMembership.objects.create(user=users[name], agency=agency)
    users["manager"] = UserFactory(username="manager")
    users["manager"].groups.add(groups[MANAGERS])
    users["reviewer"] = UserFactory(username="reviewer")
    users["reviewer"].groups.add(groups[REVIEWERS])
    juror = Juror.objects.create(competition=competition, user=users["reviewer"])
    users["superuser"] = UserFactory(username="root", is_superuser=True, is_staff=True)
    return {
        "competition": competition,
        "target": target,
        "agency_a": agency_a,
        "agency_b": agency_b,
        "line_a": CommitmentLine.objects.get(commitment__agency=agency_a, target=target),
        "line_b": CommitmentLine.objects.get(commitment__agency=agency_b, target=target),
        "juror": juror,
        **users,
    }


def stored_files():
    """Every file under MEDIA_ROOT, as paths relative to it."""
    root = Path(settings.MEDIA_ROOT)
    return {str(Path(folder, name).relative_to(root)) for folder, _dirs, names in os.walk(root) for name in names}


def submission_data(line, value="55", day="2025-06-30", narrative="Counted.", links=(), **extra):
    """POST data of the admin's submission form, with `links` as (url, title) pairs."""
    data = {
        "line": line.pk,
        "reported_on": day,
        "value": value,
        "narrative": narrative,
        "links-TOTAL_FORMS": str(len(links)),
        "links-INITIAL_FORMS": "0",
        "links-MIN_NUM_FORMS": "0",
        "links-MAX_NUM_FORMS": "1000",
    }
    for i, (link_url, title) in enumerate(links):
        data.update({f"links-{i}-url": link_url, f"links-{i}-title": title, f"links-{i}-ORDER": str(i + 1)})
    data.update(extra)
    return data
