"""The permission matrix of every registered URL of the submission viewset and its chooser:
roles x own / other agency's submissions in each state x GET and POST. A URL added to the
viewset is covered automatically; one the matrix cannot classify fails the test."""

from datetime import date

import pytest
from django.db import transaction
from django.urls import get_resolver, reverse
from wagtail.models import GroupPagePermission

from competition import permissions
from competition.domain import evidence
from competition.domain.roles import EDITORS, MANAGERS, REVIEWERS, ensure_roles
from competition.models import AgencyMembership, CommitmentLine, Juror, Submission
from tests.factories import AgencyFactory, UserFactory, make_commitment, make_competition, make_target
from tests.test_evidence import add_data

pytestmark = pytest.mark.django_db

NAMESPACES = ("wagtailsnippets_competition_submission", "wagtailsnippetchoosers_competition_submission")
ROLES = ["anonymous", "inactive", "editor_a", "editor_b", "reviewer_a", "manager_other", "manager", "superuser"]
# URL name -> the rule deciding access when the URL names a submission.
OBJECT_RULES = {
    "edit": "change",
    "revisions_revert": "change",
    "delete": "delete",
    "submit": "submit",
    "decide": "view",
    "usage": "view",
    "history": "view",
    "history_results": "view",
    "inspect": "view",
    "revisions_compare": "view",
    "chosen": "view",
}
# URL name -> who may open a URL that names no submission.
LIST_RULES = {
    "list": "see",
    "list_results": "see",
    "choose": "see",
    "choose_results": "see",
    "chosen_multiple": "see",
    "add": "add",
}


def _names_in(namespace):
    from django.urls import URLResolver

    found = set()

    def walk(resolver, current):
        for pattern in resolver.url_patterns:
            if isinstance(pattern, URLResolver):
                walk(
                    pattern,
                    f"{current}:{pattern.namespace}"
                    if current and pattern.namespace
                    else (pattern.namespace or current),
                )
            elif current and current.endswith(namespace) and pattern.name:
                found.add(pattern.name)

    walk(get_resolver(), "")
    return found


@pytest.fixture
def world():
    groups = ensure_roles()
    competition = make_competition(slug="matrix")
    other = make_competition(slug="matrix-other")
    target = make_target(competition, code="T1")
    agency_a, agency_b = AgencyFactory(code="MA"), AgencyFactory(code="MB")
    make_commitment(competition, agency_a, [target])
    make_commitment(competition, agency_b, [target])
    users = {"anonymous": None}
    for name in ROLES[1:]:
        users[name] = UserFactory(username=name, is_superuser=name == "superuser", is_staff=name == "superuser")
    users["inactive"].is_active = False
    users["inactive"].save()
    AgencyMembership.objects.create(user=users["inactive"], agency=agency_a)
    for name, agency in (("editor_a", agency_a), ("editor_b", agency_b)):
        users[name].groups.add(groups[EDITORS])
        AgencyMembership.objects.create(user=users[name], agency=agency)
    users["reviewer_a"].groups.add(groups[REVIEWERS])
    Juror.objects.create(competition=competition, user=users["reviewer_a"], agency=agency_a)
    users["manager"].groups.add(groups[MANAGERS])
    other_managers = groups[MANAGERS].__class__.objects.create(name="Managers of the other competition")
    other_managers.permissions.add(*groups[EDITORS].permissions.all())
    from django.contrib.auth.models import Permission

    GroupPagePermission.objects.create(
        group=other_managers, page=other, permission=Permission.objects.get(codename="publish_page")
    )
    users["manager_other"].groups.add(other_managers)
    line_a = CommitmentLine.objects.get(commitment__agency=agency_a)
    line_b = CommitmentLine.objects.get(commitment__agency=agency_b)
    objects = {}
    for key, line, state in (
        ("a_draft", line_a, "draft"),
        ("a_submitted", line_a, "submitted"),
        ("a_accepted", line_a, "accepted"),
        ("b_draft", line_b, "draft"),
        ("b_returned", line_b, "returned"),
    ):
        submission = Submission.objects.create(line=line, reported_on=date(2025, 6, 30), value=10)
        submission.save_revision()
        editor = users["editor_a"] if line == line_a else users["editor_b"]
        if state != "draft":
            evidence.submit(submission, editor)
        if state == "accepted":
            evidence.decide(submission, users["manager"], "accept")
        if state == "returned":
            evidence.decide(submission, users["manager"], "return", "Fix it")
        objects[key] = Submission.objects.get(pk=submission.pk)
    return users, objects, line_a


