"""Keep cached scoreboards honest: any saved or deleted row that a board reads invalidates the
boards of its competition."""

import threading
from contextlib import contextmanager

from django.db import transaction
from django.db.models import ProtectedError
from django.db.models.signals import post_delete, post_save, pre_delete, pre_save
from wagtail.documents import get_document_model
from wagtail.documents.models import AbstractDocument
from wagtail.models import Page, PageViewRestriction, Site
from wagtail.signals import page_slug_changed, page_unpublished, post_page_move

from .domain import history
from .domain.scoreboard import invalidate
from .domain.warming import rebuild_later
from .models import (
    Adjustment,
    Agency,
    Award,
    CommendationDecision,
    CommitmentLine,
    CommitmentPage,
    CompetitionPage,
    JuryScore,
    OfficialResult,
    ProgressDirty,
    Submission,
    SubmissionAttachment,
    SubmissionLink,
    TargetPage,
)


def _invalidate_later(competition_ids, *, drop_stale=False, progress=True, marked=False):
    # After commit, so that a reader never caches the state of a transaction being rolled back.
    # The competitions are noted in one store per transaction, and the first callback to run after
    # the commit invalidates all of them (each with drop_stale, or progress, if any change asked for
    # it) and enqueues one refresh each: the many saves of one form or admin action make one rebuild, not
    # one each. A transaction rolled back takes its callbacks, and so its store, with it.
    # A change that touches progress marks the summary of the history out of date at once, in its
    # own transaction, and has it computed again right after its commit: the whole of each
    # competition (domain.history.summarise), unless the caller `marked` the agencies it touched
    # (domain.history.mark), or the change cannot touch the summary (`marked` too: see
    # `_summary_marked`).
    ids = {pk for pk in competition_ids if pk}
    if not ids:
        return
    if progress and not marked:
        history.summarise(ids)
    connection = transaction.get_connection()
    store = None
    if connection.in_atomic_block:
        store = next(
            (callback.store for _sids, callback, _robust in connection.run_on_commit if isinstance(callback, _Flush)),
            None,
        )
    if store is None:
        store = {}
    for pk in ids:
        was_drop_stale, was_progress = store.get(pk, (False, False))
        store[pk] = (was_drop_stale or drop_stale, was_progress or progress)
    transaction.on_commit(_Flush(store))  # outside a transaction: at once


class _Flush:
    """After the commit: invalidate what the transaction's store holds ({competition id:
    (drop_stale, progress)}), once (the store is emptied; the transaction's later callbacks find nothing)."""

    def __init__(self, store):
        self.store = store

    def __call__(self):
        ids = dict(self.store)
        self.store.clear()
        if ids:
            _invalidate_now(ids)


def _invalidate_now(ids):
    """Invalidate the boards of `ids` ({competition id: (drop_stale, progress)}) and refresh them."""
    for pk, (drop_stale, progress) in ids.items():
        invalidate(pk, drop_stale=drop_stale, progress=progress, mark=False)  # marked before the commit
    rebuild_later(ids)


