"""Every import kind, through the admin's import screen, keeps a manager of one competition to
what the admin's forms let them change: their competition's rows, the agencies taking part in it
(or in none yet), and no other user's e-mail address. The command line has no user and stays
unrestricted."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from wagtail.models import GroupPagePermission

from competition.domain.roles import MANAGER_MODEL_PERMISSIONS, MANAGER_PAGE_PERMISSIONS
from competition.models import Adjustment, Agency, CompetitionPage, Juror, TargetPage
from tests.factories import AgencyFactory, UserFactory, make_commitment, make_competition, make_target
from tests.helpers import call_import, table_counts

pytestmark = pytest.mark.django_db


def _group(name, page, model_permissions=MANAGER_MODEL_PERMISSIONS):
    group = Group.objects.create(name=name)
    group.permissions.add(Permission.objects.get(codename="access_admin"))
    for dotted in model_permissions:
        group.permissions.add(Permission.objects.get(content_type__app_label="competition", codename=dotted[12:]))
    for codename in MANAGER_PAGE_PERMISSIONS:
        GroupPagePermission.objects.create(group=group, page=page, permission=Permission.objects.get(codename=codename))
    return group


@pytest.fixture
def mine(worked):
    """Competition "mine" (agency M committed to its T1) next to the worked example, and a user
    managing "mine" only, with the model permissions of the managers' group."""
    competition = make_competition(slug="mine")
    target = make_target(competition, code="T1")
    make_commitment(competition, AgencyFactory(code="M", name="Agency M"), [target])
    AgencyFactory(code="FREE", name="In no competition")
    user = UserFactory(username="mine-boss")
    user.groups.add(_group("Managers of mine", competition))
    return user


def preview(client, kind, text):
    data = {"kind": kind, "import_file": SimpleUploadedFile(f"{kind}.csv", text.encode())}
    return client.post(reverse("competition_import"), data)


REFUSED = [
    # Another competition's agency: its name, its parent, its level.
    ("agencies", "code,name\nA,PWNED by mine\n", "row 1, column code", "takes part in a competition you do not manage"),
    (
        "agencies",
        "code,name,parent_code,level\nB,Agency B,M,ward\n",
        "row 1, column code",
        "takes part in a competition you do not manage",
    ),
    ("competitions", "slug,title,start,end\nworked,PWNED,2025-01-01,2025-12-31\n", "row 1, column slug", "manage"),
    # A new competition where the user may not add pages (the site root).
    ("competitions", "slug,title,start,end\nrogue,Rogue,2025-01-01,2025-12-31\n", "row 1, column parent", "add"),
    (
        "targets",
        "competition,code,title,unit,direction,baseline,target,max_points\nworked,T1,PWNED,percent,higher,0,100,30\n",
        "row 1, column competition",
        "manage",
    ),
    ("commitments", "competition,agency,target\nworked,B,T2\n", "row 1, column competition", "manage"),
    ("jurors", "competition,username\nworked,mine-boss\n", "row 1, column competition", "manage"),
    # Another user's e-mail address (a password reset would then reach the importer).
    ("jurors", "competition,username,email\nmine,j1,evil@example.org\n", "row 1, column email", "e-mail"),
    (
        "values",
        "competition,agency,target,reported_on,value\nworked,A,T1,2025-06-30,1\n",
        "row 1, column competition",
        "manage",
    ),
    (
        "scores",
        "competition,agency,target,reported_on,juror,points\nworked,A,T1,2025-06-30,j1,1\n",
        "row 1, column competition",
        "manage",
    ),
    ("adjustments", "competition,agency,points,reason\nworked,A,5,Sneaky\n", "row 1, column competition", "manage"),
]


def test_a_manager_of_one_competition_changes_nothing_outside_it(client, mine):
    client.force_login(mine)
    before = table_counts()
    agencies = list(Agency.objects.order_by("code").values_list("code", "name", "parent_id", "level"))
    emails = list(mine.__class__.objects.order_by("pk").values_list("email", flat=True))

    for kind, text, where, words in REFUSED:
        response = preview(client, kind, text)
        errors = response.context["report"].errors
        assert any(line.startswith(where) and words in line for line in errors), (kind, text, errors)
        assert "Confirm the import" not in response.content.decode()

    assert table_counts() == before
    assert list(Agency.objects.order_by("code").values_list("code", "name", "parent_id", "level")) == agencies
    assert list(mine.__class__.objects.order_by("pk").values_list("email", flat=True)) == emails


