"""Admin screens of registration (docs/registration.md): the list of one's registrations, the
registration of one agency in one competition (edited by its editors, approved or returned by
the competition's managers), the managers' overview of every agency's state and its export.

Every screen loads the registration through the user's scope: an agency's registration is a 404
for anyone but its editors and the competition's managers (and superusers), and for an agency
that does not take part in the competition."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST, require_safe
from django.views.generic import TemplateView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from . import permissions
from .domain import registration as registrations
from .import_views import CONTENT_TYPES
from .judging_views import CompetitionAdminMixin, managed_competition
from .models import Agency, CommitmentPage, CompetitionLogEntry, CompetitionPage, Registration, RegistrationStatus
from .models.registration import NOT_STARTED
from .registration_forms import DecisionForm, RegistrationForm
from .spreadsheets import export_dataset


def index_url():
    return reverse("competition_registrations")


def registration_url(competition_id, agency_id):
    return reverse("competition_registration", args=[competition_id, agency_id])


class RegistrationIndexView(WagtailAdminTemplateMixin, TemplateView):
    """An editor's registrations (one per competition taking registrations that their agency takes
    part in); a manager's competitions taking registrations, with how many await a decision."""

    template_name = "competition/admin/registrations.html"
    page_title = gettext_lazy("Registrations")
    header_icon = "form"

    def dispatch(self, request, *args, **kwargs):
        user = request.user
        if not (user.is_superuser or permissions.is_editor(user) or permissions.is_manager(user)):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        rows = registrations.rows_for_agencies(permissions.editor_agency_ids(user))
        managed = None if user.is_superuser else permissions.managed_competition_ids(user)
        competitions = []
        if user.is_superuser or managed:
            competitions = list(registrations.competitions_taking_registrations(managed)[:50])
        tallies = {}
        for competition_id, status, number in (
            Registration.objects.filter(competition__in=competitions)
            .values_list("competition_id", "status")
            .annotate(number=Count("pk"))
        ):
            tallies.setdefault(competition_id, {})[status] = number
        context.update(
            {
                "rows": [{"row": row, "url": registration_url(row.competition.pk, row.agency.pk)} for row in rows],
                "competitions": [
                    {
                        "competition": competition,
                        "window": registrations.window(competition),
                        "submitted": tallies.get(competition.pk, {}).get(RegistrationStatus.SUBMITTED, 0),
                        "approved": tallies.get(competition.pk, {}).get(RegistrationStatus.APPROVED, 0),
                        "url": reverse("competition_registration_overview", args=[competition.pk]),
                    }
                    for competition in competitions
                ],
            }
        )
        return context


class ScopedRegistrationMixin:
    """Loads the competition, the agency and its registration, or answers 404."""

    def dispatch(self, request, competition, agency, *args, **kwargs):
        self.competition = CompetitionPage.objects.filter(pk=competition).first()
        self.agency = Agency.objects.filter(pk=agency).first()
        if (
            self.competition is None
            or self.agency is None
            or not registrations.can_view(request.user, self.competition.pk, self.agency.pk)
            or not registrations.takes_part(self.competition.pk, self.agency.pk)
        ):
            raise Http404
        self.registration = (
            Registration.objects.filter(competition=self.competition, agency=self.agency)
            .select_related("submitted_by", "decided_by", "created_by")
            .first()
        )
        return super().dispatch(request, competition, agency, *args, **kwargs)


