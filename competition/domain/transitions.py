"""The step every submission and registration takes when its status changes (submitted, then
accepted, approved, returned or rejected): who did it and when, a revision and an entry in
Wagtail's audit log. Each action (domain.evidence, domain.registration) checks who may take it
and tells the people concerned by e-mail itself."""

from django.utils import timezone
from wagtail.log_actions import log


def record_transition(item, user, status, *, submitted, action, note="", **data):
    """Move `item` (a model with the submitted_at/by, decided_at/by and decision_note fields) to
    `status`: submitting (`status == submitted`) clears the last decision's note, a decision
    keeps `note`. Saves it with a revision and logs `action` with the old and new status, the
    note and `data`. Returns the revision."""
    previous = item.status
    now = timezone.now()
    item.status = status
    if status == submitted:
        item.submitted_at, item.submitted_by = now, user
        item.decision_note = ""
    else:
        item.decided_at, item.decided_by = now, user
        item.decision_note = note
    item.save()
    revision = item.save_revision(user=user, clean=False)
    log(
        instance=item,
        action=action,
        user=user,
        revision=revision,
        data={"from": previous, "to": status, "note": note, **data},
    )
    return revision
