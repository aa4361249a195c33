"""Commendations (docs/results.md): the awards a competition's rules propose from its published
result, a manager's changes to that proposal (each with a reason, in the audit log) and the
decision that grants them (number, date, issuing body and the signed document).

The proposal applies the award rules in their order to the published board, best ranked agencies
first: an agency receives the first award it qualifies for, and an award goes to at most its
limit of agencies, unless agencies that share a rank at the limit are all proposed (the screen
says so, and a manager takes off the ones the decision leaves out, with a reason)."""

import os

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from wagtail.documents import get_document_model
from wagtail.log_actions import log
from wagtail.models import Collection

from .. import permissions
from ..models import Agency, Award, AwardBasis, CommendationDecision
from ..validators import clean_reason, validate_visible_text
from .attachments import check_upload
from .judging import current_result

DECISIONS_COLLECTION = "Commendation decisions"


def _may_manage(user, competition):
    if not (user.is_superuser or permissions.manages(user, competition.pk)):
        raise PermissionDenied


def qualifies(rule, agency, tier_order):
    """Whether an agency's result (a `scoring.AgencyResult`) meets an award rule's condition.
    `tier_order` maps each tier label to its place, best first."""
    if rule.basis == AwardBasis.RANK:
        return agency.rank <= rule.rank
    if rule.basis == AwardBasis.CLUSTER_RANK:
        return agency.group_rank is not None and agency.group_rank <= rule.rank
    wanted = tier_order.get(rule.tier.strip())
    return wanted is not None and tier_order.get(agency.tier, len(tier_order)) <= wanted


def propose(rules, board, tiers):
    """[(position, rule, agency result, over the limit)] in the rules' order: what the rules give
    on `board`. `tiers` are the competition's (label, minimum), highest first. An entry is over
    the limit when it shares its rank with the last agency the limit lets in."""
    tier_order = {label: place for place, (label, _minimum) in enumerate(tiers)}
    awarded = set()
    proposal = []
    for position, rule in enumerate(rules):
        candidates = [a for a in board.agencies if a.code not in awarded and qualifies(rule, a, tier_order)]
        if rule.basis == AwardBasis.CLUSTER_RANK:
            candidates.sort(key=lambda a: (a.group_rank, a.rank, a.code))
        taken = candidates if rule.limit is None else candidates[: rule.limit]
        if rule.limit is not None and taken and len(candidates) > rule.limit:
            last = taken[-1]
            tied = [a for a in candidates[rule.limit :] if _tie_key(rule, a) == _tie_key(rule, last)]
        else:
            tied = []
        for agency in taken:
            proposal.append((position, rule, agency, False))
        for agency in tied:
            proposal.append((position, rule, agency, True))
        awarded.update(agency.code for agency in (*taken, *tied))
    return proposal


def _tie_key(rule, agency):
    return agency.group_rank if rule.basis == AwardBasis.CLUSTER_RANK else agency.rank


def awards_of(competition):
    """The awards of the competition's published result (proposed when it was published), with
    their agencies; none while judging is open."""
    result = current_result(competition)
    if result is None:
        return Award.objects.none()
    return (
        Award.objects.filter(official_result=result)
        .select_related("agency", "decision")
        .order_by("position", "removed", "rank", "agency__code")
    )


def granted(competition):
    """The awards a recorded decision granted, for the public pages (none before the decision)."""
    return (
        Award.objects.filter(competition=competition, decision__isnull=False, removed=False)
        .select_related("agency", "decision")
        .order_by("position", "rank", "agency__code")
    )


def over_the_limit(competition, awards):
    """The awards proposed beyond their rule's limit because of a shared rank (still standing)."""
    limits = {position: rule.limit for position, rule in enumerate(competition.award_rules.all())}
    counts = {}
    for award in awards:
        if not award.removed:
            counts[award.position] = counts.get(award.position, 0) + 1
    return {
        award.pk
        for award in awards
        if not award.removed
        and award.origin == Award.Origin.PROPOSED
        and limits.get(award.position)
        and counts[award.position] > limits[award.position]
    }


def create_proposal(competition, result):
    """The awards the rules give on a newly published result (`judging.close_judging`)."""
    proposal = propose(list(competition.award_rules.all()), result.scoreboard(), competition.get_tiers())
    agencies = Agency.objects.in_bulk([agency.code for _position, _rule, agency, _over in proposal], field_name="code")
    Award.objects.bulk_create(
        Award(
            competition=competition,
            official_result=result,
            agency=agencies[agency.code],
            name=rule.name,
            position=position,
            rank=agency.rank,
            group_rank=agency.group_rank,
            tier=agency.tier,
            origin=Award.Origin.PROPOSED,
        )
        for position, rule, agency, _over in proposal
    )


def _undecided(competition):
    if CommendationDecision.objects.filter(competition=competition).exists():
        raise ValidationError(_("The decision is recorded: its awards can no longer change."))


