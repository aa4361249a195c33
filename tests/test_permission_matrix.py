"""The permission matrix: every URL the competition app registers in the admin and in public,
for every role, with GET and POST, on their own and on other agencies' or competitions' objects.

The URLs come from Django's resolver: any URL of the app (snippet viewsets and their choosers,
admin URLs named `competition_*` or served by `competition.*` views, the public `competition`
namespace, routable sub-routes of the app's pages) that has no entry in `ADMIN_URLS` or
`PUBLIC_URLS` fails `test_every_url_of_the_app_is_in_the_matrix` with its name (the admin API's
document and image endpoints are the app's). Wagtail's own page, document, admin API, page
chooser and site history URLs are exercised on the app's objects as well.

The roles are those of the outside review: editors of one agency, reviewers (unaffiliated,
affiliated with an agency, and of both competitions affiliated in each, as juror.tran), a manager
of each competition only (the publish permission on that competition's page alone), a superuser,
anonymous and deactivated users. Some URLs also state what a 200 must and must not show (`content`):
evidence titles in the admin API, other competitions' entries in the site history and its exports,
a reviewer's identity in a submission's history, an unpublished competition's title.

Each case states who may use it, from a truth table written here (not from
`competition.permissions`), and fails on an unauthorised success or an authorised refusal. Every
POST is made in a transaction that is rolled back; before that, the rows it changed are checked:
a refused POST changes nothing, and an allowed one changes only rows the role may write, and
never leaves a row pointing at another agency's or competition's objects."""

import io
import os
import re
from dataclasses import dataclass, field
from datetime import date

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.files.images import ImageFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.signals import request_finished
from django.db import close_old_connections, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import URLResolver, get_resolver, reverse
from PIL import Image as PillowImage
from wagtail.admin.views.bulk_action.registry import bulk_action_registry
from wagtail.documents import get_document_model
from wagtail.images import get_image_model
from wagtail.log_actions import log
from wagtail.models import GroupPagePermission, Page
from wagtail.search.backends import get_search_backend

from competition.domain import evidence, feed_tokens, import_jobs
from competition.domain import registration as registrations
from competition.domain.attachments import attach
from competition.domain.roles import (
    EDITORS,
    MANAGER_MODEL_PERMISSIONS,
    MANAGER_PAGE_PERMISSIONS,
    REVIEWERS,
    ensure_roles,
)
from competition.enums import SubmissionStatus
from competition.models import (
    Adjustment,
    Agency,
    AgencyMembership,
    CommitmentLine,
    CommitmentPage,
    CompetitionPage,
    DeclaredConflict,
    FeedToken,
    Juror,
    JuryScore,
    Registration,
    ReviewPanel,
    Submission,
    SubmissionAttachment,
    TargetPage,
)
from tests.factories import AgencyFactory, UserFactory, make_commitment, make_competition, make_target

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"
DAY = date(2025, 6, 30)


# --- Roles --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Role:
    editor: str = ""  # code of the agency the user edits for
    seat: str | None = None  # juror of "comp"; "" unaffiliated, or the code of the affiliated agency
    seat_other: str | None = None  # the same in "other"
    manages: str = ""  # slug of the competition managed (that competition only)
    superuser: bool = False

    def seat_in(self, competition):
        return {"comp": self.seat, "other": self.seat_other}.get(competition)


ROLES = {
    "anonymous": Role(),
    "inactive": Role(),  # an editor of A whose account was deactivated
    "editor_a": Role(editor="A"),
    "editor_b": Role(editor="B"),
    "reviewer_a": Role(seat="A"),
    "reviewer": Role(seat=""),
    # As juror.tran of the review: a reviewer of both competitions, affiliated in each.
    "reviewer_two": Role(seat="B", seat_other="C"),
    "manager_other": Role(manages="other"),
    "manager": Role(manages="comp"),
    "superuser": Role(superuser=True),
}
# Roles holding the Django model permissions on agencies, editors, jurors and adjustments.
MODEL_PERMS = {"manager", "manager_other", "superuser"}
# The roles that run on the SQLite pass of `make test` only, each with the role of the same kind
# that still runs on PostgreSQL: a deactivated user's requests are an anonymous visitor's (Django
# signs them out before any view), and the others make the same requests through the same scopes
# as their twin, with another agency's or competition's ids. What PostgreSQL can change is the SQL
# a request runs, and every kind of role still runs all its cases there (docs/testing.md).
SQLITE_ONLY_ROLES = {
    "inactive": "anonymous",
    "editor_b": "editor_a",
    "reviewer_a": "reviewer_two",
    "manager_other": "manager",
}
ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith("postgres")


# --- Objects and who may do what to them --------------------------------------------------------


@dataclass(frozen=True)
class Sub:
    agency: str
    competition: str
    status: str
    ever_submitted: bool
    documents: tuple = ()  # (key, public)


SUBMISSIONS = {
    "a_draft": Sub("A", "comp", SubmissionStatus.DRAFT, False, (("doc_a_draft", True),)),
    "a_submitted": Sub("A", "comp", SubmissionStatus.SUBMITTED, True, (("doc_a_submitted", True),)),
    "a_accepted": Sub("A", "comp", SubmissionStatus.ACCEPTED, True, (("doc_public", True), ("doc_private", False))),
    "b_submitted": Sub("B", "comp", SubmissionStatus.SUBMITTED, True, (("doc_b_submitted", True),)),
    "b_returned": Sub("B", "comp", SubmissionStatus.RETURNED, True),
    "c_submitted": Sub("C", "other", SubmissionStatus.SUBMITTED, True),
}
DOCUMENTS = {doc: (key, public) for key, sub in SUBMISSIONS.items() for doc, public in sub.documents}
# Files taken off a draft of an agency (in "comp"): attached to nothing any more.
REMOVED_DOCUMENTS = {"doc_removed": "A"}
DOCUMENTS.update(dict.fromkeys(REMOVED_DOCUMENTS, (None, False)))
# Agencies and the competitions they take part in.
AGENCIES = {"A": {"comp"}, "B": {"comp"}, "C": {"other"}, "D": set()}
# Snippet objects: key -> (model, agency code, competition slug)
SNIPPETS = {
    "agency": {"A": "A", "C": "C", "D": "D"},
    "agencymembership": {"m_a": "A", "m_c": "C"},
    "juror": {"j_comp": "comp", "j_other": "other"},
    "adjustment": {"adj_comp": "comp", "adj_other": "other"},
    # Data feed tokens (docs/feeds.md): the "delete" URL and bulk action revoke them.
    "feedtoken": {"tok_comp": "comp", "tok_other": "other"},
    "reviewpanel": {"p_comp": "comp", "p_other": "other"},
}


def active(role_name):
    return role_name not in ("anonymous", "inactive")


def sees_submission(role, sub):
    return role.superuser or role.editor == sub.agency or role.manages == sub.competition


def changes_submission(role, sub):
    editable = sub.status in (SubmissionStatus.DRAFT, SubmissionStatus.RETURNED)
    return editable and (role.superuser or role.editor == sub.agency)


def deletes_submission(role, sub):
    return sub.status == SubmissionStatus.DRAFT and not sub.ever_submitted and changes_submission(role, sub)


def decides_submission(role, sub):
    return sub.status == SubmissionStatus.SUBMITTED and (role.superuser or role.manages == sub.competition)


def has_seat(role, sub):
    """A reviewer's seat in the submission's competition, without a conflict of interest."""
    seat = role.seat_in(sub.competition)
    return seat is not None and seat != sub.agency


def opens_review(role, sub):
    if sub.status not in (SubmissionStatus.SUBMITTED, SubmissionStatus.ACCEPTED):
        return False
    if role.seat_in(sub.competition) is not None:
        return role.seat_in(sub.competition) != sub.agency
    return role.superuser or role.manages == sub.competition


def downloads(role, doc):
    if doc in REMOVED_DOCUMENTS:
        return role.superuser or role.editor == REMOVED_DOCUMENTS[doc] or role.manages == "comp"
    key, public = DOCUMENTS[doc]
    sub = SUBMISSIONS[key]
    if sub.status == SubmissionStatus.ACCEPTED and public:
        return True
    return sees_submission(role, sub) or opens_review(role, sub)


def agency_in_scope(role, code):
    """Agencies a manager looks after: those in a competition they manage, and those in none."""
    return role.superuser or (role.manages in AGENCIES[code]) or not AGENCIES[code]


def snippet_in_scope(role, model, key):
    owner = SNIPPETS[model][key]
    if model in ("juror", "adjustment", "feedtoken", "reviewpanel"):
        return role.superuser or role.manages == owner
    return agency_in_scope(role, owner)