def _competition_ids(instance):
    if isinstance(instance, CompetitionPage):
        return [instance.pk]
    if isinstance(instance, (TargetPage, CommitmentPage, Adjustment)):
        return [instance.competition_id]
    if isinstance(instance, (OfficialResult, Award, CommendationDecision)):
        # The published result, its awards and the decision granting them show on the public
        # pages, the report and awards.json.
        return [instance.competition_id]
    if isinstance(instance, CommitmentLine):
        return CommitmentPage.objects.filter(pk=instance.commitment_id).values_list("competition_id", flat=True)
    if isinstance(instance, Submission):
        return CommitmentLine.objects.filter(pk=instance.line_id).values_list("commitment__competition_id", flat=True)
    if isinstance(instance, JuryScore):
        return Submission.objects.filter(pk=instance.submission_id).values_list(
            "line__commitment__competition_id", flat=True
        )
    if isinstance(instance, (SubmissionAttachment, SubmissionLink)):
        return Submission.objects.filter(pk=instance.submission_id).values_list(
            "line__commitment__competition_id", flat=True
        )
    if isinstance(instance, get_document_model()):
        # Evidence files are listed by title on the public commitment pages; a signed decision is
        # linked from its competition's pages and awards.json.
        evidence = SubmissionAttachment.objects.filter(document=instance).values_list(
            "submission__line__commitment__competition_id", flat=True
        )
        decisions = CommendationDecision.objects.filter(document=instance).values_list("competition_id", flat=True)
        return [*evidence, *decisions]
    if isinstance(instance, PageViewRestriction):
        # Restricted pages are never kept for anonymous readers: drop what was kept of them.
        page = instance.page
        ids = list(CompetitionPage.objects.filter(path__startswith=page.path).values_list("pk", flat=True))
        if page.specific_class in (TargetPage, CommitmentPage):
            ids.append(page.specific.competition_id)
        return ids
    if isinstance(instance, Agency):
        # Names and parents show on every board the agency is on, and on its children's groups.
        agencies = [instance.pk, *instance.children.values_list("pk", flat=True)]
        return CommitmentPage.objects.filter(agency__in=agencies).values_list("competition_id", flat=True)
    return []


def _marked_competitions(instance):
    """For a submission, a commitment line or a commitment page (the rows whose changes touch the
    progress of their agency only): mark the summary of that agency out of date, and of the agency
    and competition the page had before this save if it moved (`remember_commitment`), and return
    the competitions' ids. None for any other row."""
    if isinstance(instance, Submission):
        ids = history.mark_line(instance.line_id)
    elif isinstance(instance, CommitmentLine):
        ids = history.mark_commitment(instance.commitment_id)
    elif isinstance(instance, CommitmentPage):
        pairs = [(instance.competition_id, instance.agency_id), *getattr(instance, "_progress_was", ())]
        history.mark(pairs)
        ids = [competition_id for competition_id, _agency in pairs]
    else:
        return None
    return ids


def remember_commitment(sender, instance, update_fields=None, raw=False, **kwargs):
    """Note the competition and agency a commitment page had, if this save may move it to others:
    the summaries of both agencies are then out of date."""
    instance._progress_was = ()
    moving = {"agency", "agency_id", "competition", "competition_id"}
    if raw or instance.pk is None or (update_fields is not None and not moving & set(update_fields)):
        return
    stored = (
        CommitmentPage.objects.select_for_update()
        .filter(pk=instance.pk)
        .values_list("competition_id", "agency_id")
        .first()
    )
    if stored and stored != (instance.competition_id, instance.agency_id):
        instance._progress_was = (stored,)


_deferred = threading.local()


@contextmanager
def invalidation_deferred(competition_ids, *, marked=False, progress=True):
    """Within the block, saves do not look up their competition one by one; at the end the
    boards of `competition_ids` (None: every competition) are invalidated once, and what depends
    on progress too unless the block changed nothing progress depends on (`progress=False`). For
    bulk work such as imports. The summary of their progress history is marked out of date as a
    whole, unless the block `marked` the agencies it changed itself (domain.history.mark), or
    changed nothing the summary reads."""
    if not getattr(_deferred, "depth", 0):
        _deferred.dropped = set()
    _deferred.depth = getattr(_deferred, "depth", 0) + 1
    try:
        yield
    finally:
        _deferred.depth -= 1
        ids = competition_ids() if callable(competition_ids) else competition_ids
        if ids is None:
            ids = CompetitionPage.objects.values_list("pk", flat=True)
        if not _deferred.depth:
            dropped, _deferred.dropped = _deferred.dropped, set()
            _invalidate_later(dropped, drop_stale=True, marked=marked)
            ids = set(ids) - dropped
        _invalidate_later(list(ids), marked=marked, progress=progress)


