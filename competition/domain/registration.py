"""Registration (đăng ký thi đua): who registers where, the state of each agency's registration,
and the actions on it. Each action checks the actor's permission and the registration's state
under a row lock, saves a revision, writes an entry to Wagtail's audit log and, for a decision,
e-mails the agency's editors in their own language. Approval creates or updates the agency's
published commitment page and its lines as a new page revision (competition.domain.pages).

Who takes part: the competition's signatories and the agencies with a commitment page in it (and
those with a registration already). A registration of any other agency does not exist for anyone
(a 404), as another agency's data never does."""

from dataclasses import dataclass
from datetime import timedelta

import tablib
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from wagtail.log_actions import log

from .. import permissions
from ..models import (
    Agency,
    AgencyMembership,
    CommitmentLine,
    CommitmentPage,
    CompetitionPage,
    CompetitionSignatory,
    Registration,
    RegistrationLine,
    RegistrationStatus,
    Submission,
    TargetPage,
)
from ..models.registration import NOT_STARTED
from ..validators import validate_judging_open, validate_no_nul, validate_visible_text
from .languages import mail_in_each_language, short_date
from .pages import create_and_publish, new_commitment_page, publish
from .pledges import normalise, to_plain_text, to_rich_text
from .transitions import record_transition

SUBMIT = "competition.registration_submit"
APPROVE = "competition.registration_approve"
RETURN = "competition.registration_return"
CHANGE = "competition.registration_change"
MAX_REASON = 1000
# The states of the managers' overview, in the order it lists them (after the overdue ones).
STATES = (
    NOT_STARTED,
    RegistrationStatus.RETURNED,
    RegistrationStatus.DRAFT,
    RegistrationStatus.SUBMITTED,
    RegistrationStatus.APPROVED,
)


def state_label(state):
    return _("Not started") if state == NOT_STARTED else RegistrationStatus(state).label


# --- Who registers where, and when ---------------------------------------------------------------


def participant_filter(competition_id):
    """A Q on agencies: those expected to register in the competition."""
    return (
        Q(pk__in=CompetitionSignatory.objects.filter(page_id=competition_id).values("agency_id"))
        | Q(pk__in=CommitmentPage.objects.filter(competition_id=competition_id).values("agency_id"))
        | Q(pk__in=Registration.objects.filter(competition_id=competition_id).values("agency_id"))
    )


def takes_part(competition_id, agency_id):
    return Agency.objects.filter(participant_filter(competition_id), pk=agency_id).exists()


def window(competition, today=None):
    """Whether the competition takes registrations now: "closed" (its results are published),
    "none" (it takes no registrations), "not_yet" (before it opens) or "open" (late ones too)."""
    today = today or timezone.localdate()
    if competition.closed:
        return "closed"
    if competition.registration_opens is None:
        return "none"
    if today < competition.registration_opens:
        return "not_yet"
    return "open"


def is_overdue(competition, state, today=None):
    """Due and still with the agency: not started, a draft or returned after the due day."""
    today = today or timezone.localdate()
    due = competition.registration_due
    return (
        due is not None
        and due < today
        and not competition.closed
        and state in (NOT_STARTED, RegistrationStatus.DRAFT, RegistrationStatus.RETURNED)
    )


def manages(user, competition_id):
    return permissions._active(user) and (user.is_superuser or permissions.manages(user, competition_id))


def can_view(user, competition_id, agency_id):
    """The agency's editors and the competition's managers (and superusers)."""
    return permissions._active(user) and (permissions.edits_for(user, agency_id) or manages(user, competition_id))


def can_edit(user, competition, agency_id, registration=None, today=None):
    """The agency's editors, while the registration is not started, a draft or returned, and the
    competition takes registrations."""
    state = registration.status if registration is not None else NOT_STARTED
    return (
        permissions._active(user)
        and permissions.edits_for(user, agency_id)
        and state in (NOT_STARTED, RegistrationStatus.DRAFT, RegistrationStatus.RETURNED)
        and window(competition, today) == "open"
    )