# Registrations: (competition, agency) -> state; "not_started" has no row. C takes part in
# "other" only, so its registration in "comp" does not exist for anyone.
REGISTRATIONS = {
    ("comp", "A"): "submitted",
    ("comp", "B"): "not_started",
    ("other", "C"): "draft",
    ("comp", "C"): None,
}


def reg_key(key):
    competition, agency = key.split("_")
    return competition, agency


def sees_registration(name, role, key):
    competition, agency = reg_key(key)
    if not active(name) or REGISTRATIONS[competition, agency] is None:
        return False
    return role.superuser or role.editor == agency or role.manages == competition


# --- The URLs -----------------------------------------------------------------------------------


@dataclass
class Url:
    """How to exercise one URL name: with which objects, who may GET it, who may POST to it
    (None: the same as GET for a view that reads only; "refused": nobody) and what to post."""

    objects: tuple = (None,)
    get: object = None  # (role_name, role, object key) -> bool
    post: object = None
    data: object = None  # (world, object key) -> dict
    kwargs: object = None  # (world, object key) -> reverse kwargs
    query: object = None  # (world, object key) -> query string
    reads_only: bool = False
    methods: tuple = ("get", "post")
    extra: dict = field(default_factory=dict)
    # (world, role_name, role, object key) -> (patterns a 200 must show, patterns it must not)
    content: object = None


def sub_rule(rule):
    return lambda name, role, key: active(name) and rule(role, SUBMISSIONS[key])


def anyone_of(names):
    return lambda name, role, key: name in names


def submission_data(world, key=None, value="77"):
    line = world["lines"][SUBMISSIONS[key].agency if key else "A"]
    return {
        "line": line.pk,
        "reported_on": DAY.isoformat(),
        "value": value,
        "narrative": "Matrix",
        "links-TOTAL_FORMS": "0",
        "links-INITIAL_FORMS": "0",
        "links-MIN_NUM_FORMS": "0",
        "links-MAX_NUM_FORMS": "1000",
    }


ACTIVE = lambda name, role, key: active(name)  # noqa: E731 (any admin user)


def sees_reviewers(role, competition="comp"):
    return role.superuser or role.manages == competition


# The reviewer's identity: shown by entries of what they did (scores), never to the agency.
REVIEWER = r"mx_reviewer\b"
DRAFT_TITLE = "Matrix draft"


def reviewer_identity(world, name, role, key):
    """Who scored a_submitted (a score entry of "reviewer" in its audit log): its competition's
    managers see it, its agency's editors never."""
    if key != "a_submitted":
        return [], []
    return ([REVIEWER], []) if sees_reviewers(role) else ([], [REVIEWER])


def draft_title(world, name, role, key):
    """An unpublished competition's title: for superusers only (nobody else has page
    permissions on it)."""
    return ([DRAFT_TITLE], []) if role.superuser else ([], [DRAFT_TITLE])


def document_titles(world, name, role, key):
    """Evidence files are in nobody's document library or chooser but superusers'."""
    titles = [re.escape(world["documents"][doc].title) for doc in DOCUMENTS]
    found = [re.escape(world["documents"]["doc_public"].title)] if key == "search" else titles
    return (found, []) if role.superuser else ([], titles)


def site_history_entries(world, name, role, key):
    """Entries of the audit log: of objects the role may see (and of what they did)."""
    show, hide = [], []
    for snippet, (model, label) in world["logged"].items():
        visible = role.superuser or (name in MODEL_PERMS and snippet_in_scope(role, model, snippet))
        (show if visible else hide).append(re.escape(label))
    (show if sees_reviewers(role) or name == "reviewer" else hide).append(REVIEWER)
    return show, hide


SEES_LIST = anyone_of({"editor_a", "editor_b", "manager", "manager_other", "superuser"})
ALL_SUBS = tuple(SUBMISSIONS)
# Reading depends on the agency and competition only: one submission of each.
SOME_SUBS = ("a_submitted", "b_returned", "c_submitted")
pk_kwargs = {"kwargs": lambda world, key: {"pk": world["objects"][key].pk}}

SUBMISSION_URLS = {
    # The listing's Competition filter names no unpublished competition.
    "list": Url(get=SEES_LIST, post="refused", reads_only=True, content=draft_title),
    "list_results": Url(get=SEES_LIST, post="refused", reads_only=True),
    "add": Url(get=anyone_of({"editor_a", "editor_b", "superuser"}), data=lambda world, key: submission_data(world)),
    "edit": Url(ALL_SUBS, get=sub_rule(changes_submission), data=submission_data, **pk_kwargs),
    "delete": Url(ALL_SUBS, get=sub_rule(deletes_submission), **pk_kwargs),
    "usage": Url(SOME_SUBS, get=sub_rule(sees_submission), post="refused", reads_only=True, **pk_kwargs),
    "history": Url(
        SOME_SUBS,
        get=sub_rule(sees_submission),
        post="refused",
        reads_only=True,
        content=reviewer_identity,
        **pk_kwargs,
    ),
    "history_results": Url(
        SOME_SUBS,
        get=sub_rule(sees_submission),
        post="refused",
        reads_only=True,
        content=reviewer_identity,
        **pk_kwargs,
    ),
    "inspect": Url(SOME_SUBS, get=sub_rule(sees_submission), post="refused", reads_only=True, **pk_kwargs),
    "revisions_revert": Url(
        ALL_SUBS,
        get=sub_rule(changes_submission),
        data=submission_data,
        kwargs=lambda world, key: {
            "pk": world["objects"][key].pk,
            "revision_id": world["objects"][key].revisions.order_by("pk").first().pk,
        },
    ),
    "revisions_compare": Url(
        SOME_SUBS,
        get=sub_rule(sees_submission),
        post="refused",
        reads_only=True,
        kwargs=lambda world, key: {
            "pk": world["objects"][key].pk,
            "revision_id_a": "earliest",
            "revision_id_b": "latest",
        },
    ),
    # POST-only actions: submit, and the decision (refused with a message when not allowed).
    # GET: the confirmation screen; POST: the submission itself.
    "submit": Url(ALL_SUBS, get=sub_rule(changes_submission), post=sub_rule(changes_submission), **pk_kwargs),
    "decide": Url(
        ALL_SUBS,
        get="refused",
        post=sub_rule(sees_submission),
        data=lambda world, key: {"decision": "accept"},
        **pk_kwargs,
    ),
}
SUBMISSION_CHOOSER_URLS = {
    "choose": Url(get=SEES_LIST, post="refused", reads_only=True),
    "choose_results": Url(get=SEES_LIST, post="refused", reads_only=True),
    "chosen": Url(SOME_SUBS, get=sub_rule(sees_submission), post="refused", reads_only=True, **pk_kwargs),
    "chosen_multiple": Url(
        SOME_SUBS,
        get=SEES_LIST,
        post="refused",
        reads_only=True,
        query=lambda world, key: f"id={world['objects'][key].pk}",
    ),
}


def snippet_data(model):
    def data(world, key):
        comp = world["competitions"]["other" if key and key.endswith("other") else "comp"]
        agencies = world["agencies"]
        if model == "agency":
            code = key or "NEW"
            return {"code": code, "name": f"Renamed {code}", "short_name": "", "parent": "", "level": ""}
        if model == "agencymembership":
            agency = SNIPPETS[model].get(key, "A")
            return {"user": world["users"]["editor_b"].pk, "agency": agencies[agency].pk}
        if model == "juror":
            return {"competition": comp.pk, "user": world["users"]["editor_b"].pk, "agency": ""}
        if model == "feedtoken":
            agency = agencies["C" if comp.slug == "matrix-other" else "A"]
            return {"name": "Matrix feed", "competition": comp.pk, "agency": agency.pk, "expires_on": "2099-12-31"}
        if model == "reviewpanel":
            target = world["targets"]["other" if comp.slug == "matrix-other" else "comp"]
            return {"competition": comp.pk, "name": f"Matrix panel {key}", "targets": [target.pk]}
        agency = agencies["C" if comp.slug == "matrix-other" else "A"]
        return {"competition": comp.pk, "agency": agency.pk, "points": "1.5", "reason": "Matrix"}

    return data


