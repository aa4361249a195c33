"""Import and export screens in the Wagtail admin: upload a file, preview what would be created,
updated and left unchanged (row errors against their rows), then confirm; export any kind in
CSV, XLSX or JSON; download a template of each kind. Managers only, scoped to the competitions
they manage."""

import re
import uuid
from datetime import date, timedelta
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_safe
from django.views.generic import FormView, TemplateView, View
from import_export.results import RowResult
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from . import conf, exports, permissions
from .admin_views import TitledScreenMixin
from .domain import import_jobs
from .exports import EXPORT_KINDS
from .imports import FORMATS, ImportFileError, file_format_of, load_dataset, run_import
from .models import CompetitionPage
from .resources import RESOURCES
from .spreadsheets import export_dataset
from .templatetags.competition_tags import measured

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
}
PENDING = import_jobs.PENDING
# The name a pending import file is kept under (see ImportView.form_valid): nothing else.
TOKEN = re.compile(r"^[0-9a-f]{32}\.(?:csv|xlsx|json)$")
# One example row per kind, for the downloadable templates.
EXAMPLES = {
    "agencies": {
        "code": "26734",
        "name": "Sài Gòn Ward",
        "short_name": "Sài Gòn",
        "parent_code": "HCMC-WARD",
        "level": "ward",
    },
    "competitions": {
        "slug": "hcmc-2025",
        "title": "HCMC digital government 2025",
        "start": "2025-01-01",
        "end": "2025-12-31",
        "parent": "",
        "at_risk_margin": "0.10",
        "jury_aggregation": "mean",
        "tiers": "Excellent:90;Good:75;Fair:50;Below target:0",
    },
    "targets": {
        "competition": "hcmc-2025",
        "code": "T1",
        "title": "Work files processed online",
        "unit": "percent",
        "direction": "higher",
        "baseline": "60",
        "target": "100",
        "max_points": "20",
        "deadline": "",
        "milestones": "2025-06-30:80;2025-09-30:90",
    },
    "commitments": {
        "competition": "hcmc-2025",
        "agency": "26734",
        "target": "T1",
        "baseline": "",
        "target_value": "",
        "pledge": "Put every ward's records online by 30 June.",
    },
    "jurors": {
        "competition": "hcmc-2025",
        "username": "juror.nguyen",
        "email": "juror.nguyen@example.org",
        "agency": "",
    },
    "values": {
        "competition": "hcmc-2025",
        "agency": "26734",
        "target": "T1",
        "reported_on": "2025-06-30",
        "value": "84.5",
        "note": "From the task management system",
    },
    "scores": {
        "competition": "hcmc-2025",
        "agency": "26734",
        "target": "T1",
        "reported_on": "2025-06-30",
        "juror": "juror.nguyen",
        "points": "17.5",
        "comment": "Evidence checked",
    },
    "adjustments": {"competition": "hcmc-2025", "agency": "26734", "points": "2", "reason": "Pilot of cashless fees"},
}


def require_manager(user):
    if not (user.is_superuser or permissions.is_manager(user)):
        raise PermissionDenied


def allowed_competitions(user):
    return None if user.is_superuser else set(permissions.managed_competition_ids(user))


# What each kind of file holds, in the reader's language; the kind's own name (the files' and
# the import command's, docs/imports.md) is shown beside it.
KIND_LABELS = {
    "agencies": gettext_lazy("Agencies"),
    "competitions": gettext_lazy("Competitions"),
    "targets": gettext_lazy("Targets"),
    "commitments": gettext_lazy("Agency commitments"),
    "jurors": gettext_lazy("Jurors"),
    "values": gettext_lazy("Reported values"),
    "scores": gettext_lazy("Jury scores"),
    "adjustments": gettext_lazy("Adjustments"),
    "registrations": gettext_lazy("Registrations"),
}


def kind_choice(kind):
    """("values", "Reported values (values)"), in the reader's language."""
    return kind, format_lazy("{label} ({kind})", label=KIND_LABELS[kind], kind=kind)


class ImportForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("What the file holds"), choices=[kind_choice(k) for k in RESOURCES])
    competition = forms.ModelChoiceField(
        label=gettext_lazy("Competition"),
        queryset=CompetitionPage.objects.none(),
        required=False,
        to_field_name="slug",
        help_text=gettext_lazy("For files without a competition column."),
    )
    import_file = forms.FileField(label=gettext_lazy("File (.csv, .xlsx or .json)"))

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        queryset = CompetitionPage.objects.order_by("title")
        if not user.is_superuser:
            queryset = queryset.filter(pk__in=permissions.managed_competition_ids(user))
        self.fields["competition"].queryset = queryset

    def clean_import_file(self):
        upload = self.cleaned_data["import_file"]
        if file_format_of(upload.name) not in FORMATS:
            raise forms.ValidationError(_("Use a .csv, .xlsx or .json file."))
        limit = conf.get("MAX_IMPORT_SIZE")
        if upload.size > limit:
            if filesizeformat(upload.size) == filesizeformat(limit):
                message = _("The file is larger than the limit of %(limit)s. Split it into smaller files.")
            else:
                message = _("The file is %(size)s; the limit is %(limit)s. Split it into smaller files.")
            raise forms.ValidationError(message % {"size": filesizeformat(upload.size), "limit": filesizeformat(limit)})
        return upload


