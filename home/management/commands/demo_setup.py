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
from django.utils.html import escape
from wagtail.models import Locale
from wagtail.rich_text import RichText

from competition.collation import vietnamese_key
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
    CommitmentPage,
    CompetitionPage,
    CompetitionPhase,
    CompetitionSignatory,
    Juror,
    Registration,
    ReviewPanel,
    Submission,
    TargetPage,
)

FIXTURES = Path(settings.BASE_DIR) / "fixtures"
HANOI = "hanoi-2025-digital-transformation"
HCMC = "hcmc-2025-digital-government"
SAIGON = "26740"  # Sài Gòn Ward's code in the 2025 list of administrative units
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
    ("editor.saigon", "demo-editor-2025", EDITORS, (SAIGON,)),
    ("juror.nguyen", "demo-juror-2025", REVIEWERS, ()),
    ("juror.tran", "demo-juror-2025", REVIEWERS, ()),
]

# Each demo account's given and family names (invented for illustration): Wagtail shows them in
# the admin, its history and its e-mails.
NAMES = {
    "admin": ("Minh", "Phạm"),
    "manager": ("Hoa", "Lê Thị"),
    "editor.dost": ("Tuấn", "Võ Anh"),
    "editor.saigon": ("Thảo", "Đặng Phương"),
    "juror.nguyen": ("An", "Nguyễn Văn"),
    "juror.tran": ("Bình", "Trần Thanh"),
}

KINHTEDOTHI = "Kinhtedothi, 3 March 2025"
PLAN_02 = "Ho Chi Minh City Press Centre, 23 June 2025"


def bilingual(vietnamese, english):
    """Rich text of two paragraphs, Vietnamese then English, each marked with its language."""
    return f'<p lang="vi">{escape(vietnamese)}</p><p lang="en">{escape(english)}</p>'