def snippet_urls(model):
    keys = tuple(SNIPPETS[model])
    perms = anyone_of(MODEL_PERMS)

    def scoped(name, role, key):
        return name in MODEL_PERMS and snippet_in_scope(role, model, key)

    # Agencies are a shared directory: anyone managing may read and choose any of them.
    reads = perms if model == "agency" else scoped
    data = snippet_data(model)
    kwargs = {"kwargs": lambda world, key: {"pk": world["snippets"][key].pk}}

    def deletes(name, role, key):
        # An agency taking part in a competition is protected by its commitments.
        return scoped(name, role, key) and not (model == "agency" and AGENCIES[key])

    return {
        "list": Url(get=perms, post="refused", reads_only=True),
        "list_results": Url(get=perms, post="refused", reads_only=True),
        "add": Url(get=perms, data=data),
        "edit": Url(keys, get=scoped, data=data, **kwargs),
        "delete": Url(keys, get=scoped, post=deletes, **kwargs),
        "usage": Url(keys, get=reads, post="refused", reads_only=True, **kwargs),
        "history": Url(keys, get=reads, post="refused", reads_only=True, **kwargs),
        "history_results": Url(keys, get=reads, post="refused", reads_only=True, **kwargs),
    }, {
        "choose": Url(get=perms, post="refused", reads_only=True),
        "choose_results": Url(get=perms, post="refused", reads_only=True),
        "chosen": Url(keys, get=reads, post="refused", reads_only=True, **kwargs),
        "chosen_multiple": Url(
            keys, get=perms, post="refused", reads_only=True, query=lambda world, key: f"id={world['snippets'][key].pk}"
        ),
    }


MANAGING = anyone_of({"manager", "manager_other", "superuser"})


def import_job_of(user):
    """The id of a finished admin import confirmed by `user` (its state, as the task leaves it)."""
    job_id = "1" * 32
    import_jobs._save(
        job_id,
        {
            "user_id": user.pk,
            "kind": "values",
            "competition": "comp",
            "file_name": "values.csv",
            "state": import_jobs.DONE,
            "done": 1,
            "total": 1,
            "created": 1,
            "updated": 0,
            "unchanged": 0,
            "errors": [],
        },
    )
    return job_id


def manages_competition(name, role, key):
    return active(name) and (role.superuser or role.manages == key)


def managers_reading(kwargs):
    """A screen of one competition that only its managers read (and nobody posts to)."""
    return Url(("comp", "other"), get=manages_competition, post="refused", reads_only=True, kwargs=kwargs)


REVIEWING = anyone_of({"reviewer_a", "reviewer", "reviewer_two", "manager", "manager_other", "superuser"})

ADMIN_URLS = {
    **{f"wagtailsnippets_competition_submission:{name}": url for name, url in SUBMISSION_URLS.items()},
    **{f"wagtailsnippetchoosers_competition_submission:{name}": url for name, url in SUBMISSION_CHOOSER_URLS.items()},
    "competition_review_queue": Url(get=REVIEWING, post="refused", reads_only=True),
    "competition_review": Url(
        ALL_SUBS,
        get=sub_rule(opens_review),
        post=sub_rule(lambda role, sub: opens_review(role, sub) and has_seat(role, sub)),
        data=lambda world, key: {"points": "1", "comment": "Matrix"},
        **pk_kwargs,
    ),
    "competition_import": Url(get=MANAGING, data=lambda world, key: {"kind": "agencies"}),
    # Judging: closing it (a POST) and the board with the jury's points, for the competition's
    # managers only (everyone else, including managers of another competition: 404).
    "competition_judging": Url(
        ("comp", "other"),
        get=manages_competition,
        data=lambda world, key: {"action": "close"},
        kwargs=lambda world, key: {"pk": world["competitions"][key].pk},
    ),
    "competition_jury_board": managers_reading(lambda world, key: {"pk": world["competitions"][key].pk}),
    # The jury's progress, panels and declared conflicts; the balanced proposal (a POST of a
    # proposal that is not the one shown changes nothing): the competition's managers only.
    "competition_jury_progress": managers_reading(lambda world, key: {"pk": world["competitions"][key].pk}),
    "competition_propose_panels": Url(
        ("comp", "other"),
        get=manages_competition,
        data=lambda world, key: {"split": "targets", "per_panel": "1", "fingerprint": "0"},
        kwargs=lambda world, key: {"pk": world["competitions"][key].pk},
    ),
    # Declaring a conflict with a submission's agency: a reviewer who may score it, nobody else.
    "competition_declare_conflict": Url(
        ALL_SUBS,
        get=sub_rule(lambda role, sub: opens_review(role, sub) and has_seat(role, sub)),
        data=lambda world, key: {"reason": "Matrix reason"},
        **pk_kwargs,
    ),
    # Commendations: before results are published a POST changes nothing (an unknown action).
    "competition_commendations": Url(
        ("comp", "other"),
        get=manages_competition,
        data=lambda world, key: {"action": "propose_again"},
        kwargs=lambda world, key: {"pk": world["competitions"][key].pk},
    ),
    "competition_jury_board_download": managers_reading(
        lambda world, key: {"pk": world["competitions"][key].pk, "file_format": "csv"}
    ),
    # A preview that no longer exists: managers are sent back to the import screen.
    "competition_import_confirm": Url(
        get="refused", post=MANAGING, data=lambda world, key: {"kind": "agencies", "token": "0" * 32 + ".csv"}
    ),
    # An import the manager of "comp" confirmed: its progress and result are theirs (and
    # superusers'); another manager gets a 404.
    "competition_import_job": Url(
        get=anyone_of({"manager", "superuser"}),
        post="refused",
        reads_only=True,
        kwargs=lambda world, key: {"job_id": import_job_of(world["users"]["manager"])},
    ),
    "competition_export": Url(
        ("values", "registrations"),
        get=MANAGING,
        post="refused",
        reads_only=True,
        kwargs=lambda world, key: {"kind": key, "file_format": "csv"},
    ),
    "competition_template": Url(
        ("values",),
        get=MANAGING,
        post="refused",
        reads_only=True,
        kwargs=lambda world, key: {"kind": key, "file_format": "csv"},
    ),
}
# Registration: an agency's registration for its editors and its competition's managers (a 404 for
# anyone else, and for an agency not taking part); a POST the role may not make is answered with a
# message (the fingerprint checks that it changed nothing).
REG_KEYS = tuple(f"{competition}_{agency}" for competition, agency in REGISTRATIONS)


def registration_kwargs(world, key):
    competition, agency = reg_key(key)
    return {"competition": world["competitions"][competition].pk, "agency": world["agencies"][agency].pk}


def registration_data(world, key):
    competition, agency = reg_key(key)
    target = world["targets"][competition]
    return {"action": "save", "pledge": "Matrix pledge", f"t{target.pk}-commit": "on", "loaded_revision": ""}


ADMIN_URLS.update(
    {
        "competition_registrations": Url(get=SEES_LIST, post="refused", reads_only=True),
        "competition_registration": Url(
            REG_KEYS, get=sees_registration, data=registration_data, kwargs=registration_kwargs
        ),
        "competition_registration_decide": Url(
            REG_KEYS,
            get="refused",
            post=sees_registration,
            data=lambda world, key: {"decision": "return", "note": "Matrix reason"},
            kwargs=registration_kwargs,
        ),
        "competition_registration_overview": managers_reading(lambda world, key: {"pk": world["competitions"][key].pk}),
        "competition_registration_export": managers_reading(
            lambda world, key: {"pk": world["competitions"][key].pk, "file_format": "csv"}
        ),
    }
)
# Wagtail's admin API endpoints for documents and images, replaced by the app's scoped ones.
ADMIN_URLS.update(
    {
        "wagtailadmin_api:documents:listing": Url(
            ("all", "search"),
            get=ACTIVE,
            post="refused",
            reads_only=True,
            methods=("get",),
            # A whole title: found alike by SQLite's and PostgreSQL's full-text search.
            query=lambda world, key: "search=doc_public.pdf" if key == "search" else "limit=20",
            content=document_titles,
        ),
        "wagtailadmin_api:documents:detail": Url(
            tuple(DOCUMENTS),
            get=anyone_of({"superuser"}),
            reads_only=True,
            methods=("get",),
            kwargs=lambda world, key: {"pk": world["documents"][key].pk},
        ),
        "wagtailadmin_api:documents:find": Url(
            ("doc_a_draft", "doc_public"),
            get=anyone_of({"superuser"}),  # a redirect to the detail
            reads_only=True,
            methods=("get",),
            query=lambda world, key: f"id={world['documents'][key].pk}",
        ),
        "wagtailadmin_api:images:listing": Url(
            get=ACTIVE,
            reads_only=True,
            methods=("get",),
            query=lambda world, key: "fields=-thumbnail",
            content=lambda world, name, role, key: (
                ([], ["Matrix photo"]) if not role.superuser else (["Matrix photo"], [])
            ),
        ),
        "wagtailadmin_api:images:detail": Url(
            ("image",),
            get=anyone_of({"superuser"}),
            reads_only=True,
            methods=("get",),
            kwargs=lambda world, key: {"pk": world["image"].pk},
            query=lambda world, key: "fields=-thumbnail",
        ),
        "wagtailadmin_api:images:find": Url(
            ("image",),
            get=anyone_of({"superuser"}),
            reads_only=True,
            methods=("get",),
            query=lambda world, key: f"id={world['image'].pk}",
        ),
        # Wagtail's pages endpoint of the admin API, replaced by the app's (competition.page_actions)
        # for its `delete` action: a page with reported values is never deleted, not even by a
        # superuser (those who may delete pages are told why: a 400, not a server error).
        "wagtailadmin_api:pages:listing": Url(get=ACTIVE, post="refused", reads_only=True, methods=("get",)),
        "wagtailadmin_api:pages:detail": Url(
            ("t1",),
            get=ACTIVE,
            reads_only=True,
            methods=("get",),
            kwargs=lambda world, key: {"pk": world["pages"][key].pk},
        ),
        "wagtailadmin_api:pages:find": Url(
            ("t1",),
            # A redirect to the detail, for those who manage the page (Wagtail looks among the
            # pages they may explore).
            get=lambda name, role, key: manages_page(name, role, key),  # defined below
            reads_only=True,
            methods=("get",),
            query=lambda world, key: f"id={world['pages'][key].pk}",
        ),
        "wagtailadmin_api:pages:action": Url(
            ("t1", "commit_a"),
            get="refused",
            post="refused",
            methods=("post",),
            data=lambda world, key: {},
            kwargs=lambda world, key: {"pk": world["pages"][key].pk, "action_name": "delete"},
        ),
    }
)
for _model in SNIPPETS:
    _urls, _chooser_urls = snippet_urls(_model)
    ADMIN_URLS.update({f"wagtailsnippets_competition_{_model}:{name}": url for name, url in _urls.items()})
    ADMIN_URLS.update(
        {f"wagtailsnippetchoosers_competition_{_model}:{name}": url for name, url in _chooser_urls.items()}
    )