class ImportView(TitledScreenMixin, FormView):
    template_name = "competition/admin/import.html"
    page_title = gettext_lazy("Import")
    header_icon = "upload"
    form_class = ImportForm

    def dispatch(self, request, *args, **kwargs):
        require_manager(request.user)
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def get_context_data(self, **kwargs):
        from .models import ImportRecord

        context = super().get_context_data(**kwargs)
        context["kinds"] = [(kind, KIND_LABELS[kind]) for kind in RESOURCES]
        context["export_only_kinds"] = [(kind, KIND_LABELS[kind]) for kind in EXPORT_KINDS if kind not in RESOURCES]
        context["formats"] = FORMATS
        recent = ImportRecord.objects.select_related("user")
        user = self.request.user
        if not user.is_superuser:
            # Another competition's imports (who, which files) are not this manager's business.
            slugs = CompetitionPage.objects.filter(pk__in=permissions.managed_competition_ids(user)).values("slug")
            recent = recent.filter(Q(user=user) | Q(competition__in=slugs))
        context["recent"] = recent[:50]
        return context

    def form_valid(self, form):
        upload = form.cleaned_data["import_file"]
        kind = form.cleaned_data["kind"]
        competition = form.cleaned_data["competition"]
        slug = competition.slug if competition else None
        content = upload.read()
        file_format = file_format_of(upload.name)
        try:
            dataset = load_dataset(content, file_format)
        except ImportFileError as error:
            form.add_error("import_file", str(error))
            return self.form_invalid(form)
        user = self.request.user
        report = run_import(
            kind, dataset, competition=slug, user=user, dry_run=True, allowed_competitions=allowed_competitions(user)
        )
        # An empty confirmation token, not a password.
        token = ""  # nosec B105
        if report.ok:
            # Kept until confirmed; the confirmation imports exactly this file.
            token = f"{uuid.uuid4().hex}.{file_format}"
            remove_stale_pending_files()
            default_storage.save(f"{PENDING}/{token}", ContentFile(content))
        rows = preview_rows(report, kind)
        return self.render_to_response(
            self.get_context_data(
                form=form,
                report=report,
                problems=report.file_errors
                + [
                    _("row %(row)s, column %(column)s: %(message)s")
                    % {"row": row, "column": column, "message": message}
                    for row, column, message in report.problems
                ],
                preview_headers=report.result.diff_headers,
                preview_rows=rows[:PREVIEW_ROWS],
                preview_more=max(len(rows) - PREVIEW_ROWS, 0),
                token=token,
                kind=kind,
                competition_slug=slug or "",
                file_name=upload.name,
                types={"new": RowResult.IMPORT_TYPE_NEW, "update": RowResult.IMPORT_TYPE_UPDATE},
            )
        )


PREVIEW_ROWS = 500


def preview_rows(report, kind):
    """The preview's rows: for a valid row its change and every column's value (dates and
    numbers in the reader's language; a changed value as before and after); for a refused row the
    cells as the file has them, each with its column's errors. In the file's order."""
    resource = RESOURCES[kind]
    result = report.result
    headers = list(result.diff_headers)
    invalid = {row.number: row for row in result.invalid_rows}
    problems = {}
    for number, column, message in report.problems:
        problems.setdefault(number, {}).setdefault(column, []).append(message)
    rows = []
    for number, row in enumerate(result.rows, 1):
        found = problems.get(number, {})
        if row.import_type in (RowResult.IMPORT_TYPE_INVALID, RowResult.IMPORT_TYPE_ERROR):
            values = invalid[number].values if number in invalid else [""] * len(headers)
            cells = [
                {"value": "" if value in (None, "---") else str(value), "errors": found.get(column, [])}
                for column, value in zip(headers, values, strict=False)
            ]
            rows.append(
                {
                    "number": number,
                    "type": "invalid",
                    "cells": cells,
                    # Errors of no column of the file (an unexpected failure): beside the row's state.
                    "other_errors": [
                        m for column, messages in found.items() if column not in headers for m in messages
                    ],
                }
            )
            continue
        cells = []
        for column, cell in zip(headers, row.diff or [], strict=False):
            before, after = (localise_cell(resource, column, value) for value in (cell.before, cell.after))
            if cell.changed and row.import_type == RowResult.IMPORT_TYPE_UPDATE:
                cells.append({"value": after or "—", "before": before or "—", "changed": True})
            else:
                cells.append({"value": after, "before": "", "changed": False})
        rows.append({"number": number, "type": row.import_type, "cells": cells, "other_errors": []})
    return rows