def can_decide(user, registration):
    return (
        registration is not None
        and registration.status == RegistrationStatus.SUBMITTED
        and manages(user, registration.competition_id)
        and not registration.competition.closed
    )


def can_change_approved(user, registration):
    return (
        registration is not None
        and registration.status == RegistrationStatus.APPROVED
        and manages(user, registration.competition_id)
        and not registration.competition.closed
    )


# --- What a registration holds -------------------------------------------------------------------


def targets_of(competition):
    """The competition's live targets, by code."""
    return list(TargetPage.objects.live().filter(competition=competition).order_by("code"))


def reported_target_ids(competition, agency_id):
    """Targets the agency has reported values for: they stay committed."""
    return set(
        Submission.objects.filter(
            line__commitment__competition=competition, line__commitment__agency_id=agency_id
        ).values_list("line__target_id", flat=True)
    )


@dataclass
class LineData:
    target: TargetPage
    baseline: object = None
    target_value: object = None
    justification: str = ""

    @property
    def has_own_values(self):
        return self.baseline is not None or self.target_value is not None


@dataclass
class RegistrationData:
    """What an editor (or a manager changing an approved registration) enters: the pledge and,
    by target id, the targets committed to."""

    pledge: str
    lines: dict

    def snapshot(self):
        return (
            normalise(self.pledge),
            sorted(
                (target_id, line.baseline, line.target_value, line.justification.strip())
                for target_id, line in self.lines.items()
            ),
        )


def current_data(competition, agency, registration=None):
    """The registration's content, or for one not started the agency's current commitment (its
    lines and pledge) with the required targets added."""
    targets = {target.pk: target for target in targets_of(competition)}
    lines = {}
    if registration is not None:
        for line in registration.lines.all():
            if line.target_id in targets:
                lines[line.target_id] = LineData(
                    targets[line.target_id], line.baseline, line.target_value, line.justification
                )
        return RegistrationData(registration.pledge, lines)
    page = CommitmentPage.objects.filter(competition=competition, agency=agency).first()
    pledge = ""
    if page is not None:
        pledge = to_plain_text(page.pledge)
        for line in page.lines.all():
            if line.target_id in targets:
                lines[line.target_id] = LineData(targets[line.target_id], line.baseline, line.target_value)
    for target in targets.values():
        if target.required and target.pk not in lines:
            lines[target.pk] = LineData(target)
    return RegistrationData(pledge, lines)


def locked_target_ids(competition, agency_id, targets):
    """Targets the registration keeps whatever the form says: required ones and reported ones."""
    return {target.pk for target in targets if target.required} | reported_target_ids(competition, agency_id)


def check(competition, agency_id, data, *, submitting=False):
    """Refuse what no registration may hold (raise ValidationError)."""
    validate_judging_open(competition)
    validate_no_nul(data.pledge)
    validate_visible_text(data.pledge, multiline=True)
    targets = targets_of(competition)
    locked = locked_target_ids(competition, agency_id, targets)
    missing = [target.code for target in targets if target.pk in locked and target.pk not in data.lines]
    if missing:
        raise ValidationError(
            _("These targets cannot be taken out (required, or values reported): %(codes)s.")
            % {"codes": ", ".join(missing)}
        )
    for line in data.lines.values():
        if line.target.competition_id != competition.pk:
            raise ValidationError(_("This target belongs to another competition."))
        candidate = RegistrationLine(
            target=line.target,
            baseline=line.baseline,
            target_value=line.target_value,
            justification=line.justification,
        )
        candidate.registration = Registration(competition=competition)
        try:
            candidate.full_clean(exclude=["registration"], validate_unique=False, validate_constraints=False)
        except ValidationError as error:
            raise ValidationError([f"{line.target.code}: {message}" for message in error.messages]) from None
    if submitting and not data.lines:
        raise ValidationError(_("Commit to at least one target before submitting."))