def remember_judging(sender, instance, **kwargs):
    """Note whether a competition's judging state is about to change (see `judging_changed`)."""
    if instance.pk:
        instance._judging_was = CompetitionPage.objects.filter(pk=instance.pk).values_list("closed", flat=True).first()


def judging_changed(instance):
    """Whether this save closed or reopened judging: boards and pages kept in the other state
    must never be served again, not even while their successors are computed (a board made while
    judging was open lacks the jury's points; one made while closed shows them)."""
    was = getattr(instance, "_judging_was", None)
    return isinstance(instance, CompetitionPage) and was is not None and was != instance.closed


# Rows no agency's progress depends on (docs/scoring.md, sections 2, 3 and 7: only the values of
# the lines, their targets, and which lines and agencies take part): changing them leaves the
# history of the progress chart as it is (`scoreboard.progress_state`). Every other watched
# row makes it stale, whichever of its fields changed.
BESIDE_PROGRESS = (
    Adjustment,
    Agency,
    Award,
    CommendationDecision,
    JuryScore,
    OfficialResult,
    SubmissionAttachment,
    SubmissionLink,
    AbstractDocument,
)


def _touches_progress(instance):
    return not isinstance(instance, BESIDE_PROGRESS)


def on_change(sender, instance, **kwargs):
    drop_stale = judging_changed(instance)
    if getattr(_deferred, "depth", 0):
        if drop_stale:
            _deferred.dropped.add(instance.pk)
        return
    _invalidate_now_or_marked(instance, drop_stale)


# The fields of a target the summary reads (domain.history: its figures, its weight, its
# competition, whether it is live).
TARGET_SUMMARY_FIELDS = ("max_points", "unit", "baseline", "target_value", "direction", "competition_id", "live")
_TARGET_SUMMARY_NAMES = {field.removesuffix("_id") for field in TARGET_SUMMARY_FIELDS}  # as in update_fields
_UNKNOWN = object()


def remember_target(sender, instance, update_fields=None, raw=False, **kwargs):
    """Note what the summary reads of a target as stored before this save (None: a new target,
    which no line names yet), unless the save writes none of it (a draft: Wagtail saves the
    latest revision and the draft title)."""
    instance._summary_was = _UNKNOWN
    if raw:
        return
    if update_fields is not None and not {field.removesuffix("_id") for field in update_fields} & _TARGET_SUMMARY_NAMES:
        instance._summary_was = _summary_of(instance)
        return
    # Locked to the end of the save's transaction (Page.save is atomic), so that no other
    # editor's change commits between this read and the UPDATE: the save would write the figures
    # it read back over that change and find nothing changed (review 2).
    instance._summary_was = (
        TargetPage.objects.select_for_update().filter(pk=instance.pk).values_list(*TARGET_SUMMARY_FIELDS).first()
        if instance.pk is not None
        else None
    )


def _summary_of(target):
    return tuple(getattr(target, field) for field in TARGET_SUMMARY_FIELDS)


def _summary_marked(instance):
    """Whether a change to this row (not a submission, line or commitment page: those mark their
    agencies) leaves the summary of the progress history as it is. The summary reads the live
    targets and commitment pages of a competition by their foreign keys, their lines and the
    submissions (domain.history): a competition page (its period, judging, texts), the tree, a
    site or a view restriction never change it; nor does a new target (no line names it yet), or
    a save that leaves what it reads of a target as it was (`remember_target`: a draft, a new
    title). Any other change to a target (or its deletion), whose figures and weight every
    agency's progress depends on, makes the whole summary stale."""
    if not isinstance(instance, TargetPage):
        return True
    was = getattr(instance, "_summary_was", _UNKNOWN)
    instance._summary_was = _UNKNOWN  # once per save
    return was is not _UNKNOWN and (was is None or was == _summary_of(instance))


def _invalidate_now_or_marked(instance, drop_stale):
    marked = _marked_competitions(instance)
    if marked is not None:
        _invalidate_later(marked, drop_stale=drop_stale, marked=True)
    else:
        _invalidate_later(
            list(_competition_ids(instance)),
            drop_stale=drop_stale,
            progress=_touches_progress(instance),
            marked=_summary_marked(instance),
        )


