"""Evidence files in Wagtail's document library: whatever collection permissions a group holds
(Wagtail's default "Editors" and "Moderators" groups hold add, change and choose on the root
collection, which holds the "Evidence" collection), nobody but a superuser lists, chooses,
edits, replaces, deletes, moves or tags an evidence file through the library, its chooser, its
bulk actions, its multiple upload or the admin API, nor uploads into the Evidence collections
(`competition.permission_policies.DocumentPermissionPolicy`, docs/security.md). Their other
documents keep Wagtail's rules."""

import re
from datetime import date

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from wagtail.documents import get_document_model
from wagtail.models import Collection, GroupCollectionPermission
from wagtail.permissions import policy_registry

from competition.domain import evidence
from competition.domain.attachments import attach, evidence_collections
from competition.models import Submission
from tests.factories import UserFactory
from tests.security import PDF, build_world

pytestmark = pytest.mark.django_db

Document = get_document_model()
DEFAULT_GROUPS = ["Editors", "Moderators"]


@pytest.fixture
def world():
    """tests.security's world with agency A's submitted value and its evidence file, and an
    ordinary document in the root collection."""
    world = build_world()
    submission = Submission.objects.create(
        line=world["line_a"], reported_on=date(2025, 6, 30), value=40, created_by=world["editor_a"]
    )
    attachment = attach(submission, SimpleUploadedFile("a-evidence.pdf", PDF), world["editor_a"])
    evidence.submit(submission, world["editor_a"])
    ordinary = Document(title="Annual plan.pdf", collection=Collection.get_first_root_node())
    ordinary.file = SimpleUploadedFile("annual-plan.pdf", PDF)
    ordinary.save()
    world.update(document=Document.objects.get(pk=attachment.document_id), ordinary=ordinary)
    return world


def refused(response):
    """A refusal as the permission matrix counts one (docs/security.md)."""
    if response.status_code in (403, 404, 405):
        return True
    location = response.get("Location", "") if response.status_code == 302 else ""
    return location == reverse("wagtailadmin_home") or location.startswith(reverse("wagtailadmin_login"))


def wagtail_group_member(name):
    """A user of one of the groups every Wagtail site has from its migrations ("Editors",
    "Moderators"), with their default permissions (documents on the root collection)."""
    user = UserFactory(username=f"wagtail-{name.lower()}")
    user.groups.add(Group.objects.get(name=name))
    return user


def unchanged(document):
    """The document's row and stored file, to compare after a refused request."""
    document = Document.objects.filter(pk=document.pk).first()
    if document is None:
        return None
    stored = default_storage.exists(document.file.name)
    return (document.title, document.file.name, document.collection_id, sorted(document.tags.names()), stored)


@pytest.mark.parametrize("group", DEFAULT_GROUPS)
def test_wagtails_default_groups_cannot_replace_an_agencys_evidence_file(client, world, group):
    """Admin → Documents → an agency's evidence → a new file, title and collection: refused, and
    the evidence (its row and its stored file, which Wagtail deletes on replacement) is kept."""
    document = world["document"]
    before = unchanged(document)
    client.force_login(wagtail_group_member(group))

    response = client.post(
        reverse("wagtaildocs:edit", args=[document.pk]),
        {
            "title": "replaced.pdf",
            "collection": Collection.get_first_root_node().pk,
            "file": SimpleUploadedFile("replaced.pdf", PDF + b"% not the agency's evidence\n"),
        },
    )

    assert unchanged(document) == before, "agency A's evidence was changed or its file deleted"
    assert refused(response), f"{response.status_code} {response.get('Location', '')}"


@pytest.mark.parametrize("group", DEFAULT_GROUPS)
def test_wagtails_default_groups_do_not_see_evidence_in_the_document_library(client, world, group):
    """The library (and its search), the chooser (and its search) and the admin API list the
    group's ordinary documents and no evidence file."""
    title = world["document"].title
    client.force_login(wagtail_group_member(group))

    pages = {
        "library": client.get(reverse("wagtaildocs:index")),
        "library search": client.get(reverse("wagtaildocs:index_results"), {"q": "evidence"}),
        "chooser": client.get(reverse("wagtaildocs_chooser:choose")),
        "chooser search": client.get(reverse("wagtaildocs_chooser:choose_results"), {"q": "evidence"}),
        "admin API": client.get(reverse("wagtailadmin_api:documents:listing")),
        "admin API search": client.get(reverse("wagtailadmin_api:documents:listing"), {"search": "evidence"}),
    }

    assert {name: response.status_code for name, response in pages.items()} == dict.fromkeys(pages, 200)
    assert [name for name, response in pages.items() if title in response.content.decode()] == []
    assert world["ordinary"].title in pages["library"].content.decode()
    assert world["ordinary"].title in pages["chooser"].content.decode()