ALLOWED = [
    ("agencies", "code,name,level\nM,Agency M renamed,ward\n", (0, 1)),
    ("agencies", "code,name\nFREE,Still in no competition\nNEW,A new agency\n", (1, 1)),
    ("competitions", "slug,title,start,end\nmine,Mine renamed,2025-01-01,2025-12-31\n", (0, 1)),
    (
        "targets",
        "competition,code,title,unit,direction,baseline,target,max_points\nmine,T2,Second,percent,higher,0,100,5\n",
        (1, 0),
    ),
    ("commitments", "competition,agency,target\nmine,FREE,T1\n", (1, 0)),
    # Another competition's reviewer may sit on this jury too (the juror form offers every user).
    ("jurors", "competition,username,email\nmine,j1,\nmine,newcomer,newcomer@example.org\n", (2, 0)),
    ("values", "competition,agency,target,reported_on,value\nmine,M,T1,2025-06-30,40\n", (1, 0)),
    ("adjustments", "competition,agency,points,reason\nmine,M,2,Bonus\n", (1, 0)),
]


def test_a_manager_of_one_competition_imports_into_it(client, mine, django_capture_on_commit_callbacks):
    client.force_login(mine)
    for kind, text, counts in ALLOWED:
        response = preview(client, kind, text)
        report = response.context["report"]
        assert report.errors == [], (kind, report.errors)
        assert (report.result.totals["new"], report.result.totals["update"]) == counts, kind
        with django_capture_on_commit_callbacks(execute=True):  # the import is a task enqueued on commit
            confirm = client.post(
                reverse("competition_import_confirm"), {"token": response.context["token"], "kind": kind}
            )
        assert confirm.status_code == 302

    assert Agency.objects.get(code="M").name == "Agency M renamed"
    assert Agency.objects.get(code="NEW").name == "A new agency"
    assert CompetitionPage.objects.get(slug="mine").title == "Mine renamed"
    assert TargetPage.objects.filter(competition__slug="mine", code="T2").exists()
    assert Juror.objects.filter(competition__slug="mine", user__username="newcomer").exists()
    assert Juror.objects.get(competition__slug="mine", user__username="j1").user.email == ""
    assert Adjustment.objects.filter(competition__slug="mine", reason="Bonus").exists()
    assert Agency.objects.get(code="A").name == "Agency A"


def test_without_the_model_permissions_the_forms_ask_for_the_import_refuses_too(client, mine):
    user = UserFactory(username="pages-only")
    user.groups.add(_group("Page managers of mine", CompetitionPage.objects.get(slug="mine"), model_permissions=()))
    client.force_login(user)

    agencies = preview(client, "agencies", "code,name\nNEW,A new agency\nM,Renamed\n").context["report"].errors
    jurors = preview(client, "jurors", "competition,username\nmine,j1\n").context["report"].errors
    adjustments = preview(client, "adjustments", "competition,agency,points,reason\nmine,M,2,Bonus\n")

    assert [line.split(":")[0] for line in agencies] == ["row 1, column code", "row 2, column code"]
    assert [line.split(":")[0] for line in jurors] == ["row 1, column competition"]
    assert [line.split(":")[0] for line in adjustments.context["report"].errors] == ["row 1, column competition"]


def test_a_superuser_and_the_command_line_stay_unrestricted(client, mine, tmp_path):
    root = UserFactory(username="root", is_superuser=True, is_staff=True)
    client.force_login(root)

    response = preview(client, "agencies", "code,name\nA,Renamed by the superuser\n")
    path = tmp_path / "jurors.csv"
    path.write_text("competition,username,email\nmine,j1,j1@example.org\n", encoding="utf-8")
    code, output = call_import("jurors", path)

    assert response.context["report"].errors == []
    assert code == 0, output
    assert Juror.objects.get(competition__slug="mine", user__username="j1").user.email == "j1@example.org"