def on_delete(sender, instance, **kwargs):
    if isinstance(instance, CompetitionPage):
        # Its pages, deleted with it, marked their agencies: nothing is left to mark.
        ProgressDirty.objects.filter(competition_id=instance.pk).delete()
        _invalidate_later([instance.pk], drop_stale=True, progress=True, marked=True)
        return
    if isinstance(instance, TargetPage):
        instance._summary_was = _UNKNOWN  # deleted: not what a save left
    if getattr(_deferred, "depth", 0):
        return
    # Deleted pages, files and restrictions vanish from public pages at once: no stale copy of
    # them is served while the fresh ones are computed.
    drop_stale = isinstance(instance, (Page, AbstractDocument, SubmissionAttachment, PageViewRestriction))
    _invalidate_now_or_marked(instance, drop_stale)


def on_restriction_saved(sender, instance, **kwargs):
    _invalidate_later(_competition_ids(instance), drop_stale=True, marked=True)


def on_page_moved(sender, instance, **kwargs):
    # Competitions below a moved or renamed page have new URLs: their old ones must not be served
    # from the cache (a move saves the moved page only, not its descendants).
    ids = CompetitionPage.objects.filter(path__startswith=instance.path).values_list("pk", flat=True)
    _invalidate_later([*ids, *_competition_ids(instance.specific)], drop_stale=True, marked=True)


def on_site_changed(sender, instance, **kwargs):
    # A site's host, port or root page decides the address of every page under it: no page kept
    # under the old addresses, and no place of a competition page remembered for them
    # (domain.slices.routes), is used again.
    _invalidate_later(CompetitionPage.objects.values_list("pk", flat=True), drop_stale=True, marked=True)


def on_page_unpublished(sender, instance, **kwargs):
    page = instance.specific
    if isinstance(page, CommitmentPage):
        _invalidate_later(_marked_competitions(page), drop_stale=True, marked=True)
    else:
        # A target's summary was marked by the save that unpublished it, in that save's
        # transaction: by `on_change` (the target saved as itself) or `on_plain_page_saved` (as a
        # plain Page: its expiry, the admin's bulk unpublish, PageQuerySet.unpublish). Marking it
        # again here computed the whole summary a second time (about 1 s at national size); an
        # unpublication that saves nothing (`unpublish(commit=False)`) changed nothing to mark.
        _invalidate_later(_competition_ids(page), drop_stale=True, marked=True)


def remember_plain_page(sender, instance, update_fields=None, raw=False, **kwargs):
    """A target or commitment page saved as a plain Page (Wagtail's expiry, a bulk or
    PageQuerySet unpublication) sends none of its own signals: note whether it was live, read
    and locked in Page.save's transaction, for `on_plain_page_saved`."""
    instance._live_was = _UNKNOWN
    if raw or type(instance) is not Page or instance.pk is None:
        return
    if update_fields is not None and "live" not in update_fields:
        return
    if instance.specific_class not in (TargetPage, CommitmentPage):
        return
    instance._live_was = Page.objects.select_for_update().filter(pk=instance.pk).values_list("live", flat=True).first()


def on_plain_page_saved(sender, instance, **kwargs):
    """Mark the summary when a plain Page save changed whether a target (its whole competition) or
    a commitment page (its agency) is live: in the save's own transaction (Page.save is atomic),
    not after it as `page_unpublished` is sent."""
    was = getattr(instance, "_live_was", _UNKNOWN)
    instance._live_was = _UNKNOWN
    if was is _UNKNOWN or was is None or was == instance.live:
        return
    page = instance.specific
    if isinstance(page, CommitmentPage):
        _invalidate_later(_marked_competitions(page), drop_stale=True, marked=True)
    else:
        _invalidate_later([page.competition_id], drop_stale=True, marked=False)


