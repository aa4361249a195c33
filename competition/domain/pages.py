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