def single_screens(world):
    document = world["document"]
    return {
        "edit (GET)": lambda client: client.get(reverse("wagtaildocs:edit", args=[document.pk])),
        "delete (GET)": lambda client: client.get(reverse("wagtaildocs:delete", args=[document.pk])),
        "delete": lambda client: client.post(reverse("wagtaildocs:delete", args=[document.pk])),
        "usage": lambda client: client.get(reverse("wagtaildocs:document_usage", args=[document.pk])),
        "chosen": lambda client: client.get(reverse("wagtaildocs_chooser:chosen", args=[document.pk])),
        "admin API detail": lambda client: client.get(reverse("wagtailadmin_api:documents:detail", args=[document.pk])),
        "multiple upload edit": lambda client: client.post(
            reverse("wagtaildocs:edit_multiple", args=[document.pk]),
            {f"doc-{document.pk}-title": "renamed.pdf", f"doc-{document.pk}-collection": world["root"].pk},
        ),
        "multiple upload delete": lambda client: client.post(
            reverse("wagtaildocs:delete_multiple", args=[document.pk])
        ),
    }


@pytest.mark.parametrize("group", DEFAULT_GROUPS)
def test_wagtails_default_groups_reach_no_evidence_through_any_document_screen(client, world, group):
    """Each of the library's screens on one document refuses an evidence file and changes
    nothing: edit, delete, usage, the chooser's "chosen" step, the admin API's detail and the
    multiple upload's edit and delete."""
    world["root"] = Collection.get_first_root_node()
    document = world["document"]
    before = unchanged(document)
    client.force_login(wagtail_group_member(group))

    answers = {name: request(client) for name, request in single_screens(world).items()}

    assert [name for name, response in answers.items() if not refused(response)] == []
    assert unchanged(document) == before


@pytest.mark.parametrize("action", ["delete", "add_tags", "add_to_collection"])
def test_the_library_bulk_actions_leave_evidence_alone(client, world, action):
    """The library's bulk actions (delete, add tags, add to collection) with the evidence file
    among the selected documents: it is not touched (the ordinary document selected with it
    is, as Wagtail allows the group)."""
    document, ordinary = world["document"], world["ordinary"]
    before, ordinary_before = unchanged(document), unchanged(ordinary)
    other = Collection.get_first_root_node().add_child(name="Plans")
    client.force_login(wagtail_group_member("Editors"))
    url = reverse("wagtail_bulk_action", args=("wagtaildocs", "document", action))
    data = {"tags": "leaked", "collection": other.pk}

    response = client.post(f"{url}?id={document.pk}&id={ordinary.pk}", data)

    assert response.status_code in (200, 302), response.status_code
    assert unchanged(document) == before
    assert document.title not in response.content.decode()
    assert unchanged(ordinary) != ordinary_before, "the ordinary document was not acted on"


def test_nobody_but_a_superuser_uploads_into_the_evidence_collections(client, world):
    """The upload forms (single and multiple) offer no Evidence collection, and a POST naming
    one is refused with the form's message and stores nothing."""
    evidence_ids = set(evidence_collections().values_list("pk", flat=True))
    assert evidence_ids
    Collection.get_first_root_node().add_child(name="Plans")  # two collections: the forms offer a choice
    user = wagtail_group_member("Editors")
    policy = policy_registry.get_by_type(Document)
    assert not evidence_ids & set(policy.collections_user_has_permission_for(user, "add").values_list("pk", flat=True))
    client.force_login(user)
    count = Document.objects.count()
    collection = min(evidence_ids)

    form = client.get(reverse("wagtaildocs:add")).content.decode()
    multiple = client.get(reverse("wagtaildocs:add_multiple")).content.decode()
    response = client.post(
        reverse("wagtaildocs:add"),
        {"title": "planted.pdf", "collection": collection, "file": SimpleUploadedFile("planted.pdf", PDF)},
    )
    uploaded = client.post(
        reverse("wagtaildocs:add_multiple"),
        {"files[]": SimpleUploadedFile("planted.pdf", PDF), "collection": collection},
    )

    offered = [{int(pk) for pk in re.findall(r'<option value="(\d+)"', html)} for html in (form, multiple)]
    assert offered == [offered[0], offered[0]] and len(offered[0]) == 2, offered  # Root and Plans
    assert not offered[0] & evidence_ids
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    assert not Document.objects.filter(collection_id__in=evidence_ids).exclude(pk=world["document"].pk).exists()
    assert uploaded.status_code in (200, 400)
    assert Document.objects.count() == count