WATCHED = (
    Adjustment,
    Agency,
    Award,
    CommendationDecision,
    CommitmentLine,
    CommitmentPage,
    CompetitionPage,
    JuryScore,
    OfficialResult,
    Submission,
    SubmissionAttachment,
    SubmissionLink,
    TargetPage,
)


def refuse_deleting_submitted_evidence(sender, instance, **kwargs):
    """Nothing entered may be lost: a submission that was ever submitted is never deleted."""
    stored = Submission.objects.filter(pk=instance.pk).values_list("status", "submitted_at").first()
    states = [(instance.status, instance.submitted_at), *([stored] if stored else [])]
    if any(status != "draft" or submitted_at is not None for status, submitted_at in states):
        raise ProtectedError("A submission that was submitted cannot be deleted.", {instance})


def remember_evidence(sender, instance, created, raw=False, **kwargs):
    """A file attached to a submission is evidence of its agency and competition for good
    (EvidenceFile), even once it is taken off or its draft is deleted."""
    if raw:
        return
    from .models import EvidenceFile

    if EvidenceFile.objects.filter(document_id=instance.document_id).exists():
        return
    agency_id, competition_id = (
        Submission.objects.filter(pk=instance.submission_id)
        .values_list("line__commitment__agency_id", "line__commitment__competition_id")
        .get()
    )
    EvidenceFile.objects.get_or_create(
        document_id=instance.document_id, defaults={"agency_id": agency_id, "competition_id": competition_id}
    )


def recount_after_panel_deleted(sender, instance, **kwargs):
    """A deleted review panel's lines go back to the whole jury (or to their other panels):
    the competition's scores are counted again once the deletion is committed."""
    from .domain import panels

    competition_id = instance.competition_id
    transaction.on_commit(
        lambda: (
            panels.recount(CompetitionPage.objects.get(pk=competition_id))
            if CompetitionPage.objects.filter(pk=competition_id).exists()
            else None
        )
    )


def connect():
    from .models import ReviewPanel

    post_delete.connect(recount_after_panel_deleted, sender=ReviewPanel, dispatch_uid="competition-panel-deleted")
    post_save.connect(remember_evidence, sender=SubmissionAttachment, dispatch_uid="competition-remember-evidence")
    pre_delete.connect(refuse_deleting_submitted_evidence, sender=Submission, dispatch_uid="competition-keep-evidence")
    pre_save.connect(remember_judging, sender=CompetitionPage, dispatch_uid="competition-judging-state")
    pre_save.connect(remember_commitment, sender=CommitmentPage, dispatch_uid="competition-commitment-agency")
    pre_save.connect(remember_target, sender=TargetPage, dispatch_uid="competition-target-summary")
    for model in (*WATCHED, get_document_model()):
        post_save.connect(on_change, sender=model, dispatch_uid=f"competition-board-save-{model.__name__}")
        post_delete.connect(on_delete, sender=model, dispatch_uid=f"competition-board-delete-{model.__name__}")
    post_save.connect(on_restriction_saved, sender=PageViewRestriction, dispatch_uid="competition-board-restricted")
    post_delete.connect(on_delete, sender=PageViewRestriction, dispatch_uid="competition-board-unrestricted")
    pre_save.connect(remember_plain_page, sender=Page, dispatch_uid="competition-plain-page-live")
    post_save.connect(on_plain_page_saved, sender=Page, dispatch_uid="competition-plain-page-saved")
    post_page_move.connect(on_page_moved, dispatch_uid="competition-board-moved")
    page_slug_changed.connect(on_page_moved, dispatch_uid="competition-board-slug-changed")
    page_unpublished.connect(on_page_unpublished, dispatch_uid="competition-board-unpublished")
    post_save.connect(on_site_changed, sender=Site, dispatch_uid="competition-board-site-saved")
    post_delete.connect(on_site_changed, sender=Site, dispatch_uid="competition-board-site-deleted")