def _write(registration, data):
    """Store `data` as the registration's content (in memory, for a revision and the save)."""
    registration.pledge = normalise(data.pledge)
    existing = {line.target_id: line for line in registration.lines.all()} if registration.pk else {}
    lines = []
    for target_id, entry in sorted(data.lines.items(), key=lambda item: item[1].target.code):
        line = existing.get(target_id) or RegistrationLine(target=entry.target)
        line.baseline, line.target_value = entry.baseline, entry.target_value
        line.justification = entry.justification.strip()
        lines.append(line)
    registration.lines = lines


def _locked(competition, agency):
    return (
        Registration.objects.select_for_update(of=("self",))
        .select_related("competition", "agency")
        .filter(competition=competition, agency=agency)
        .first()
    )


# --- Actions -------------------------------------------------------------------------------------


class StaleForm(Exception):
    """The registration was saved by someone else after the form was opened."""


@transaction.atomic
def save(competition, agency, user, data, *, loaded_revision=None, submit_after=False):
    """An editor saves the registration (creating it), and with `submit_after` submits it. When
    `loaded_revision` (the revision the form was opened from, "" for none) is not the latest,
    nothing is saved (StaleForm): the editor compares and saves again to overwrite."""
    registration = _locked(competition, agency)
    if not can_edit(user, competition, agency.pk, registration):
        raise PermissionDenied
    if loaded_revision is not None:
        latest = "" if registration is None else str(registration.latest_revision_id or "")
        if str(loaded_revision) != latest:
            raise StaleForm
    check(competition, agency.pk, data, submitting=submit_after)
    created = registration is None
    if created:
        registration = Registration(competition=competition, agency=agency, created_by=user)
    _write(registration, data)
    try:
        with transaction.atomic():
            registration.save()
    except IntegrityError:  # created by someone else a moment ago: the form is stale
        raise StaleForm from None
    revision = registration.save_revision(user=user, clean=False)
    log(instance=registration, action="wagtail.create" if created else "wagtail.edit", user=user, revision=revision)
    if submit_after:
        _transition(registration, user, RegistrationStatus.SUBMITTED)
    return registration


def _transition(registration, user, status, note="", **data):
    action = {RegistrationStatus.SUBMITTED: SUBMIT, RegistrationStatus.APPROVED: APPROVE}.get(status, RETURN)
    return record_transition(
        registration, user, status, submitted=RegistrationStatus.SUBMITTED, action=action, note=note, **data
    )


@transaction.atomic
def submit(registration, user):
    """An editor hands a draft (or a returned registration) to the managers."""
    registration = _locked(registration.competition, registration.agency)
    competition = registration.competition
    validate_judging_open(competition)
    if not can_edit(user, competition, registration.agency_id, registration):
        raise PermissionDenied
    check(
        competition,
        registration.agency_id,
        current_data(competition, registration.agency, registration),
        submitting=True,
    )
    _transition(registration, user, RegistrationStatus.SUBMITTED)
    return registration


@transaction.atomic
def decide(registration, user, decision, note=""):
    """A manager approves a submitted registration (its commitment page is created or updated and
    published) or returns it with a reason the agency reads (and receives by e-mail)."""
    registration = _locked(registration.competition, registration.agency)
    if registration is None:
        raise PermissionDenied
    if decision not in ("approve", "return"):
        raise ValidationError(_("Unknown decision."))
    validate_judging_open(registration.competition)
    if not can_decide(user, registration):
        if manages(user, registration.competition_id):
            raise ValidationError(
                _("This registration is %(state)s: only a submitted registration can be approved or returned.")
                % {"state": state_label(registration.status).lower()}
            )
        raise PermissionDenied
    note = (note or "").strip()
    validate_no_nul(note)
    validate_visible_text(note, multiline=True)
    if len(note) > MAX_REASON:
        raise ValidationError(_("The reason is too long: at most %(max)s characters.") % {"max": MAX_REASON})
    if decision == "return":
        if not note:
            raise ValidationError(_("Give the reason, so that the agency knows what to do."))
        _transition(registration, user, RegistrationStatus.RETURNED, note)
    else:
        data = current_data(registration.competition, registration.agency, registration)
        check(registration.competition, registration.agency_id, data, submitting=True)
        page, page_revision = publish_commitment(registration, user)
        _transition(
            registration,
            user,
            RegistrationStatus.APPROVED,
            commitment_page=page.pk,
            page_revision=page_revision.pk,
        )
    transaction.on_commit(lambda: notify_decision(registration))
    return registration