@transaction.atomic
def take_off(award, user, reason):
    """Take an agency off the proposal, for a reason kept with the award and in the history."""
    competition = award.competition
    _may_manage(user, competition)
    _undecided(competition)
    reason = clean_reason(reason, _("Give the reason: it is kept with the award and in the history."))
    if award.removed:
        raise ValidationError(_("This award was taken off already."))
    award.removed, award.reason, award.changed_by = True, reason, user
    award.save()
    log(
        instance=competition,
        action="competition.award_remove",
        user=user,
        data={"agency": award.agency.code, "award": award.name, "reason": reason},
    )
    return award


@transaction.atomic
def add(competition, user, agency_code, name, reason):
    """Add an award for an agency of the published result that the rules did not propose (or put
    back one taken off), for a reason kept with the award and in the history."""
    _may_manage(user, competition)
    _undecided(competition)
    reason = clean_reason(reason, _("Give the reason: it is kept with the award and in the history."))
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Name the award.")})
    try:
        validate_visible_text(name)
    except ValidationError as error:
        raise ValidationError({"name": error}) from None
    result = current_result(competition)
    if result is None:
        raise ValidationError(_("Publish the results first: awards are proposed from the official result."))
    board = result.scoreboard()
    standing = board.agency((agency_code or "").strip())
    if standing is None:
        raise ValidationError({"agency": _("No agency with this code is on the published result.")})
    agency = Agency.objects.get(code=standing.code)
    award = Award.objects.filter(official_result=result, agency=agency).first()
    if award is not None and not award.removed:
        raise ValidationError({"agency": _("%(agency)s already has an award.") % {"agency": agency.name}})
    names = [rule.name for rule in competition.award_rules.all()]
    position = names.index(name) if name in names else len(names)
    if award is None:
        award = Award(competition=competition, official_result=result, agency=agency)
    award.name, award.position, award.removed = name, position, False
    award.rank, award.group_rank, award.tier = standing.rank, standing.group_rank, standing.tier
    award.origin, award.reason, award.changed_by = Award.Origin.ADDED, reason, user
    award.save()
    log(
        instance=competition,
        action="competition.award_add",
        user=user,
        data={"agency": agency.code, "award": name, "reason": reason},
    )
    return award


@transaction.atomic
def propose_again(competition, user):
    """Replace the proposal (and the managers' changes to it) with what the rules give now, for
    rules changed after the results were published."""
    _may_manage(user, competition)
    _undecided(competition)
    result = current_result(competition)
    if result is None:
        raise ValidationError(_("Publish the results first: awards are proposed from the official result."))
    Award.objects.filter(official_result=result).delete()
    create_proposal(competition, result)
    log(instance=competition, action="competition.award_propose", user=user, data={})


def decisions_collection(competition):
    """The collection of a competition's signed decisions, under a shared one."""
    root = Collection.get_first_root_node()
    decisions = root.get_children().filter(name=DECISIONS_COLLECTION).first()
    if decisions is None:
        decisions = root.add_child(name=DECISIONS_COLLECTION)
    name = competition.title[:255]
    collection = decisions.get_children().filter(name=name).first()
    if collection is None:
        collection = decisions.add_child(name=name)
    return collection


@transaction.atomic
def record_decision(competition, user, *, number, issued_on, issued_by, signed_by="", upload=None):
    """Record the decision granting the awards still standing: they become final, the decision
    and its signed document are published with them, and judging can no longer reopen."""
    _may_manage(user, competition)
    _undecided(competition)
    result = current_result(competition)
    if result is None:
        raise ValidationError(_("Publish the results first: awards are proposed from the official result."))
    errors = {}
    for field, value in (("number", number), ("issued_by", issued_by)):
        if not (value or "").strip():
            errors[field] = _("Required.")
    if issued_on is None:
        errors["issued_on"] = _("Required.")
    if upload is None:
        errors["document"] = _("Attach the signed decision (PDF).")
    else:
        try:
            check_upload(upload)
            if not upload.name.lower().endswith(".pdf"):
                raise ValidationError(_("The signed decision must be a PDF file."))
        except ValidationError as error:
            errors["document"] = error.messages[0]
    if errors:
        raise ValidationError(errors)
    awards = Award.objects.filter(official_result=result, removed=False)
    if not awards.exists():
        raise ValidationError(_("No award stands: add one before recording the decision."))
    document = get_document_model()(
        title=os.path.basename(upload.name), collection=decisions_collection(competition), uploaded_by_user=user
    )
    document.file = upload
    document.file_size = upload.size
    document._set_document_file_metadata()
    document.save()
    decision = CommendationDecision(
        competition=competition,
        official_result=result,
        number=number.strip(),
        issued_on=issued_on,
        issued_by=issued_by.strip(),
        signed_by=(signed_by or "").strip(),
        document=document,
        recorded_by=user,
    )
    decision.full_clean()
    decision.save()
    awards.update(decision=decision)
    log(
        instance=competition,
        action="competition.commendation_decision",
        user=user,
        data={"number": decision.number, "issued_on": issued_on.isoformat(), "awards": awards.count()},
    )
    return decision