def file_kwargs(world, key):
    """A file under a competition page: "comp.json" is the matrix competition's JSON file."""
    name, file_format = key.split(".")
    return {"page_path": {"comp": "matrix/", "draft": "matrix-draft/"}[name], "file_format": file_format}


PUBLIC_URLS = {
    "competition:scoreboard_data": Url(
        ("comp.json", "comp.csv", "comp.xlsx", "draft.json"),
        get=lambda name, role, key: not key.startswith("draft"),
        post="refused",
        reads_only=True,
        kwargs=file_kwargs,
    ),
    "competition:awards_data": Url(
        ("comp.json", "comp.csv", "draft.csv"),
        get=lambda name, role, key: not key.startswith("draft"),
        post="refused",
        reads_only=True,
        kwargs=file_kwargs,
    ),
    "competition:report_pdf": Url(
        ("comp", "draft"),
        get=lambda name, role, key: key == "comp",
        post="refused",
        reads_only=True,
        kwargs=lambda world, key: {"page_path": {"comp": "matrix/", "draft": "matrix-draft/"}[key]},
    ),
    # The record of achievements of an agency with a public commitment; none for D, which has none.
    # The data feed API: a session is no feed token (401 for everyone; the feed's own tests post
    # with tokens, tests/test_feed.py); its OpenAPI schema is public; its root is nothing (404).
    "competition:competition_feed:values": Url(
        get="refused", post="refused", reads_only=True, data=lambda world, key: {"values": "[]"}
    ),
    "competition:competition_feed:openapi-json": Url(get=lambda name, role, key: True, reads_only=True),
    "competition:competition_feed:api-root": Url(get="refused", post="refused", reads_only=True),
    # A cluster's page (its code with dots, which Wagtail's page addresses do not take): public as
    # its competition page; none in the draft competition.
    "competition:cluster_page": Url(
        ("comp", "draft"),
        get=lambda name, role, key: key == "comp",
        reads_only=True,
        kwargs=lambda world, key: {"page_path": {"comp": "matrix/", "draft": "matrix-draft/"}[key], "code": "M.01"},
    ),
    "competition:agency_record": Url(
        ("A", "C", "D"),
        get=lambda name, role, key: key != "D",
        post="refused",
        reads_only=True,
        kwargs=lambda world, key: {"code": key},
    ),
}
# Routable sub-routes of the app's pages, by page model and route name.
# (served through the page itself: an unpublished competition answers 404 for them as for the page)
PAGE_ROUTES = {
    ("CompetitionPage", "index_route"),
    ("CompetitionPage", "report"),
    ("CompetitionPage", "method"),
    ("CompetitionPage", "cluster"),
}


# --- Wagtail's own URLs exercised on the app's objects -------------------------------------------

PAGE_KEYS = ("comp_page", "t1", "commit_a", "other_page")


def manages_page(name, role, key):
    return active(name) and (role.superuser or role.manages == ("other" if key == "other_page" else "comp"))


def page_kwargs(world, key):
    return {"page_id": world["pages"][key].pk}


WAGTAIL_URLS = {
    # Saving pages is exercised with complete forms by the cross-object tests below.
    "wagtailadmin_pages:edit": Url(PAGE_KEYS, get=manages_page, methods=("get",), kwargs=page_kwargs),
    "wagtailadmin_pages:unpublish": Url(("commit_a", "other_page"), get=manages_page, kwargs=page_kwargs),
    # A page with reported values is never deleted, not even by a superuser.
    "wagtailadmin_pages:delete": Url(
        ("t1", "t2"), get=lambda name, role, key: key == "t2" and manages_page(name, role, key), kwargs=page_kwargs
    ),
    # Targets never leave their competition.
    "wagtailadmin_pages:move_confirm": Url(
        ("t2",),
        get="refused",
        post="refused",
        kwargs=lambda world, key: {
            "page_to_move_id": world["pages"][key].pk,
            "destination_id": world["pages"]["other_page"].pk,
        },
    ),
    "wagtailadmin_pages:add": Url(
        ("comp_page", "other_page"),
        get=manages_page,
        data=lambda world, key: {},
        kwargs=lambda world, key: {
            "content_type_app_name": "competition",
            "content_type_model_name": "targetpage",
            "parent_page_id": world["pages"][key].pk,
        },
    ),
    "wagtaildocs_serve": Url(
        tuple(DOCUMENTS),
        get=lambda name, role, key: downloads(role, key) if active(name) else downloads(Role(), key),
        reads_only=True,
        kwargs=lambda world, key: [world["documents"][key].pk, world["documents"][key].filename],
    ),
    # Evidence files are not in any role's document library: only superusers reach them there.
    "wagtaildocs:index": Url(get=anyone_of({"superuser"}), post="refused", reads_only=True),
    "wagtaildocs:edit": Url(
        tuple(DOCUMENTS),
        get=anyone_of({"superuser"}),
        data=lambda world, key: {},
        kwargs=lambda world, key: {"document_id": world["documents"][key].pk},
    ),
    "wagtaildocs_chooser:chosen": Url(
        tuple(DOCUMENTS),
        get=anyone_of({"superuser"}),
        post="refused",
        reads_only=True,
        kwargs=lambda world, key: {"pk": world["documents"][key].pk},
    ),
    # The audit log: each role reads the entries of what it may see, on the page and in exports.
    "wagtailadmin_reports:site_history": Url(
        ("page", "csv", "xlsx"),
        get=ACTIVE,
        reads_only=True,
        methods=("get",),
        query=lambda world, key: "" if key == "page" else f"export={key}",
        content=site_history_entries,
    ),
    "wagtailadmin_reports:site_history_results": Url(
        get=ACTIVE, reads_only=True, methods=("get",), content=site_history_entries
    ),
    # Pages through the admin API: explorable pages only (Wagtail's rule).
    "wagtailadmin_api:pages:listing": Url(
        get=ACTIVE,
        reads_only=True,
        methods=("get",),
        query=lambda world, key: f"child_of={world['pages']['comp_page'].get_parent().pk}",
        content=draft_title,
    ),
    "wagtailadmin_api:pages:detail": Url(
        (*PAGE_KEYS, "draft_page"),
        get=lambda name, role, key: key != "draft_page" and manages_page(name, role, key) or role.superuser,
        reads_only=True,
        methods=("get",),
        kwargs=lambda world, key: {"pk": world["pages"][key].pk},
    ),
    # Page choosers never name an unpublished competition to those without page permissions on it.
    "wagtailadmin_choose_page_child": Url(
        ("comp_page", "draft_page"),
        get=lambda name, role, key: active(name) and (key != "draft_page" or role.superuser),
        reads_only=True,
        methods=("get",),
        kwargs=lambda world, key: {"parent_page_id": world["pages"][key].pk},
    ),
    "wagtailadmin_choose_page_chosen_multiple": Url(
        ("comp_page", "draft_page"),
        get=lambda name, role, key: active(name) and (key != "draft_page" or role.superuser),
        reads_only=True,
        methods=("get",),
        query=lambda world, key: f"id={world['pages'][key].pk}",
    ),
    "wagtailadmin_choose_page_search": Url(
        get=ACTIVE, reads_only=True, methods=("get",), query=lambda world, key: "q=Matrix", content=draft_title
    ),
}
PUBLIC_PAGES = {
    "comp_page": True,
    "t1": True,
    "commit_a": True,
    "draft_page": False,
}