def localise_cell(resource, column, text):
    """A cell in the import format (ISO dates, decimals with a dot) as its reader writes it."""
    if not text:
        return ""
    try:
        if column in resource.date_columns:
            return date_format(date.fromisoformat(text), "DATE_FORMAT")
        if column in resource.decimal_columns:
            return measured(Decimal(text))
    except (ValueError, ArithmeticError):
        pass
    return text


def remove_stale_pending_files(max_age=timedelta(days=1)):
    """Previews nobody confirmed: their files go after a day."""
    if not default_storage.exists(PENDING):
        return
    oldest = timezone.now() - max_age
    for name in default_storage.listdir(PENDING)[1]:
        path = f"{PENDING}/{name}"
        if TOKEN.match(name) and default_storage.get_modified_time(path) < oldest:
            default_storage.delete(path)


class ConfirmImportView(View):
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        require_manager(request.user)
        token = request.POST.get("token", "")
        kind = request.POST.get("kind", "")
        if kind not in RESOURCES or not TOKEN.match(token):
            raise Http404
        path = f"{PENDING}/{token}"
        if not default_storage.exists(path):
            messages.error(request, _("This preview has expired; upload the file again."))
            return redirect("competition_import")
        if not import_jobs.claim(token):
            messages.error(request, _("This file is being imported already."))
            return redirect("competition_import")
        # A task imports the file (competition.tasks.run_import_job): with the task workers of
        # production the job's page shows its progress; run at once (the immediate backend of
        # development), its result is here already.
        job_id = import_jobs.start(
            token=token,
            kind=kind,
            competition=request.POST.get("competition") or None,
            user=request.user,
            file_name=request.POST.get("file_name", token),
        )
        return redirect("competition_import_job", job_id)


class ImportJobView(WagtailAdminTemplateMixin, TemplateView):
    """An import confirmed in the admin: its progress while a task worker imports it (the page
    asks again every few seconds, without JavaScript), then its result. Only the manager who
    confirmed it (and superusers) may see it."""

    template_name = "competition/admin/import_job.html"
    page_title = gettext_lazy("Import")
    header_icon = "upload"
    REFRESH_SECONDS = 2

    def dispatch(self, request, job_id, *args, **kwargs):
        require_manager(request.user)
        if not re.fullmatch(r"[0-9a-f]{32}", job_id):
            raise Http404
        self.job = import_jobs.get(job_id)
        if self.job is not None and not (request.user.is_superuser or self.job["user_id"] == request.user.pk):
            raise Http404
        return super().dispatch(request, *args, **kwargs)

    def get_breadcrumbs_items(self):
        return [
            *super().get_breadcrumbs_items(),
            {"url": reverse("competition_import"), "label": _("Import and export")},
            {"url": "", "label": self.get_page_title()},
        ]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        job = self.job
        context["job"] = job
        context["finished"] = job is None or job["state"] in (import_jobs.DONE, import_jobs.FAILED)
        if job is not None and job.get("total"):
            context["percent"] = round(100 * job["done"] / job["total"])
        return context

    def render_to_response(self, context, **kwargs):
        response = super().render_to_response(context, **kwargs)
        if not context["finished"]:
            response["Refresh"] = str(self.REFRESH_SECONDS)
        return response


@require_safe
def export_view(request, kind, file_format):
    """Any kind, and the registrations, in any format, scoped to the competitions the user manages."""
    require_manager(request.user)
    if kind not in EXPORT_KINDS or file_format not in FORMATS:
        raise Http404
    slug = request.GET.get("competition") or None
    dataset = exports.export(kind, competition=slug, allowed_competitions=allowed_competitions(request.user))
    return _download(dataset, file_format, f"{kind}{'-' + slug if slug else ''}")


@require_safe
def template_view(request, kind, file_format):
    """The header row and one example row of a kind."""
    require_manager(request.user)
    if kind not in RESOURCES or file_format not in FORMATS:
        raise Http404
    import tablib

    columns = RESOURCES[kind].columns()
    dataset = tablib.Dataset(headers=columns)
    dataset.append([EXAMPLES[kind].get(column, "") for column in columns])
    return _download(dataset, file_format, f"{kind}-template")


def _download(dataset, file_format, name):
    response = HttpResponse(export_dataset(dataset, file_format), content_type=CONTENT_TYPES[file_format])
    response["Content-Disposition"] = f'attachment; filename="{name}.{file_format}"'
    return response