def test_permissions_granted_on_the_evidence_collection_itself_give_nothing_over_evidence(client, world):
    """A careless administrator grants a group every document permission on the "Evidence"
    collection itself (Settings → Groups): its members still reach no evidence file, and have
    no document library at all (nowhere else to act)."""
    group = Group.objects.create(name="Careless")
    group.permissions.add(Permission.objects.get(codename="access_admin"))
    for codename in ("add_document", "change_document", "delete_document", "choose_document"):
        GroupCollectionPermission.objects.create(
            group=group,
            collection=evidence_collections().order_by("depth").first(),
            permission=Permission.objects.get(content_type__app_label="wagtaildocs", codename=codename),
        )
    user = UserFactory(username="careless")
    user.groups.add(group)
    policy = policy_registry.get_by_type(Document)
    document = world["document"]
    client.force_login(user)

    assert not policy.user_has_any_permission(user, ["add", "change", "delete", "choose"])
    assert not policy.instances_user_has_any_permission_for(user, ["change", "choose"]).exists()
    assert not policy.user_has_any_permission_for_instance(user, ["change", "delete", "choose"], document)
    assert user not in policy.users_with_any_permission_for_instance(["change", "choose"], document)
    assert refused(client.get(reverse("wagtaildocs:index")))
    assert refused(client.get(reverse("wagtaildocs:add")))
    assert refused(client.get(reverse("wagtaildocs:edit", args=[document.pk])))
    assert document.title not in client.get(reverse("wagtailadmin_api:documents:listing")).content.decode()


def test_an_evidence_file_outside_the_evidence_collections_is_still_evidence(world):
    """A file remembered as evidence (`EvidenceFile`) stays out of the library even once its
    collection is no longer under "Evidence" (the collection renamed or moved by an
    administrator): nobody but a superuser acts on it."""
    document = world["document"]
    Document.objects.filter(pk=document.pk).update(collection=Collection.get_first_root_node())
    document = Document.objects.get(pk=document.pk)
    user = wagtail_group_member("Editors")
    policy = policy_registry.get_by_type(Document)

    assert not policy.user_has_any_permission_for_instance(user, ["change", "delete", "choose"], document)
    assert not policy.instances_user_has_any_permission_for(user, ["change", "choose"]).filter(pk=document.pk).exists()
    assert user not in policy.users_with_any_permission_for_instance(["change", "choose"], document)
    assert policy.user_has_permission_for_instance(user, "change", world["ordinary"])


def test_evidence_downloads_stay_refused_to_wagtails_default_groups(client, world):
    """The download address of a submitted (not accepted) file: the document serve view's hook
    (`can_download`) refuses members of Wagtail's default groups as it refuses everyone outside
    the agency and the competition's managers."""
    document = world["document"]
    client.force_login(wagtail_group_member("Editors"))

    response = client.get(reverse("wagtaildocs_serve", args=(document.pk, document.filename)))

    assert refused(response), response.status_code


def test_superusers_keep_the_whole_library(client, world):
    """Superusers list and open every file, evidence included (docs/security.md)."""
    client.force_login(world["superuser"])
    document = world["document"]

    assert document.title in client.get(reverse("wagtaildocs:index")).content.decode()
    assert document.title in client.get(reverse("wagtailadmin_api:documents:listing")).content.decode()
    assert client.get(reverse("wagtaildocs:edit", args=[document.pk])).status_code == 200


@pytest.mark.parametrize("action", ["delete", "add_tags", "add_to_collection"])
@pytest.mark.parametrize("who", ["Editors", "editor_b"])
def test_the_bulk_actions_confirmation_page_never_names_an_evidence_file(client, world, action, who):
    """Wagtail's confirmation page of a document bulk action lists the selected documents the
    user may not act on by title ("no access"): selecting agency A's evidence file by id would
    name it to any admin user (a member of Wagtail's default groups, another agency's editor).
    It is left out, and a selection of nothing visible is a 404; the ordinary document selected
    with it is still offered."""
    document, ordinary = world["document"], world["ordinary"]
    client.force_login(wagtail_group_member(who) if who == "Editors" else world[who])
    url = reverse("wagtail_bulk_action", args=("wagtaildocs", "document", action))

    alone = client.get(f"{url}?id={document.pk}")
    both = client.get(f"{url}?id={document.pk}&id={ordinary.pk}")

    assert alone.status_code == 404, alone.status_code
    assert both.status_code == 200, both.status_code
    assert document.title not in both.content.decode()
    assert ordinary.title in both.content.decode()


@pytest.mark.parametrize("path", ["delete screen", "bulk delete", "multiple upload"])
def test_nobody_deletes_a_file_a_submission_holds_not_even_a_superuser(client, world, path):
    """A submission's evidence is kept for good (the database protects it): a superuser's delete
    through the library's delete screen, its bulk Delete or the multiple upload's delete is
    refused, and nothing changes; it was a server error. An ordinary document is still deleted."""
    document, ordinary = world["document"], world["ordinary"]
    before = unchanged(document)
    client.force_login(world["superuser"])
    client.raise_request_exception = False
    urls = {
        "delete screen": lambda doc: reverse("wagtaildocs:delete", args=[doc.pk]),
        "bulk delete": lambda doc: (
            reverse("wagtail_bulk_action", args=("wagtaildocs", "document", "delete"))
            + f"?next={reverse('wagtaildocs:index')}&id={doc.pk}"
        ),
        "multiple upload": lambda doc: reverse("wagtaildocs:delete_multiple", args=[doc.pk]),
    }

    response = client.post(urls[path](document), {})

    assert response.status_code < 500
    assert unchanged(document) == before
    assert client.post(urls[path](ordinary), {}).status_code < 500
    assert not Document.objects.filter(pk=ordinary.pk).exists()
