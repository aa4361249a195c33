"""Load the demo data (fixtures/ through competition_import), complete the competitions' texts,
and ensure the demo accounts; safe to run again. Used by `make demo`."""

from datetime import date
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from wagtail.models import Locale

from competition.domain import commendations, evidence, judging, panels
from competition.domain import registration as registrations
from competition.domain.pages import publish
from competition.domain.roles import EDITORS, MANAGERS, REVIEWERS, ensure_roles
from competition.enums import SubmissionStatus
from competition.imports import load_dataset, run_import
from competition.models import (
    Agency,
    AgencyMembership,
    AwardBasis,
    AwardRule,
    CommendationDecision,
    CommitmentLine,
    CompetitionPage,
    CompetitionPhase,
    CompetitionSignatory,
    Juror,
    Registration,
    ReviewPanel,
    Submission,
)

FIXTURES = Path(settings.BASE_DIR) / "fixtures"
HANOI = "hanoi-2025-digital-transformation"
HCMC = "hcmc-2025-digital-government"
DECISION_TEXT = [
    "ILLUSTRATIVE DOCUMENT - demo data, not a real decision",
    "Decision No. 01/QD-TDKT on commendations of the",
    "Hanoi digital transformation competition agreement 2025",
    "(signature and stamp)",
]


def illustrative_pdf(lines):
    """A one-page PDF showing `lines` (ASCII text): the demo's stand-in for a signed scan."""
    text = " ".join(
        f"BT /F1 14 Tf 72 {760 - 28 * number} Td ({line}) Tj ET" for number, line in enumerate(lines)
    ).encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(text)).encode() + b" >>\nstream\n" + text + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    body, offsets = b"%PDF-1.4\n", []
    for number, content in enumerate(objects, 1):
        offsets.append(len(body))
        body += f"{number} 0 obj\n".encode() + content + b"\nendobj\n"
    xref = len(body)
    body += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    body += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    body += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return body


FOLDERS = ["hanoi", "hcmc"]
ORDER = ["agencies", "competitions", "targets", "commitments", "jurors", "values", "scores", "adjustments"]

# user name, password, role, agency codes edited (for editors)
ACCOUNTS = [
    ("admin", "demo-admin-2025", None, ()),
    ("manager", "demo-manager-2025", MANAGERS, ()),
    ("editor.dost", "demo-editor-2025", EDITORS, ("HCMC-DOST",)),
    ("editor.saigon", "demo-editor-2025", EDITORS, ("26734",)),
    ("juror.nguyen", "demo-juror-2025", REVIEWERS, ()),
    ("juror.tran", "demo-juror-2025", REVIEWERS, ()),
]

TEXTS = {
    "hanoi-2025-digital-transformation": {
        "organiser": "Hanoi City Party Committee",
        "signed_on": date(2025, 3, 3),
        "intro": (
            "<p>On 3 March 2025 four agencies of Hanoi signed a competition agreement on digital "
            "transformation, committing to the targets of Resolution 57-NQ/TW by the end of 2025.</p>"
        ),
        "phases": [("Whole period", date(2025, 12, 31))],
        "schedule": "quarterly",
    },
    "hcmc-2025-digital-government": {
        "organiser": "Ho Chi Minh City People's Committee",
        "signed_on": date(2025, 1, 1),
        "intro": (
            "<p>The city's 16 departments and its wards, communes and special zone compete to bring "
            "administrative procedures and public services fully online in 2025.</p>"
        ),
        "phases": [("Urgent phase", date(2025, 6, 30)), ("Breakthrough phase", date(2025, 12, 31))],
        "schedule": "quarterly",
    },
}