BULK_DELETES = {
    "submission": ("a_draft", "b_returned", "c_submitted"),
    "agency": ("D",),
    "agencymembership": ("m_a", "m_c"),
    "juror": ("j_comp", "j_other"),
    "adjustment": ("adj_comp", "adj_other"),
    "feedtoken": ("tok_comp", "tok_other"),
    "reviewpanel": ("p_comp", "p_other"),
}


def bulk_rule(model, action):
    """Who may delete (POST), or see on the confirmation page (GET), the object."""

    def rule(name, role, key):
        if model == "submission":
            check = deletes_submission if action == "delete" else sees_submission
            return active(name) and check(role, SUBMISSIONS[key])
        if model == "agency" and action == "view":
            return name in MODEL_PERMS
        return name in MODEL_PERMS and snippet_in_scope(role, model, key)

    return rule


# --- The world ----------------------------------------------------------------------------------


def _group(name, page, permissions):
    group = Group.objects.create(name=name)
    group.permissions.add(Permission.objects.get(content_type__app_label="wagtailadmin", codename="access_admin"))
    for dotted in permissions:
        app_label, codename = dotted.split(".")
        group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    for codename in MANAGER_PAGE_PERMISSIONS:
        GroupPagePermission.objects.create(
            group=group,
            page=page,
            permission=Permission.objects.get(content_type__app_label="wagtailcore", codename=codename),
        )
    return group


def build_world():
    """Two published competitions and a draft one; agencies A and B in "comp", C in "other", D
    in none; one user per role; submissions in every state with evidence files; one of each
    snippet per competition."""
    groups = ensure_roles()
    opens = {"registration_opens": date(2020, 1, 1)}
    comp = make_competition(slug="matrix", title="Matrix", **opens)
    other = make_competition(slug="matrix-other", title="Matrix other", **opens)
    draft = make_competition(slug="matrix-draft", title="Matrix draft", publish=False)
    t1, t2 = make_target(comp, code="T1"), make_target(comp, code="T2")
    x1 = make_target(other, code="X1")
    agencies = {code: AgencyFactory(code=code, name=f"Agency {code}") for code in AGENCIES}
    # A and B in one cluster, whose code has dots like the agencies' own identification codes.
    cluster = AgencyFactory(code="M.01", name="Matrix cluster")
    Agency.objects.filter(pk__in=[agencies["A"].pk, agencies["B"].pk]).update(parent=cluster)
    commit_a = make_commitment(comp, agencies["A"], [t1])
    make_commitment(comp, agencies["B"], [t1])
    make_commitment(other, agencies["C"], [x1])
    lines = {code: CommitmentLine.objects.get(commitment__agency=agencies[code]) for code in ("A", "B", "C")}

    users = {}
    for name in [*ROLES, "editor_c", "juror_other"]:
        if name != "anonymous":
            users[name] = UserFactory(
                username=f"mx_{name}", is_superuser=name == "superuser", is_staff=name == "superuser"
            )
    users["inactive"].is_active = False
    users["inactive"].save()
    memberships = {}
    for name, code in (("inactive", "A"), ("editor_a", "A"), ("editor_b", "B"), ("editor_c", "C")):
        users[name].groups.add(groups[EDITORS])
        memberships[name] = AgencyMembership.objects.create(user=users[name], agency=agencies[code])
    for name in ("reviewer_a", "reviewer", "reviewer_two"):
        users[name].groups.add(groups[REVIEWERS])
    Juror.objects.create(competition=comp, user=users["reviewer_a"], agency=agencies["A"])
    j_comp = Juror.objects.create(competition=comp, user=users["reviewer"])
    j_other = Juror.objects.create(competition=other, user=users["juror_other"])
    Juror.objects.create(competition=comp, user=users["reviewer_two"], agency=agencies["B"])
    Juror.objects.create(competition=other, user=users["reviewer_two"], agency=agencies["C"])
    # Each manager holds the managers' model permissions and page permissions on one competition.
    users["manager"].groups.add(_group("Matrix managers", comp, MANAGER_MODEL_PERMISSIONS))
    users["manager_other"].groups.add(_group("Matrix other managers", other, MANAGER_MODEL_PERMISSIONS))

    objects, documents = {}, {}
    editors = {"A": users["editor_a"], "B": users["editor_b"], "C": users["editor_c"]}
    for key, facts in SUBMISSIONS.items():
        editor = editors[facts.agency]
        submission = Submission.objects.create(
            line=lines[facts.agency], reported_on=DAY, value=10, narrative=f"Narrative {key}", created_by=editor
        )
        submission.save_revision(user=editor)
        for doc, public in facts.documents:
            attachment = attach(submission, SimpleUploadedFile(f"{doc}.pdf", PDF), editor)
            SubmissionAttachment.objects.filter(pk=attachment.pk).update(is_public=public)
            documents[doc] = attachment.document
        decider = users["manager"] if facts.competition == "comp" else users["manager_other"]
        if facts.ever_submitted:
            evidence.submit(submission, editor)
        if facts.status == SubmissionStatus.ACCEPTED:
            evidence.decide(submission, decider, "accept")
        elif facts.status == SubmissionStatus.RETURNED:
            evidence.decide(submission, decider, "return", "Add the scan.")
        objects[key] = Submission.objects.get(pk=submission.pk)
        assert objects[key].status == facts.status

    # Registrations: A's in "comp" submitted, C's in "other" a draft, B's in "comp" not started.
    targets = {"comp": t1, "other": x1}
    for (slug, code), state in REGISTRATIONS.items():
        if state not in ("draft", "submitted"):
            continue
        competition = comp if slug == "comp" else other
        data = registrations.RegistrationData(
            f"Pledge {code}", {targets[slug].pk: registrations.LineData(targets[slug])}
        )
        registrations.save(competition, agencies[code], editors[code], data, submit_after=state == "submitted")

    # A file taken off A's draft: attached to nothing, still A's evidence.
    removed = attach(objects["a_draft"], SimpleUploadedFile("doc_removed.pdf", PDF), users["editor_a"])
    documents["doc_removed"] = removed.document
    removed.delete()
    # What the audit log holds beyond the submissions' own entries: a reviewer's score.
    log(objects["a_submitted"], "competition.score", user=users["reviewer"], data={"new_points": "1"})

    snippets = {
        **{code: agencies[code] for code in SNIPPETS["agency"]},
        "m_a": memberships["editor_a"],
        "m_c": memberships["editor_c"],
        "j_comp": j_comp,
        "j_other": j_other,
        "adj_comp": Adjustment.objects.create(competition=comp, agency=agencies["A"], points=2, reason="Bonus"),
        "adj_other": Adjustment.objects.create(competition=other, agency=agencies["C"], points=-1, reason="Late"),
        "tok_comp": FeedToken(name="Feed A", competition=comp, agency=agencies["A"], expires_on=date(2099, 1, 1)),
        "tok_other": FeedToken(name="Feed C", competition=other, agency=agencies["C"], expires_on=date(2099, 1, 1)),
        "p_comp": ReviewPanel.objects.create(competition=comp, name="Matrix panel"),
        "p_other": ReviewPanel.objects.create(competition=other, name="Matrix other panel"),
    }
    for key in ("tok_comp", "tok_other"):
        feed_tokens.issue(snippets[key], users["superuser"])
    # Panels on targets no line of the roles' agencies has (T2) or of the other competition:
    # nobody's queue changes.
    snippets["p_comp"].targets.set([t2])
    snippets["p_comp"].members.set([j_comp])
    snippets["p_other"].targets.set([x1])
    snippets["p_other"].members.set([j_other])
    for key in ("p_comp", "p_other"):
        snippets[key].save()  # parental relations are written on save
    pages = {"comp_page": comp, "t1": t1, "t2": t2, "commit_a": commit_a, "other_page": other, "draft_page": draft}
    logged = {}
    for key in ("j_comp", "j_other", "adj_comp", "adj_other", "m_a", "m_c", "p_comp", "p_other"):
        model = next(model for model, keys in SNIPPETS.items() if key in keys)
        entry = log(snippets[key], "wagtail.create", user=users["superuser"])
        logged[key] = (model, entry.label)
    backend = get_search_backend()  # the tests' index is not kept up to date on save
    for indexed in (comp, other, draft, *documents.values()):
        backend.add(indexed)
    png = io.BytesIO()
    PillowImage.new("RGB", (2, 2)).save(png, "PNG")
    image = get_image_model().objects.create(title="Matrix photo", file=ImageFile(png, name="matrix.png"))
    return {
        "users": users,
        "agencies": agencies,
        "lines": lines,
        "objects": objects,
        "documents": documents,
        "snippets": snippets,
        "pages": pages,
        "competitions": {"comp": comp, "other": other},
        "targets": targets,
        "logged": logged,
        "image": image,
    }


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Built once for the module inside a transaction that is rolled back at its end; each test
    runs in a savepoint of it."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield build_world()
        transaction.set_rollback(True)


