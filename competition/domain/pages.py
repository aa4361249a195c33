"""Publishing the competition's pages the way an editor would: a revision, then its publication,
both written to Wagtail's audit log."""

from django.utils.text import slugify
from wagtail.models import Page

from ..models import CommitmentPage
from .pledges import to_rich_text


def publish(page, user=None):
    """Save the page's current in-memory state as a revision and publish it."""
    revision = page.save_revision(user=user, log_action=True)
    revision.publish(user=user)
    # Publishing saved a copy built from the revision: bring this instance up to date.
    page.refresh_from_db(
        fields=["live", "has_unpublished_changes", "live_revision", "first_published_at", "last_published_at"]
    )
    return revision


def create_and_publish(parent, page, user=None):
    """Add `page` under `parent` as a draft, then publish it (so it has a first revision)."""
    page.live = False
    page.has_unpublished_changes = True
    parent.add_child(instance=page)
    return publish(page, user=user)


def free_slug(parent, wanted, *, exclude_pk=None):
    """`wanted`, or `wanted-2`, `wanted-3`... so that no sibling under `parent` has it already."""
    base = slugify(wanted) or "page"
    siblings = set(Page.objects.child_of(parent).exclude(pk=exclude_pk).values_list("slug", flat=True))
    slug, n = base, 2
    while slug in siblings:
        slug, n = f"{base}-{n}", n + 1
    return slug


def new_commitment_page(competition, agency, pledge):
    """A new (unsaved) commitment page of `agency` in `competition`: titled with the agency's
    name, at a free slug, with `pledge` (plain text) as its pledge."""
    return CommitmentPage(
        competition=competition,
        agency=agency,
        title=agency.name,
        draft_title=agency.name,
        slug=free_slug(competition, f"agency-{agency.code}"),
        pledge=to_rich_text(pledge),
    )


def deletion_refusal(page):
    """Why `page` and the pages below it cannot be deleted, or None: values reported against
    them (on their targets or commitment lines), or rows the database protects (a target other
    agencies committed to, a competition's jurors...). Asked by every page deletion path of the
    admin (the Delete screen, the page listing's bulk "Delete", the admin API's `delete`), before
    anything is deleted; the database refuses the same deletions anyway."""
    from django.db import router
    from django.db.models import Q
    from django.db.models.deletion import Collector, ProtectedError, RestrictedError
    from django.utils.translation import gettext as _

    from ..models import Submission

    title = page.specific_deferred.get_admin_display_title()
    pages = Page.objects.filter(path__startswith=page.path, depth__gte=page.depth)
    if Submission.objects.filter(Q(line__commitment__in=pages) | Q(line__target__in=pages)).exists():
        return _("%(title)s cannot be deleted: values have been reported against it. Unpublish it instead.") % {
            "title": title
        }
    try:
        Collector(using=router.db_for_write(Page)).collect(pages)
    except (ProtectedError, RestrictedError) as error:
        return _("“%(object)s” cannot be deleted: %(kinds)s still refer to it.") % {
            "object": title,
            "kinds": referring_kinds(error),
        }
    return None


def referring_kinds(error):
    """The kinds of rows (plural names, comma-separated) whose references stopped a deletion (a
    ProtectedError or RestrictedError)."""
    found = getattr(error, "protected_objects", None) or getattr(error, "restricted_objects", ())
    return ", ".join(sorted({str(row._meta.verbose_name_plural) for row in found}))