class RegistrationView(ScopedRegistrationMixin, WagtailAdminTemplateMixin, TemplateView):
    template_name = "competition/admin/registration.html"
    header_icon = "form"

    def get_page_title(self):
        return _("Registration of %(agency)s") % {"agency": self.agency.name}

    def get_page_subtitle(self):
        return self.competition.title

    def get_breadcrumbs_items(self):
        return [
            *super().get_breadcrumbs_items(),
            {"url": index_url(), "label": _("Registrations")},
            {"url": "", "label": f"{self.agency.name} · {self.competition.title}"},
        ]

    @property
    def state(self):
        return self.registration.status if self.registration else NOT_STARTED

    def mode(self):
        user = self.request.user
        if registrations.can_edit(user, self.competition, self.agency.pk, self.registration):
            return "edit"
        if registrations.can_change_approved(user, self.registration):
            return "change"
        return "read"

    def build_form(self, data=None, loaded_revision=None):
        initial = registrations.current_data(self.competition, self.agency, self.registration)
        if loaded_revision is None:
            loaded_revision = str(self.registration.latest_revision_id or "") if self.registration else ""
        return RegistrationForm(
            data,
            competition=self.competition,
            agency=self.agency,
            targets=registrations.targets_of(self.competition),
            initial_data=initial,
            loaded_revision=loaded_revision,
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user, registration = self.request.user, self.registration
        mode = self.mode()
        data = registrations.current_data(self.competition, self.agency, registration)
        page = CommitmentPage.objects.filter(competition=self.competition, agency=self.agency, live=True).first()
        history = []
        if registration is not None:
            entries = CompetitionLogEntry.objects.for_instance(registration)
            history = entries.select_related("user").order_by("-timestamp")
        context.update(
            {
                "competition": self.competition,
                "agency": self.agency,
                "registration": registration,
                "state": self.state,
                "state_label": registrations.state_label(self.state),
                "overdue": registrations.is_overdue(self.competition, self.state),
                "window": registrations.window(self.competition),
                "mode": mode,
                "form": kwargs.get("form") or (self.build_form() if mode != "read" else None),
                "lines": sorted(data.lines.values(), key=lambda line: line.target.code),
                "pledge": data.pledge,
                "can_decide": registrations.can_decide(user, registration),
                "decision_form": kwargs.get("decision_form") or DecisionForm(),
                "decide_url": reverse("competition_registration_decide", args=[self.competition.pk, self.agency.pk]),
                "manages": registrations.manages(user, self.competition.pk),
                "overview_url": reverse("competition_registration_overview", args=[self.competition.pk]),
                "commitment_url": page.get_url(self.request) if page is not None else None,
                "history": history[:50],
                "errors": kwargs.get("errors", []),
            }
        )
        return context

    def post(self, request, competition, agency):
        action = request.POST.get("action", "")
        mode = self.mode()
        allowed = {"edit": ("save", "submit"), "change": ("change",)}.get(mode, ())
        if action not in allowed:
            messages.error(request, self.refusal())
            return redirect(registration_url(self.competition.pk, self.agency.pk))
        form = self.build_form(request.POST, loaded_revision=request.POST.get("loaded_revision", ""))
        if not form.is_valid():
            return self.render_to_response(
                self.get_context_data(
                    form=form, errors=[_("The registration was not saved: correct the fields below.")]
                )
            )
        data = form.registration_data()
        loaded = form.cleaned_data.get("loaded_revision", "")
        try:
            if action == "change":
                _registration, changes = registrations.change_approved(
                    self.registration, request.user, data, loaded_revision=loaded
                )
                if changes:
                    messages.success(request, _("Changes saved and published on the commitment page."))
                else:
                    messages.info(request, _("Nothing changed."))
            else:
                registrations.save(
                    self.competition,
                    self.agency,
                    request.user,
                    data,
                    loaded_revision=loaded,
                    submit_after=action == "submit",
                )
                if action == "submit":
                    messages.success(request, _("Registration submitted: the managers will review it."))
                else:
                    messages.success(request, _("Draft saved. Submit it when it is complete."))
        except registrations.StaleForm:
            self.registration = Registration.objects.filter(pk=getattr(self.registration, "pk", None)).first() or (
                Registration.objects.filter(competition=self.competition, agency=self.agency).first()
            )
            latest = str(self.registration.latest_revision_id or "") if self.registration else ""
            form = self.build_form(request.POST, loaded_revision=latest)
            form.is_valid()
            form.data = form.data.copy()
            form.data["loaded_revision"] = latest
            return self.render_to_response(
                self.get_context_data(
                    form=form,
                    errors=[
                        _(
                            "Someone else saved this registration while you were editing it. Your changes are not "
                            "saved yet: compare them with the history below, then save again to keep yours."
                        )
                    ],
                )
            )
        except PermissionDenied:
            messages.error(request, self.refusal())
        except ValidationError as error:
            return self.render_to_response(self.get_context_data(form=form, errors=error.messages))
        return redirect(registration_url(self.competition.pk, self.agency.pk))

    def refusal(self):
        window = registrations.window(self.competition)
        if window == "closed":
            return _("The results of this competition are published: registrations can no longer change.")
        if window == "none":
            return _("This competition takes no registrations.")
        if window == "not_yet":
            return _("Registration opens on %(day)s.") % {"day": self.competition.registration_opens.isoformat()}
        return _("This registration is %(state)s: it cannot change now.") % {
            "state": registrations.state_label(self.state).lower()
        }


class RegistrationDecideView(ScopedRegistrationMixin, TemplateView):
    http_method_names = ["post"]

    def post(self, request, competition, agency):
        target = registration_url(self.competition.pk, self.agency.pk)
        if self.registration is None:
            messages.error(request, _("This agency has not registered yet."))
            return redirect(target)
        form = DecisionForm(request.POST)
        form.is_valid()
        try:
            registrations.decide(
                self.registration, request.user, request.POST.get("decision", ""), form.cleaned_data.get("note", "")
            )
        except PermissionDenied:
            messages.error(request, _("You cannot decide on this registration."))
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            self.registration.refresh_from_db()
            if self.registration.status == RegistrationStatus.APPROVED:
                messages.success(request, _("Registration approved: the commitment page is published."))
            else:
                messages.success(request, _("Registration returned to the agency with your reason."))
        return redirect(target)


class RegistrationOverviewView(CompetitionAdminMixin, TemplateView):
    """Every agency expected to register in the competition, with its state, overdue ones first."""

    template_name = "competition/admin/registration_overview.html"
    header_icon = "form"
    page_title = gettext_lazy("Registrations")
    per_page = 100

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        competition = self.competition
        rows = registrations.overview(competition)
        state = self.request.GET.get("state", "")
        if state == "overdue":
            shown = [row for row in rows if row.overdue]
        elif state in registrations.STATES:
            shown = [row for row in rows if row.state == state]
        else:
            state, shown = "", rows
        paginator = Paginator(shown, self.per_page)
        page = paginator.get_page(self.request.GET.get("p"))
        context.update(
            {
                "competition": competition,
                "window": registrations.window(competition),
                "counts": registrations.counts(rows),
                "overdue_count": sum(1 for row in rows if row.overdue),
                "state": state,
                "rows": [
                    {"row": row, "url": registration_url(competition.pk, row.agency.pk)} for row in page.object_list
                ],
                "items": page,
                "elided_page_range": paginator.get_elided_page_range(page.number),
                "export_urls": [
                    (
                        file_format.upper(),
                        reverse("competition_registration_export", args=[competition.pk, file_format]),
                    )
                    for file_format in ("csv", "xlsx", "json")
                ],
                "edit_url": reverse("wagtailadmin_pages:edit", args=[competition.pk]),
            }
        )
        return context


@require_safe
def registration_export(request, pk, file_format):
    """The registrations of a competition, for its managers only (404 for anyone else)."""
    competition = managed_competition(request.user, pk)
    if file_format not in CONTENT_TYPES:
        raise Http404
    response = HttpResponse(
        export_dataset(registrations.export(competition), file_format), content_type=CONTENT_TYPES[file_format]
    )
    response["Content-Disposition"] = f'attachment; filename="registrations-{competition.slug}.{file_format}"'
    response["Cache-Control"] = "private, no-store"
    return response


registration_decide = require_POST(RegistrationDecideView.as_view())