@transaction.atomic
def change_approved(registration, user, data, *, loaded_revision=None):
    """A manager changes an approved registration: a new revision of it, with an audit entry
    listing what changed, and a new published revision of the commitment page."""
    registration = _locked(registration.competition, registration.agency)
    if not can_change_approved(user, registration):
        raise PermissionDenied
    if loaded_revision is not None and str(loaded_revision) != str(registration.latest_revision_id or ""):
        raise StaleForm
    competition = registration.competition
    check(competition, registration.agency_id, data, submitting=True)
    before = current_data(competition, registration.agency, registration)
    changes = describe_changes(before, data)
    if not changes:
        return registration, []
    _write(registration, data)
    registration.save()
    revision = registration.save_revision(user=user, clean=False)
    page, page_revision = publish_commitment(registration, user)
    log(
        instance=registration,
        action=CHANGE,
        user=user,
        revision=revision,
        data={"changes": changes, "commitment_page": page.pk, "page_revision": page_revision.pk},
    )
    return registration, changes


def describe_changes(before, after):
    """What differs between two registrations' contents, as short lines for the audit log."""
    changes = []
    if normalise(before.pledge) != normalise(after.pledge):
        changes.append("pledge")
    codes = {}
    for side, data in (("before", before), ("after", after)):
        for line in data.lines.values():
            codes.setdefault(line.target.code, {})[side] = line
    for code, sides in sorted(codes.items()):
        old, new = sides.get("before"), sides.get("after")
        if old is None:
            changes.append(f"{code}: added")
        elif new is None:
            changes.append(f"{code}: taken out")
        else:
            for field in ("baseline", "target_value", "justification"):
                was, now = getattr(old, field), getattr(new, field)
                if field == "justification":
                    was, now = was.strip(), now.strip()
                if was != now:
                    changes.append(f"{code} {field}: {_plain(was)} → {_plain(now)}")
    return changes


def _plain(value):
    if value is None:
        return "—"
    if isinstance(value, str):
        return value or "—"
    return format(value.normalize(), "f")


def publish_commitment(registration, user):
    """Create or update the agency's commitment page from the registration and publish it (a new
    revision, in the page's history and the audit log). Lines with reported values keep their
    identity; lines of targets the registration no longer holds are taken out."""
    competition, agency = registration.competition, registration.agency
    wanted = sorted(registration.lines.select_related("target"), key=lambda line: line.target.code)
    page = CommitmentPage.objects.filter(competition=competition, agency=agency).first()
    if page is None:
        page = new_commitment_page(competition, agency, registration.pledge)
        page.lines = [
            CommitmentLine(target=line.target, baseline=line.baseline, target_value=line.target_value, sort_order=i)
            for i, line in enumerate(wanted)
        ]
        revision = create_and_publish(competition, page, user=user)
        return page, revision
    existing = {line.target_id: line for line in page.lines.all()}
    reported = reported_target_ids(competition, agency.pk)
    kept = {line.target_id for line in wanted}
    dropped = [line.target.code for pk, line in existing.items() if pk in reported and pk not in kept]
    if dropped:
        raise ValidationError(
            _("These targets cannot be taken out (required, or values reported): %(codes)s.")
            % {"codes": ", ".join(sorted(dropped))}
        )
    lines = []
    for i, entry in enumerate(wanted):
        line = existing.get(entry.target_id) or CommitmentLine(target=entry.target)
        line.baseline, line.target_value, line.sort_order = entry.baseline, entry.target_value, i
        lines.append(line)
    page.lines = lines
    if normalise(to_plain_text(page.pledge)) != normalise(registration.pledge):
        page.pledge = to_rich_text(registration.pledge)
    revision = publish(page, user=user)
    return page, revision