# --- Cases --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    url: str
    key: object
    method: str


def all_specs():
    specs = {**ADMIN_URLS, **PUBLIC_URLS, **WAGTAIL_URLS}
    for model, keys in BULK_DELETES.items():
        specs[f"bulk:{model}:delete"] = Url(keys, get=bulk_rule(model, "view"), post=bulk_rule(model, "delete"))
    for key, public in PUBLIC_PAGES.items():
        specs[f"page:{key}"] = Url((key,), get=lambda name, role, k, public=public: public, reads_only=True)
    return specs


def build_cases():
    return [
        Case(url, key, method) for url, spec in all_specs().items() for key in spec.objects for method in spec.methods
    ]


def expected(spec, case, role_name):
    rule = spec.post if case.method == "post" and spec.post is not None else spec.get
    if rule == "refused":
        return False
    return bool(rule(role_name, ROLES[role_name], case.key))


def path_of(world, case, spec):
    if case.url.startswith("bulk:"):
        _bulk, model, action = case.url.split(":")
        objects = world["objects"] if model == "submission" else world["snippets"]
        return reverse("wagtail_bulk_action", args=("competition", model, action)) + f"?id={objects[case.key].pk}"
    if case.url.startswith("page:"):
        return world["pages"][case.key].get_url()
    found = spec.kwargs(world, case.key) if spec.kwargs else {}
    path = reverse(case.url, args=found) if isinstance(found, list) else reverse(case.url, kwargs=found)
    return path + (f"?{spec.query(world, case.key)}" if spec.query else "")


def was_refused(world, case, response):
    if response.status_code in (401, 403, 404, 405):
        return True
    location = response.get("Location", "") if response.status_code == 302 else ""
    if location == reverse("wagtailadmin_home") or location.startswith(reverse("wagtailadmin_login")):
        return True
    if case.url == "wagtailsnippets_competition_submission:edit" and case.method == "get":
        # Who may see a submission but not change it is shown it read-only (its Inspect page).
        inspect = reverse("wagtailsnippets_competition_submission:inspect", args=[world["objects"][case.key].pk])
        if location == inspect:
            return True
    if case.url in ("wagtailadmin_pages:delete", "wagtailadmin_api:pages:action") and case.method == "post":
        return Page.objects.filter(pk=world["pages"][case.key].pk).exists()
    if case.url == "wagtailsnippets_competition_agency:delete" and case.method == "post":
        # An agency others still refer to stays, and the user is sent back to say why.
        return Agency.objects.filter(pk=world["snippets"][case.key].pk).exists()
    if case.url == "wagtailadmin_pages:delete":
        # The hook keeping pages with evidence sends the user back to the parent's listing.
        parent = world["pages"][case.key].get_parent()
        return location == reverse("wagtailadmin_explore", args=[parent.pk])
    if case.url.startswith("bulk:") and case.method == "post":
        _bulk, model, _action = case.url.split(":")
        objects = world["objects"] if model == "submission" else world["snippets"]
        instance = objects[case.key]
        if model == "feedtoken":  # revoked, never deleted
            return FeedToken.objects.filter(pk=instance.pk, revoked_at__isnull=True).exists()
        return type(instance).objects.filter(pk=instance.pk).exists()
    return False


# --- What a POST changed ------------------------------------------------------------------------


def _slug(slug):
    return {"matrix": "comp", "matrix-other": "other"}.get(slug, slug or "")


def fingerprint():
    """Every row a POST could change, as {(table, pk): (owner agency, owner competition, data)}."""
    rows = {}
    for values in Submission.objects.values_list(
        "pk",
        "line__commitment__agency__code",
        "line__commitment__competition__slug",
        "status",
        "value",
        "line_id",
        "narrative",
    ):
        rows["submission", values[0]] = (values[1], _slug(values[2]), values[3:])
    for values in SubmissionAttachment.objects.values_list(
        "pk",
        "submission__line__commitment__agency__code",
        "submission__line__commitment__competition__slug",
        "document_id",
        "is_public",
    ):
        rows["attachment", values[0]] = (values[1], _slug(values[2]), values[3:])
    for values in get_document_model().objects.values_list("pk", "collection__name", "title", "file"):
        rows["document", values[0]] = (values[1].split(" ")[0], "", values[2:])
    for values in JuryScore.objects.values_list(
        "pk",
        "submission__line__commitment__agency__code",
        "submission__line__commitment__competition__slug",
        "juror_id",
        "points",
    ):
        rows["score", values[0]] = (values[1], _slug(values[2]), values[3:])
    for values in Juror.objects.values_list("pk", "agency__code", "competition__slug", "user_id"):
        rows["juror", values[0]] = ("", _slug(values[2]), (values[1], values[3]))
    for panel in ReviewPanel.objects.select_related("competition").prefetch_related("targets", "members"):
        rows["panel", panel.pk] = (
            "",
            _slug(panel.competition.slug),
            (
                panel.name,
                tuple(sorted(t.pk for t in panel.targets.all())),
                tuple(sorted(j.pk for j in panel.members.all())),
            ),
        )
    for values in DeclaredConflict.objects.values_list("pk", "agency__code", "juror__competition__slug", "juror_id"):
        rows["conflict", values[0]] = (values[1], _slug(values[2]), values[3:])
    for values in Adjustment.objects.values_list("pk", "agency__code", "competition__slug", "points", "reason"):
        rows["adjustment", values[0]] = (values[1], _slug(values[2]), values[3:])
    for values in AgencyMembership.objects.values_list("pk", "agency__code", "user_id"):
        rows["membership", values[0]] = (values[1], "", values[2:])
    for values in Agency.objects.values_list("pk", "code", "name", "parent_id"):
        rows["agency", values[0]] = (values[1], "", values[2:])
    for values in CommitmentLine.objects.values_list(
        "pk", "commitment__agency__code", "commitment__competition__slug", "target_id", "baseline", "target_value"
    ):
        rows["line", values[0]] = (values[1], _slug(values[2]), values[3:])
    for values in Registration.objects.values_list(
        "pk", "agency__code", "competition__slug", "status", "pledge", "decision_note", "latest_revision_id"
    ):
        rows["registration", values[0]] = (values[1], _slug(values[2]), values[3:])
    for values in FeedToken.objects.values_list(
        "pk", "agency__code", "competition__slug", "name", "expires_on", "revoked_at", "key_hash"
    ):
        rows["feedtoken", values[0]] = (values[1], _slug(values[2]), values[3:])
    for values in CompetitionPage.objects.values_list("pk", "slug", "closed", "closed_at", "closed_by_id"):
        rows["judging", values[0]] = ("", _slug(values[1]), values[2:])
    paths = {_slug(page.slug): page.path for page in CompetitionPage.objects.filter(slug__startswith="matrix")}
    for values in Page.objects.values_list(
        "pk", "path", "title", "live", "has_unpublished_changes", "latest_revision_id"
    ):
        owner = next((slug for slug, path in paths.items() if values[1].startswith(path)), "site")
        rows["page", values[0]] = ("", owner, values[1:])
    return rows


def may_write(role_name, table, owner):
    """Whether the role may create, change or delete a row of `table` owned by `owner`."""
    role = ROLES[role_name]
    agency, competition = owner
    if role.superuser:
        return True
    if table == "submission":
        return role.editor == agency or role.manages == competition
    if table in ("attachment", "document"):
        return role.editor == agency
    if table == "registration":
        return role.editor == agency or role.manages == competition
    if table in ("score", "conflict"):
        seat = role.seat_in(competition)
        return seat is not None and seat != agency
    if table in ("juror", "adjustment", "line", "page", "judging", "feedtoken", "panel"):
        return role.manages == competition
    if table in ("membership", "agency"):
        return role_name in MODEL_PERMS and (agency not in AGENCIES or agency_in_scope(role, agency))
    raise AssertionError(table)


def changed_rows(before, after):
    return [
        (key, owner[:2])
        for key in before.keys() | after.keys()
        if before.get(key) != after.get(key)
        for owner in {before.get(key), after.get(key)} - {None}
    ]