class Command(BaseCommand):
    help = "Load the demo data and ensure the demo accounts (idempotent)."

    def handle(self, *args, **options):
        ensure_roles()
        for folder in FOLDERS:
            for kind in ORDER:
                path = FIXTURES / folder / f"{kind}.csv"
                report = run_import(kind, load_dataset(path.read_bytes(), "csv"))
                if not report.ok:
                    raise CommandError(f"{path}:\n" + "\n".join(report.errors))
                self.stdout.write(
                    f"{folder}/{kind}: {report.created} created, {report.updated} updated, {report.unchanged} unchanged"
                )
        self.complete_texts()
        self.ensure_accounts()
        self.ensure_pending_evidence()
        self.ensure_registrations()
        self.ensure_panels()
        self.ensure_results()
        self.ensure_languages()

    @transaction.atomic
    def complete_texts(self):
        for slug, text in TEXTS.items():
            page = CompetitionPage.objects.filter(slug=slug).first()
            if page is None or page.organiser:
                continue  # filled in already (or by an editor): leave it alone
            page.organiser = text["organiser"]
            page.signed_on = text["signed_on"]
            page.intro = text["intro"]
            page.reporting_schedule = text["schedule"]
            page.phases = [CompetitionPhase(name=name, end_date=end) for name, end in text["phases"]]
            signatories = Agency.objects.filter(commitments__competition=page).order_by("code")[:20]
            page.signatories = [CompetitionSignatory(agency=agency) for agency in signatories]
            publish(page)

    @transaction.atomic
    def ensure_accounts(self):
        User = get_user_model()
        self.stdout.write("\nDemo accounts (user name / password):")
        for username, password, role, agencies in ACCOUNTS:
            user, _created = User.objects.get_or_create(
                username=username, defaults={"email": f"{username}@example.org"}
            )
            user.set_password(password)
            user.is_active = True
            if role is None:
                user.is_staff = user.is_superuser = True
            user.save()
            if role:
                user.groups.add(Group.objects.get(name=role))
            for code in agencies:
                agency = Agency.objects.filter(code=code).first()
                if agency:
                    AgencyMembership.objects.get_or_create(user=user, agency=agency)
            label = role or "superuser"
            if agencies:
                label += " of " + ", ".join(agencies)
            self.stdout.write(f"  {username} / {password}  ({label})")

    @transaction.atomic
    def ensure_pending_evidence(self):
        """Evidence in every state of the loop, for the demo accounts to work on."""
        User = get_user_model()
        manager = User.objects.get(username="manager")
        plans = [
            ("HCMC-DOST", "T2", "editor.dost", "86", "draft", ""),
            ("HCMC-DOST", "T5", "editor.dost", "74", "returned", "Attach the payment platform's monthly report."),
            ("26734", "T1", "editor.saigon", "93", "submitted", ""),
            ("26734", "T6", "editor.saigon", "91.5", "submitted", ""),
        ]
        for agency, target, editor_name, value, state, note in plans:
            line = CommitmentLine.objects.filter(
                commitment__competition__slug="hcmc-2025-digital-government",
                commitment__agency__code=agency,
                target__code=target,
            ).first()
            if line is None or line.submissions.exclude(status=SubmissionStatus.ACCEPTED).exists():
                continue
            editor = User.objects.get(username=editor_name)
            submission = Submission.objects.create(
                line=line,
                reported_on=date(2025, 12, 31),
                value=Decimal(value),
                narrative="Year-end figure from the city's task management system.",
                created_by=editor,
            )
            submission.save_revision(user=editor, log_action=True)
            if state != "draft":
                evidence.submit(submission, editor)
            if state == "returned":
                evidence.decide(submission, manager, "return", note)

    @transaction.atomic
    def ensure_registrations(self):
        """HCMC takes registrations (docs/registration.md) and has one in every state: editor.dost's
        a draft and editor.saigon's returned (for the demo accounts to finish), one submitted for
        the manager to decide, one approved; the other agencies have not started (overdue). The
        pledges are illustrative."""
        page = CompetitionPage.objects.filter(slug=HCMC).first()
        if page is None or Registration.objects.filter(competition=page).exists():
            return
        if page.registration_opens is None:
            page.registration_opens, page.registration_due = date(2024, 12, 1), date(2024, 12, 31)
            publish(page)
        User = get_user_model()
        manager, admin = User.objects.get(username="manager"), User.objects.get(username="admin")
        plans = [
            ("HCMC-DNV", admin, "approved", "Every internal procedure of the department online (illustrative)."),
            (
                "HCMC-DOST",
                User.objects.get(username="editor.dost"),
                "draft",
                "Open the city's data platform to every department by the third quarter (illustrative).",
            ),
            (
                "26734",
                User.objects.get(username="editor.saigon"),
                "returned",
                "A digital one-stop shop in every residential quarter of the ward (illustrative).",
            ),
        ]
        others = Agency.objects.filter(registrations__isnull=True, commitments__competition=page).exclude(
            code__in=[code for code, *_rest in plans]
        )
        submitted = others.order_by("code").first()
        if submitted is not None:
            plans.append((submitted.code, admin, "submitted", "Train every official in digital skills (illustrative)."))
        for code, user, state, pledge in plans:
            agency = Agency.objects.filter(code=code).first()
            if agency is None:
                continue
            data = registrations.current_data(page, agency)
            data.pledge = pledge
            registration = registrations.save(page, agency, user, data, submit_after=state != "draft")
            if state == "approved":
                registrations.decide(registration, manager, "approve")
            elif state == "returned":
                registrations.decide(
                    registration, manager, "return", "Say which quarters are covered first, and by when."
                )
        self.stdout.write("\nhcmc: registrations approved, submitted, returned, a draft, and not started")

    @transaction.atomic
    @transaction.atomic
    def ensure_panels(self):
        """HCMC's jury in two review panels, the departments and the wards and communes (as the
        city's emulation clusters), and one conflict of interest a reviewer declared. Scores the
        fixtures hold from reviewers off a line's panel are kept but no longer count."""
        page = CompetitionPage.objects.filter(slug=HCMC).first()
        if page is None or page.review_panels.exists():
            return
        jurors = {juror.user.username: juror for juror in Juror.objects.filter(competition=page).select_related("user")}
        plans = [
            ("Departments", "HCMC-DEPT", ["juror.nguyen", "juror.le"]),
            ("Wards and communes", "HCMC-WARD", ["juror.nguyen", "juror.tran", "juror.pham"]),
        ]
        for name, cluster, members in plans:
            panel = ReviewPanel(competition=page, name=name)
            panel.save()
            panel.clusters.set(Agency.objects.filter(code=cluster))
            panel.members.set([jurors[username] for username in members if username in jurors])
            panel.save()
        panels.recount(page)
        seat, agency = jurors.get("juror.pham"), Agency.objects.filter(code="26737").first()
        if seat is not None and agency is not None and not seat.has_conflict_with(agency.pk):
            panels.declare_conflict(seat, agency, "Worked in this ward's People's Committee until 2024.", seat.user)

    def ensure_results(self):
        """Hanoi's competition ends as a competition ends: award rules, judging closed (its official
        results published), awards reviewed and a decision recorded with its signed document. The
        decision's number, date and document are invented for illustration. HCMC's judging stays
        open, so that both states can be seen."""
        page = CompetitionPage.objects.filter(slug=HANOI).first()
        if page is None or CommendationDecision.objects.filter(competition=page).exists():
            return
        manager = get_user_model().objects.get(username="manager")
        if not page.award_rules.exists():
            page.award_rules = [
                AwardRule(name="Cờ thi đua", basis=AwardBasis.RANK, rank=1),
                AwardRule(name="Bằng khen", basis=AwardBasis.RANK, rank=2),
                AwardRule(name="Giấy khen", basis=AwardBasis.TIER, tier="Fair", limit=1),
            ]
            publish(page, user=manager)
        if not page.closed:
            judging.close_judging(page, manager)
        upload = SimpleUploadedFile("decision-illustrative.pdf", illustrative_pdf(DECISION_TEXT), "application/pdf")
        decision = commendations.record_decision(
            page,
            manager,
            number="01/QĐ-TĐKT (illustrative)",
            issued_on=date(2026, 1, 20),
            issued_by="Hanoi City Party Committee (illustrative)",
            signed_by="Standing Deputy Secretary (illustrative)",
            upload=upload,
        )
        self.stdout.write(f"\nhanoi: judging closed, results published, decision {decision.number} recorded")

    def ensure_languages(self):
        """Both languages as Wagtail locales (listed in the admin under Settings > Locales)."""
        for code, _name in settings.WAGTAIL_CONTENT_LANGUAGES:
            Locale.objects.get_or_create(language_code=code)
        names = ", ".join(name for _code, name in settings.LANGUAGES)
        self.stdout.write(
            f"\nLanguages: {names}. Readers switch with the form at the top of each page; admin users pick"
            " theirs under Account > Preferences > Language."
        )