# --- E-mail --------------------------------------------------------------------------------------


def editors_of(agency_id):
    return [
        membership.user
        for membership in AgencyMembership.objects.filter(agency_id=agency_id, user__is_active=True).select_related(
            "user__wagtail_userprofile"
        )
    ]


def notify_decision(registration):
    """E-mail the agency's editors that their registration was approved or returned, each in their
    admin language (one e-mail per language)."""
    return mail_in_each_language(editors_of(registration.agency_id), lambda: decision_message(registration))


def decision_message(registration):
    status = RegistrationStatus(registration.status).label
    subject = _("[%(competition)s] Registration of %(agency)s: %(status)s") % {
        "competition": registration.competition.title,
        "agency": registration.agency.name,
        "status": status,
    }
    if registration.status == RegistrationStatus.APPROVED:
        body = _(
            "The registration of %(agency)s in %(competition)s was approved: its commitments are published on "
            "its commitment page."
        )
    else:
        body = _(
            "The registration of %(agency)s in %(competition)s was returned to you. Change it in the admin "
            "(Registrations) and submit it again."
        )
    body = body % {"agency": registration.agency.name, "competition": registration.competition.title}
    if registration.decision_note:
        body += "\n\n" + _("Reason: %(note)s") % {"note": registration.decision_note}
    return subject, body


# --- Lists: the managers' overview, the editors' list, reminders, the export ----------------------


@dataclass
class Row:
    competition: CompetitionPage
    agency: Agency
    registration: Registration | None
    state: str
    overdue: bool
    committed: bool = False

    @property
    def state_label(self):
        return state_label(self.state)


def overview(competition, today=None):
    """Every agency expected to register, with its registration's state: overdue ones first,
    then by state (not started, returned, draft, submitted, approved), then by code. A constant
    number of queries whatever the number of agencies."""
    today = today or timezone.localdate()
    registrations = {
        registration.agency_id: registration
        for registration in Registration.objects.filter(competition=competition).select_related(
            "submitted_by", "decided_by"
        )
    }
    committed = set(
        CommitmentPage.objects.filter(competition=competition, live=True).values_list("agency_id", flat=True)
    )
    rows = []
    for agency in Agency.objects.filter(participant_filter(competition.pk)).order_by("code"):
        registration = registrations.get(agency.pk)
        state = registration.status if registration else NOT_STARTED
        rows.append(
            Row(competition, agency, registration, state, is_overdue(competition, state, today), agency.pk in committed)
        )
    order = {state: i for i, state in enumerate(STATES)}
    rows.sort(key=lambda row: (not row.overdue, order[row.state], row.agency.code))
    return rows


def counts(rows):
    found = dict.fromkeys(STATES, 0)
    for row in rows:
        found[row.state] += 1
    return [(state, state_label(state), found[state]) for state in STATES]


def competitions_taking_registrations(competition_ids=None):
    """Competitions with a registration period, newest first (limited to `competition_ids`)."""
    queryset = CompetitionPage.objects.filter(registration_opens__isnull=False)
    if competition_ids is not None:
        queryset = queryset.filter(pk__in=competition_ids)
    return queryset.order_by("-registration_opens", "title")