# What the demo's competitions say, with the facts of the press reports they come from cited in
# the text (fixtures/README.md lists them); what is invented is said to be. The Vietnamese texts
# render the reports' content: they are not the original documents' wording.
TEXTS = {
    HANOI: {
        "organiser": "Hanoi City Party Committee",
        "signed_on": date(2025, 3, 3),
        "intro": bilingual(
            "Sáng 3/3/2025, tại hội nghị do Thành ủy Hà Nội tổ chức, bốn cơ quan của Thành phố ký giao ước "
            "thi đua về chuyển đổi số, thời gian thi đua từ ngày 3/3 đến ngày 31/12/2025 (Kinhtedothi, "
            "3/3/2025). Dữ liệu minh họa: các cơ quan, thời gian, cam kết và giá trị mục tiêu theo bài báo; "
            "giá trị ban đầu, mốc, trọng số, số liệu báo cáo, điểm của hội đồng và điểm thưởng, trừ là giả "
            "định.",
            "On 3 March 2025, at a conference of the Hanoi City Party Committee, four agencies of the city "
            f"signed a competition agreement on digital transformation, running from 3 March to 31 December "
            f"2025 ({KINHTEDOTHI}). Demo data: the agencies, the period, the pledges and the goal values "
            "follow that report; baselines, milestones, weights, reported values, the jury's points and "
            "the adjustments are invented for illustration.",
        ),
        "body": [
            ("heading", "Mục tiêu của Nghị quyết 57-NQ/TW đến năm 2030 · Goals of Resolution 57-NQ/TW for 2030"),
            (
                "paragraph",
                bilingual(
                    "Giao ước nhằm tạo nền tảng để Hà Nội đạt các mục tiêu đến năm 2030: 100% người dùng dịch vụ "
                    "công trực tuyến; 100% giao dịch không dùng tiền mặt trong dịch vụ công trực tuyến; 100% thủ "
                    "tục hành chính đủ điều kiện được giải quyết trên nền tảng số; 100% cán bộ, công chức, viên "
                    "chức trong hệ thống chính trị Thành phố xử lý hồ sơ công việc trên môi trường mạng và sử "
                    "dụng chữ ký số; góp phần nâng tỷ trọng kinh tế số đạt tối thiểu 35% GDP, cao hơn bình quân "
                    "cả nước.",
                    "The agreement lays the ground for Hanoi to reach the strategic goals of Resolution "
                    "57-NQ/TW by 2030: 100 % of users of online public services; 100 % cashless transactions in "
                    "online public services; 100 % of eligible administrative procedures handled on digital "
                    "platforms; 100 % of the leaders, officials and public employees of the city's political "
                    "system handling work files online with digital signatures; and contributing to raise the "
                    f"digital economy to at least 35 % of GDP, above the national average ({KINHTEDOTHI}).",
                ),
            ),
            (
                "paragraph",
                bilingual(
                    "Mục tiêu kinh tế số (tối thiểu 35% GDP vào năm 2030) là chỉ tiêu chung của Thành phố, không "
                    "cơ quan ký giao ước nào báo cáo riêng, nên không được chấm điểm trong bản minh họa này.",
                    "The digital-economy goal (at least 35 % of GDP by 2030) is a figure for the whole city that "
                    "none of the signatories reports on its own: this demo shows it here and does not score it.",
                ),
            ),
        ],
        "phases": [],  # the report names no phases
        "schedule": "quarterly",  # invented
        "signatories": ["HN-VPTU", "HN-VPDBHD", "HN-VPUB", "HN-TTHCC"],  # in the report's order
        # Each agency's pledges as the report states them, nothing added.
        "pledges": {
            "HN-VPTU": (
                "Tham mưu Thành ủy ban hành Chương trình hành động thực hiện Nghị quyết số 57-NQ/TW, bảo đảm kế "
                "hoạch công tác năm 2025 lồng ghép đầy đủ đổi mới sáng tạo và chuyển đổi số; tiên phong triển "
                "khai các ứng dụng chuyển đổi số dùng chung do Văn phòng Trung ương Đảng cung cấp, bảo đảm 100% "
                "văn bản, hồ sơ công việc được xử lý trên môi trường số.",
                "Advises the City Party Committee on its Action Programme implementing Resolution 57-NQ/TW and "
                "makes sure the 2025 work plan fully integrates innovation and digital transformation; pioneers "
                "the common digital-transformation applications provided by the Central Party Office, so that "
                "100 % of documents and work files are processed digitally.",
            ),
            "HN-VPDBHD": (
                "Đẩy mạnh ứng dụng nền tảng số trong quản lý, điều hành, hướng tới xử lý toàn bộ văn bản, hồ sơ "
                "trên môi trường số; xây dựng cơ sở dữ liệu kiến nghị cử tri từ đầu nhiệm kỳ 2021–2026 và sử "
                "dụng hiệu quả phần mềm tổng hợp kiến nghị cử tri.",
                "Promotes digital platforms in management and operations, aiming to process all documents and "
                "files digitally; has built, since the start of the 2021–2026 term, a database of voters' "
                "recommendations, and uses the software that collects them effectively.",
            ),
            "HN-VPUB": (
                "Tham mưu, xây dựng cơ chế, chính sách đột phá về đổi mới sáng tạo, chuyển đổi số, thúc đẩy phát "
                "triển kinh tế – xã hội; xây dựng mô hình “văn phòng số kiểu mẫu” ứng dụng công nghệ tiên tiến "
                "(AI, blockchain, thực tế ảo…) để nâng cao hiệu quả quản lý, điều hành.",
                "Advises on and develops breakthrough mechanisms and policies for innovation, digital "
                "transformation and socio-economic development; builds a “model digital office” that uses "
                "advanced technologies (AI, blockchain, virtual reality…) to manage and operate more "
                "efficiently.",
            ),
            "HN-TTHCC": (
                "Bảo đảm 100% dịch vụ công thiết yếu đạt mức độ 4, tích hợp dữ liệu lớn và AI hỗ trợ người dân, "
                "doanh nghiệp; 100% thủ tục hành chính được giải quyết trên nền tảng số, nâng mức độ hài lòng của "
                "người dân, doanh nghiệp lên trên 95%; xây dựng hệ sinh thái dịch vụ công số minh bạch, hiệu "
                "quả, tích hợp liên ngành.",
                "Makes sure 100 % of essential public services reach level 4, integrating big data and AI to "
                "support citizens and businesses; 100 % of administrative procedures handled on digital "
                "platforms, raising citizens' and businesses' satisfaction above 95 %; builds a transparent, "
                "efficient, cross-sector integrated digital ecosystem of public services.",
            ),
        },
        "descriptions": {
            "T6": bilingual(
                "Cam kết của Trung tâm Phục vụ hành chính công: mức độ hài lòng trên 95% (Kinhtedothi, 3/3/2025). "
                "Điểm số coi một mục tiêu là đạt khi giá trị bằng hoặc vượt giá trị mục tiêu; mức độ hài lòng "
                "được báo cáo đến hai chữ số thập phân, nên “trên 95%” được ghi là 95,01%: đúng 95,00% là chưa đạt.",
                f"The Public Administration Service Centre's pledge: satisfaction above 95 % ({KINHTEDOTHI}). "
                "Scores count a target achieved when the value reaches the target value; satisfaction is reported "
                "to two decimals, so “above 95 %” is entered as 95.01 %: exactly 95.00 % is not achieved.",
            ),
        },
    },
    HCMC: {
        "organiser": "Ho Chi Minh City People's Committee",  # invented: the reports name no such competition
        "signed_on": None,
        "intro": bilingual(
            "Từ ngày 1/7/2025, chính quyền địa phương hai cấp của Thành phố đi vào hoạt động. Kế hoạch số 02 của "
            "Ban Chỉ đạo Trung ương gồm hai giai đoạn: giai đoạn cấp bách (đến 30/6/2025) và giai đoạn bứt phá "
            "(đến 31/12/2025) (Trung tâm Báo chí TP.HCM, 23/6/2025). Cuộc thi đua minh họa này giữa 16 sở, ngành "
            "và các phường, xã, đặc khu diễn ra trong giai đoạn bứt phá. Dữ liệu minh họa: chỉ tiêu, số liệu, "
            "điểm và đăng ký là giả định; mã và tên phường, xã theo danh mục đơn vị hành chính mới năm 2025.",
            "The city's two-level local government began on 1 July 2025. Plan No. 02 of the Central Steering "
            "Committee runs in two phases: an urgent phase (to 30 June 2025) and a breakthrough phase (to 31 "
            f"December 2025) ({PLAN_02}). This illustrative competition between the 16 departments and the "
            "wards, communes and special zone runs through the breakthrough phase. Demo data: the targets' "
            "figures, the reported values, points and registrations are invented; the codes and names of the "
            "wards and communes are those of the 2025 list of the new administrative units.",
        ),
        "body": [],
        # Plan 02's urgent phase ended on 30 June 2025, before the wards of this competition existed.
        "phases": [("Giai đoạn bứt phá (Breakthrough phase)", date(2025, 12, 31))],
        "schedule": "monthly",  # invented
        "signatories": None,  # every participating agency by name, departments first (invented: no report lists them)
        "pledges": {},
        "descriptions": {},
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
            page.body = [(kind, RichText(value) if kind == "paragraph" else value) for kind, value in text["body"]]
            page.reporting_schedule = text["schedule"]
            page.phases = [CompetitionPhase(name=name, end_date=end) for name, end in text["phases"]]
            participants = Agency.objects.filter(commitments__competition=page)
            if text["signatories"]:
                by_code = {agency.code: agency for agency in participants}
                signatories = [by_code[code] for code in text["signatories"]]
            else:
                # By cluster, then in the Vietnamese alphabet (the database sorts by code point).
                signatories = sorted(
                    participants.select_related("parent"),
                    key=lambda agency: (
                        agency.parent is None,
                        agency.parent and agency.parent.code,
                        vietnamese_key(agency.name),
                    ),
                )
            page.signatories = [CompetitionSignatory(agency=agency) for agency in signatories]
            publish(page)
            for commitment in CommitmentPage.objects.filter(competition=page, agency__code__in=text["pledges"]):
                commitment.pledge = bilingual(*text["pledges"][commitment.agency.code])
                publish(commitment)
            for target in TargetPage.objects.filter(competition=page, code__in=text["descriptions"]):
                target.description = text["descriptions"][target.code]
                publish(target)

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
            if not (user.first_name or user.last_name):  # a name changed in the demo stays
                user.first_name, user.last_name = NAMES[username]
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
            (SAIGON, "T1", "editor.saigon", "93", "submitted", ""),
            (SAIGON, "T6", "editor.saigon", "91.5", "submitted", ""),
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
            # The wards exist from 1 July 2025: registration opens that day (the dates are invented).
            page.registration_opens, page.registration_due = date(2025, 7, 1), date(2025, 7, 15)
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
                SAIGON,
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
                AwardRule(name="Giấy khen", basis=AwardBasis.TIER, tier="Khá (Fair)", limit=1),
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