def broken_invariants(changed_submissions=()):
    """Rows pointing at another agency's or competition's objects (none may ever exist), and
    submissions just written by someone who does not edit for their agency."""
    from django.db.models import Exists, F, OuterRef

    problems = []
    if CommitmentLine.objects.exclude(target__competition_id=F("commitment__competition_id")).exists():
        problems.append("a commitment line names a target of another competition")
    scores = JuryScore.objects.exclude(juror__competition_id=F("submission__line__commitment__competition_id"))
    if (
        scores.exists()
        or JuryScore.objects.filter(juror__agency_id=F("submission__line__commitment__agency_id")).exists()
    ):
        problems.append("a score by a juror of another competition or with a conflict of interest")
    commitments = CommitmentPage.objects.filter(
        competition_id=OuterRef("competition_id"), agency_id=OuterRef("agency_id")
    )
    if Adjustment.objects.exclude(Exists(commitments)).exists():
        problems.append("an adjustment for an agency outside the competition")
    members = AgencyMembership.objects.filter(
        user_id=OuterRef("created_by_id"), agency_id=OuterRef("line__commitment__agency_id")
    )
    written = Submission.objects.filter(pk__in=changed_submissions, created_by__is_superuser=False)
    if written.exclude(Exists(members)).exists():
        problems.append("a submission created by someone who does not edit for its agency")
    for attachment in SubmissionAttachment.objects.select_related(
        "document__collection", "submission__line__commitment__agency"
    ):
        if not attachment.document.collection.name.startswith(f"{attachment.submission.line.commitment.agency.code} "):
            problems.append(f"attachment {attachment.pk} holds a document of another agency's collection")
    return problems


# --- The tests ----------------------------------------------------------------------------------


def discovered_urls():
    """Names of every URL of the competition app found in the resolver."""
    found = set()

    def walk(resolver, namespace):
        for pattern in resolver.url_patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern, ":".join(part for part in (namespace, pattern.namespace) if part))
                continue
            if not pattern.name:
                continue
            name = f"{namespace}:{pattern.name}" if namespace else pattern.name
            module = getattr(pattern.callback, "__module__", "") or ""
            view_class = getattr(pattern.callback, "view_class", None)
            modules = {module, getattr(view_class, "__module__", "")}
            if (
                name.startswith(("wagtailsnippets_competition_", "wagtailsnippetchoosers_competition_", "competition"))
                or ":competition_" in name
                or any(m.startswith("competition.") for m in modules)
            ):
                found.add(name)

    walk(get_resolver(), "")
    for model in (CompetitionPage, TargetPage, CommitmentPage):
        if hasattr(model, "get_subpage_urls"):
            found |= {f"route:{model.__name__}:{route.name}" for route in model.get_subpage_urls()}
    for model in ("submission", *SNIPPETS):
        found |= {
            f"bulk:{model}:{action.action_type}"
            for action in bulk_action_registry.get_bulk_actions_for_model("competition", model)
        }
    return found


def test_every_url_of_the_app_is_in_the_matrix():
    covered = (
        set(ADMIN_URLS)
        | set(PUBLIC_URLS)
        | {f"route:{m}:{r}" for m, r in PAGE_ROUTES}
        | {f"bulk:{model}:delete" for model in BULK_DELETES}
    )
    found = discovered_urls()

    missing = sorted(found - covered)
    stale = sorted(covered - found)

    assert not missing, "URLs of the competition app missing from the permission matrix: " + ", ".join(missing)
    assert not stale, "entries of the permission matrix that match no URL any more: " + ", ".join(stale)
    print(f"permission matrix: {len(build_cases()) * len(ROLES)} cases")


def fetch(client, method, path, data):
    response = getattr(client, method)(path, data) if method == "post" else client.get(path)
    if getattr(response, "streaming", False):
        response.body = b"".join(response.streaming_content)
        # Closing a served file fires request_finished, which would close the test's connection.
        request_finished.disconnect(close_old_connections)
        try:
            response.close()
        finally:
            request_finished.connect(close_old_connections)
    return response


def content_problems(world, spec, case, role_name, response):
    """What a response shows that the role may not see, or misses that it should see."""
    body = getattr(response, "body", None)
    if body is None:
        body = response.content
    if case.key == "xlsx":
        from openpyxl import load_workbook

        sheet = load_workbook(io.BytesIO(body)).active
        text = "\n".join(
            " ".join(str(cell) for cell in row if cell is not None) for row in sheet.iter_rows(values_only=True)
        )
    else:
        text = body.decode()
    show, hide = spec.content(world, role_name, ROLES[role_name], case.key)
    return [f"does not show {pattern}" for pattern in show if not re.search(pattern, text)] + [
        f"shows {pattern}" for pattern in hide if re.search(pattern, text)
    ]