def rows_for_agencies(agency_ids, today=None):
    """The registrations of the agencies (their editors' list): one row per competition taking
    registrations that each agency takes part in. A constant number of queries."""
    today = today or timezone.localdate()
    competitions = list(competitions_taking_registrations())
    if not competitions or not agency_ids:
        return []
    ids = [competition.pk for competition in competitions]
    pairs = set()
    for model, field in (
        (CompetitionSignatory, "page_id"),
        (CommitmentPage, "competition_id"),
        (Registration, "competition_id"),
    ):
        pairs |= set(
            model.objects.filter(**{f"{field}__in": ids, "agency_id__in": agency_ids}).values_list(field, "agency_id")
        )
    registrations = {
        (registration.competition_id, registration.agency_id): registration
        for registration in Registration.objects.filter(competition_id__in=ids, agency_id__in=agency_ids)
    }
    agencies = {agency.pk: agency for agency in Agency.objects.filter(pk__in=agency_ids)}
    rows = []
    for competition in competitions:
        for agency_id in sorted(agency_id for competition_id, agency_id in pairs if competition_id == competition.pk):
            registration = registrations.get((competition.pk, agency_id))
            state = registration.status if registration else NOT_STARTED
            rows.append(
                Row(competition, agencies[agency_id], registration, state, is_overdue(competition, state, today))
            )
    return rows


def needs_attention(row, today=None, within_days=14):
    """A registration the agency should act on: returned, or not submitted while the competition
    takes registrations and it is overdue or due within `within_days`."""
    today = today or timezone.localdate()
    if row.state == RegistrationStatus.RETURNED and not row.competition.closed:
        return True
    if row.state not in (NOT_STARTED, RegistrationStatus.DRAFT) or window(row.competition, today) != "open":
        return False
    due = row.competition.registration_due
    return due is not None and due <= today + timedelta(days=within_days)


def reminder_lines(agency_ids, today, within_days):
    """Lines of the reminder e-mail (competition_remind) about registrations due or returned."""
    lines = []
    for row in rows_for_agencies(agency_ids, today):
        if not needs_attention(row, today, within_days):
            continue
        name = f"- {row.agency.name} · {row.competition.title}: "
        if row.state == RegistrationStatus.RETURNED:
            lines.append(name + _("registration returned to you: %(note)s") % {"note": row.registration.decision_note})
        elif row.overdue:
            lines.append(
                name + _("registration overdue since %(day)s") % {"day": short_date(row.competition.registration_due)}
            )
        else:
            day = short_date(row.competition.registration_due)
            lines.append(name + _("registration due by %(day)s") % {"day": day})
    return lines


EXPORT_HEADERS = (
    "competition",
    "agency",
    "agency_name",
    "status",
    "overdue",
    "submitted_at",
    "decided_at",
    "decided_by",
    "reason",
    "pledge",
    "target",
    "required",
    "baseline",
    "target_value",
    "justification",
)


def export(competition, today=None):
    """The managers' export: one row per registered target (one row for a registration without
    targets or an agency not started), states in the words of EXPORT_HEADERS' `status`."""
    rows = overview(competition, today)
    by_registration = {}
    for line in RegistrationLine.objects.filter(registration__competition=competition).select_related("target"):
        by_registration.setdefault(line.registration_id, []).append(line)
    dataset = tablib.Dataset(headers=list(EXPORT_HEADERS), title="registrations")
    for row in sorted(rows, key=lambda row: row.agency.code):
        registration = row.registration
        common = [
            competition.slug,
            row.agency.code,
            row.agency.name,
            row.state,
            "yes" if row.overdue else "no",
            _stamp(registration.submitted_at) if registration else "",
            _stamp(registration.decided_at) if registration else "",
            registration.decided_by.get_username() if registration and registration.decided_by else "",
            registration.decision_note if registration else "",
            registration.pledge if registration else "",
        ]
        lines = sorted(
            by_registration.get(registration.pk, []) if registration else [], key=lambda line: line.target.code
        )
        if not lines:
            dataset.append([*common, "", "", "", "", ""])
        for line in lines:
            dataset.append(
                [
                    *common,
                    line.target.code,
                    "yes" if line.target.required else "no",
                    _number(line.baseline),
                    _number(line.target_value),
                    line.justification,
                ]
            )
    return dataset


def _stamp(moment):
    return timezone.localtime(moment).isoformat(timespec="seconds") if moment else ""


def _number(value):
    return "" if value is None else format(value.normalize(), "f")