def url_for(namespace, name, submission):
    if name in OBJECT_RULES:
        args = [submission.pk]
        if name == "revisions_revert":
            args.append(submission.revisions.order_by("pk").first().pk)
        if name == "revisions_compare":
            return reverse(
                f"{namespace}:{name}",
                kwargs={"pk": submission.pk, "revision_id_a": "earliest", "revision_id_b": "latest"},
            )
        return reverse(f"{namespace}:{name}", args=args)
    return reverse(f"{namespace}:{name}")


def refused(response):
    if response.status_code in (403, 404, 405):
        return True
    location = response.get("Location", "")
    return response.status_code == 302 and (location == "/admin/" or "/login/" in location)


def expected_allowed(user, name, submission):
    if user is None or not user.is_active:
        return False
    if name in OBJECT_RULES:
        return permissions.can(user, OBJECT_RULES[name], submission)
    rule = LIST_RULES[name]
    if rule == "add":
        return user.is_superuser or permissions.is_editor(user)
    return user.is_superuser or permissions.is_editor(user) or permissions.is_manager(user)


@pytest.mark.parametrize("role", ROLES)
def test_submission_url_matrix(client, world, role):
    users, objects, line_a = world
    user = users[role]
    if user is not None:
        client.force_login(user)
    names = {namespace: _names_in(namespace) for namespace in NAMESPACES}
    unknown = {name for found in names.values() for name in found} - set(OBJECT_RULES) - set(LIST_RULES)
    assert not unknown, f"URLs missing from the permission matrix: {unknown}"
    cases, failures = 0, []
    for namespace, url_names in names.items():
        for name in sorted(url_names):
            targets = objects.items() if name in OBJECT_RULES else [("-", None)]
            for key, submission in targets:
                fresh = Submission.objects.get(pk=submission.pk) if submission else None
                allowed = expected_allowed(user, name, fresh)
                for method in ("get", "post"):
                    if name in ("submit", "decide") and method == "get":
                        continue  # POST-only actions
                    path = url_for(namespace, name, fresh)
                    data = add_data(line_a, value="77") if name in ("add", "edit") else {"decision": "accept"}
                    with transaction.atomic():
                        response = getattr(client, method)(path, data if method == "post" else None)
                        after = None
                        if fresh:
                            after = Submission.objects.filter(pk=fresh.pk).values_list("status", "value").first()
                        created = Submission.objects.filter(value=77).exists()
                        transaction.set_rollback(True)
                    cases += 1
                    if response.status_code == 405:
                        continue  # a GET-only view: nothing to allow or refuse
                    was_refused = refused(response)
                    if allowed and was_refused:
                        failures.append(f"{role} {method.upper()} {name} {key}: refused ({response.status_code})")
                    if not allowed and not was_refused:
                        failures.append(f"{role} {method.upper()} {name} {key}: allowed ({response.status_code})")
                    if not allowed and method == "post":
                        if fresh and after != (fresh.status, fresh.value):
                            failures.append(f"{role} POST {name} {key}: changed the submission")
                        if created:
                            failures.append(f"{role} POST {name}: created a submission")
    print(f"{role}: {cases} cases")
    assert not failures, "\n".join(failures)


def test_bulk_delete_refuses_other_agencies_and_submitted_evidence(client, world):
    users, objects, _line = world
    client.force_login(users["editor_b"])
    path = reverse("wagtail_bulk_action", args=("competition", "submission", "delete"))
    ids = [objects["a_draft"].pk, objects["a_submitted"].pk, objects["b_returned"].pk]

    client.post(f"{path}?id={ids[0]}&id={ids[1]}&id={ids[2]}", {})

    assert Submission.objects.filter(pk__in=ids).count() == 3


def test_editors_have_no_document_listing(client, world):
    users, _objects, _line = world
    client.force_login(users["editor_a"])

    response = client.get(reverse("wagtaildocs:index"))

    assert refused(response)