def wrote(queries):
    """Whether any statement of a request wrote to a table other than the session's."""
    return any(
        query["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
        and "django_session" not in query["sql"]
        for query in queries
    )


@pytest.mark.slow  # 15 to 45 s a role: the module first of the rolled-back tests (tests/conftest.py)
@pytest.mark.django_db
@pytest.mark.parametrize(
    "role_name",
    [
        pytest.param(
            name,
            marks=pytest.mark.skipif(
                ON_POSTGRES and name in SQLITE_ONLY_ROLES,
                reason=f"SQLite pass only: {SQLITE_ONLY_ROLES.get(name)}, a role of its kind, runs here",
            ),
        )
        for name in ROLES
    ],
)
def test_permission_matrix(client, world, role_name):
    client.raise_request_exception = False
    user = world["users"].get(role_name)
    if user is not None:
        client.force_login(user)
    specs = all_specs()
    cases = build_cases()
    # Every case is rolled back: each starts from this state.
    baseline = fingerprint()
    failures = []
    for case in cases:
        spec = specs[case.url]
        allowed = expected(spec, case, role_name)
        path = path_of(world, case, spec)
        data = spec.data(world, case.key) if spec.data else {}
        label = f"{role_name} {case.method.upper()} {case.url} [{case.key}]"
        # Each case's own queries: Django keeps the last 9,000 of a connection, and one role's
        # run of the matrix makes more.
        connection.queries_log.clear()
        with transaction.atomic(), CaptureQueriesContext(connection) as queries:
            response = fetch(client, case.method, path, data)
            if response.status_code >= 500:
                failures.append(f"{label}: server error {response.status_code}")
            refused = was_refused(world, case, response)
            if allowed and refused:
                failures.append(f"{label}: refused ({response.status_code} {response.get('Location', '')})")
            if not allowed and not refused:
                failures.append(f"{label}: allowed ({response.status_code} {response.get('Location', '')})")
            if spec.content and response.status_code == 200:
                failures.extend(
                    f"{label}: {problem}" for problem in content_problems(world, spec, case, role_name, response)
                )
            if wrote(queries.captured_queries):
                changes = changed_rows(baseline, fingerprint())
                if changes and (not allowed or spec.reads_only):
                    failures.append(f"{label}: changed {sorted({key[0] for key, _owner in changes})}")
                for (table, pk), owner in changes:
                    if not may_write(role_name, table, owner):
                        failures.append(f"{label}: wrote {table} {pk} of {owner}")
                changed = {pk for (table, pk), _owner in changes if table == "submission"}
                failures.extend(f"{label}: {problem}" for problem in broken_invariants(changed))
            transaction.set_rollback(True)
    print(f"{role_name}: {len(cases)} cases")
    assert not failures, f"{len(failures)} of {len(cases)} cases failed:\n" + "\n".join(failures)


# --- Cross-object writes: another agency's or competition's ids in the POST ----------------------


def submission_url(name, *args):
    return reverse(f"wagtailsnippets_competition_submission:{name}", args=args)


def login(client, world, role_name):
    client.force_login(world["users"][role_name])


def assert_sound():
    assert broken_invariants(Submission.objects.values_list("pk", flat=True)) == []


@pytest.mark.django_db
def test_evidence_cannot_be_filed_on_another_agencys_line(client, world):
    login(client, world, "editor_b")
    returned = world["objects"]["b_returned"]
    before = Submission.objects.count()

    for line in (world["lines"]["A"], world["lines"]["C"]):
        data = {**submission_data(world, "b_returned", value="12"), "line": line.pk}
        added = client.post(submission_url("add"), data)
        edited = client.post(submission_url("edit", returned.pk), data)

        assert added.status_code == edited.status_code == 200
        assert "line" in added.context["form"].errors and "line" in edited.context["form"].errors
    assert Submission.objects.count() == before
    returned.refresh_from_db()
    assert (returned.line_id, returned.value) == (world["lines"]["B"].pk, 10)
    assert_sound()


@pytest.mark.django_db
def test_posted_attachments_and_collections_are_ignored(client, world):
    login(client, world, "editor_b")
    returned = world["objects"]["b_returned"]
    foreign = world["documents"]["doc_a_draft"]
    data = {
        **submission_data(world, "b_returned", value="12"),
        "attachments-TOTAL_FORMS": "1",
        "attachments-INITIAL_FORMS": "0",
        "attachments-0-document": foreign.pk,
        "attachments-0-is_public": "on",
        "collection": foreign.collection_id,
        "created_by": world["users"]["editor_a"].pk,
        "status": SubmissionStatus.ACCEPTED,
        "new_attachments": SimpleUploadedFile("mine.pdf", PDF),
    }

    response = client.post(submission_url("edit", returned.pk), data)

    assert response.status_code == 302, response.content.decode()[:2000]
    returned.refresh_from_db()
    assert returned.status == SubmissionStatus.RETURNED and returned.value == 12
    documents = [attachment.document for attachment in returned.attachments.select_related("document__collection")]
    assert [document.title for document in documents] == ["mine.pdf"]
    assert documents[0].collection.name.startswith("B ")
    assert not SubmissionAttachment.objects.filter(document=foreign).exclude(submission=world["objects"]["a_draft"])
    assert_sound()


@pytest.mark.django_db
def test_actions_on_another_agencys_or_competitions_submission_change_nothing(client, world):
    objects = world["objects"]
    cases = [
        ("editor_b", "submit", objects["a_draft"], {}),
        ("editor_b", "delete", objects["a_draft"], {}),
        ("editor_b", "edit", objects["a_draft"], submission_data(world, "b_returned")),
        ("manager_other", "decide", objects["a_submitted"], {"decision": "accept"}),
        ("manager", "decide", objects["c_submitted"], {"decision": "reject", "note": "No"}),
        ("manager", "submit", objects["b_returned"], {}),
    ]
    baseline = fingerprint()

    for role_name, action, submission, data in cases:
        login(client, world, role_name)
        response = client.post(submission_url(action, submission.pk), data)

        assert response.status_code in (403, 404) or response.get("Location") == reverse("wagtailadmin_home"), (
            role_name,
            action,
        )
    assert fingerprint() == baseline


@pytest.mark.django_db
def test_scores_go_only_to_the_submission_and_seat_of_the_request(client, world):
    objects, snippets = world["objects"], world["snippets"]
    login(client, world, "reviewer")
    data = {"points": "3", "comment": "ok", "juror": snippets["j_other"].pk, "submission": objects["a_submitted"].pk}

    response = client.post(reverse("competition_review", args=[objects["b_submitted"].pk]), data)

    assert response.status_code == 302
    score = JuryScore.objects.get()
    assert (score.submission, score.juror, score.points) == (objects["b_submitted"], snippets["j_comp"], 3)
    login(client, world, "reviewer_a")
    # Their own agency's: refused with the reason (conflict of interest); another competition's: 404.
    assert client.post(reverse("competition_review", args=[objects["a_submitted"].pk]), data).status_code == 403
    assert client.post(reverse("competition_review", args=[objects["c_submitted"].pk]), data).status_code == 404
    assert JuryScore.objects.count() == 1
    assert_sound()


def snippet_url(model, name, *args):
    return reverse(f"wagtailsnippets_competition_{model}:{name}", args=args)


@pytest.mark.django_db
def test_managers_cannot_write_into_a_competition_they_do_not_manage(client, world):
    comp, other = world["competitions"]["comp"], world["competitions"]["other"]
    agencies, snippets, users = world["agencies"], world["snippets"], world["users"]
    login(client, world, "manager_other")
    attempts = [
        ("juror", "add", (), {"competition": comp.pk, "user": users["editor_b"].pk, "agency": ""}),
        ("juror", "edit", (snippets["j_other"].pk,), {"competition": comp.pk, "user": users["juror_other"].pk}),
        ("adjustment", "add", (), {"competition": comp.pk, "agency": agencies["A"].pk, "points": "5", "reason": "x"}),
        (
            "adjustment",
            "edit",
            (snippets["adj_other"].pk,),
            {"competition": comp.pk, "agency": agencies["A"].pk, "points": "5", "reason": "x"},
        ),
        ("agencymembership", "add", (), {"user": users["manager_other"].pk, "agency": agencies["A"].pk}),
        (
            "agencymembership",
            "edit",
            (snippets["m_c"].pk,),
            {"user": users["editor_c"].pk, "agency": agencies["B"].pk},
        ),
    ]
    baseline = fingerprint()

    for model, name, args, data in attempts:
        response = client.post(snippet_url(model, name, *args), data)

        assert response.status_code == 200, (model, name, response.status_code)
        field = "agency" if model == "agencymembership" else "competition"
        assert field in response.context["form"].errors, (model, name)
    assert fingerprint() == baseline
    # Within their own competition the same forms work.
    response = client.post(
        snippet_url("adjustment", "add"),
        {"competition": other.pk, "agency": agencies["C"].pk, "points": "5", "reason": "x"},
    )
    assert response.status_code == 302
    assert Adjustment.objects.filter(competition=other, reason="x").exists()


@pytest.mark.django_db
def test_an_adjustment_never_names_an_agency_outside_the_competition(client, world):
    comp, agencies = world["competitions"]["comp"], world["agencies"]
    login(client, world, "manager")
    baseline = fingerprint()

    response = client.post(
        snippet_url("adjustment", "add"),
        {"competition": comp.pk, "agency": agencies["C"].pk, "points": "5", "reason": "x"},
    )

    assert response.status_code == 200 and "agency" in response.context["form"].errors
    assert fingerprint() == baseline


def commitment_form(world, lines, agency="A", publish=True):
    """The page editor's POST for the commitment page of agency A, with `lines` as
    (line pk or None, target page, delete) tuples."""
    from wagtail.test.utils.form_data import inline_formset, nested_form_data, rich_text

    page = world["pages"]["commit_a"]
    data = nested_form_data(
        {
            "title": page.title,
            "slug": page.slug,
            "agency": world["agencies"][agency].pk,
            "pledge": rich_text(""),
            "lines": inline_formset(
                [
                    {
                        "id": pk or "",
                        "target": target.pk,
                        "baseline": "",
                        "target_value": "",
                        "DELETE": "1" if delete else "",
                    }
                    for pk, target, delete in lines
                ],
                initial=sum(1 for pk, _target, _delete in lines if pk),
                min=1,
            ),
            "comments": inline_formset([]),
        }
    )
    if publish:
        data["action-publish"] = "action-publish"
    return data


def other_target(world):
    return TargetPage.objects.get(competition=world["competitions"]["other"])


@pytest.mark.django_db
@pytest.mark.parametrize(
    "change",
    [
        "target of another competition",
        "new line to another competition",
        "move reported line",
        "drop reported line",
        "other agency",
    ],
)
def test_commitments_never_point_elsewhere_nor_move_reported_values(client, world, change):
    page, line = world["pages"]["commit_a"], world["lines"]["A"]
    t1, t2 = world["pages"]["t1"], world["pages"]["t2"]
    lines, agency = [(line.pk, t1, False)], "A"
    if change == "target of another competition":
        lines = [(line.pk, other_target(world), False)]
    elif change == "new line to another competition":
        lines.append((None, other_target(world), False))
    elif change == "move reported line":
        lines = [(line.pk, t2, False)]
    elif change == "drop reported line":
        lines = [(line.pk, t1, True), (None, t2, False)]
    else:
        agency = "D"
    login(client, world, "manager")
    baseline = fingerprint()

    response = client.post(
        reverse("wagtailadmin_pages:edit", args=[page.pk]), commitment_form(world, lines, agency=agency)
    )

    assert response.status_code == 200, response.get("Location")
    assert fingerprint() == baseline
    assert_sound()


@pytest.mark.django_db
def test_a_commitment_page_still_saves_with_its_own_targets(client, world):
    page, line = world["pages"]["commit_a"], world["lines"]["A"]
    t1, t2 = world["pages"]["t1"], world["pages"]["t2"]
    login(client, world, "manager")

    response = client.post(
        reverse("wagtailadmin_pages:edit", args=[page.pk]),
        commitment_form(world, [(line.pk, t1, False), (None, t2, False)]),
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    assert set(CommitmentLine.objects.filter(commitment=page).values_list("target__code", flat=True)) == {"T1", "T2"}
    assert_sound()


@pytest.mark.django_db
def test_the_import_screen_lists_only_imports_of_ones_own_competitions(client, world):
    from competition.models import ImportRecord

    users = world["users"]
    ImportRecord.objects.create(user=users["manager"], kind="values", file_name="comp-values.csv", competition="matrix")
    ImportRecord.objects.create(user=users["superuser"], kind="agencies", file_name="all-agencies.csv")
    ImportRecord.objects.create(
        user=users["manager_other"], kind="values", file_name="other-values.csv", competition="matrix-other"
    )

    shown = {}
    for role_name in ("manager", "manager_other", "superuser"):
        login(client, world, role_name)
        content = client.get(reverse("competition_import")).content.decode()
        shown[role_name] = {
            name for name in ("comp-values", "all-agencies", "other-values") if f"{name}.csv" in content
        }

    assert shown == {
        "manager": {"comp-values"},
        "manager_other": {"other-values"},
        "superuser": {"comp-values", "all-agencies", "other-values"},
    }
