"""Public views of the competition app that Wagtail's page routing does not serve."""

import json

from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.template.response import TemplateResponse
from django.views.decorators.http import require_safe
from wagtail.models import Page, Site
from wagtail.views import serve as serve_wagtail_page

from . import conf
from .domain import slices
from .domain.opendata import (
    InvalidSlice,
    UnknownSlice,
    asked_slice,
    awards_json,
    awards_table,
    board_slice,
    board_table,
)
from .domain.presentation import InvalidDate, commendations, note_canonical_query, parse_as_of
from .domain.scoreboard import board_and_freshness, board_version, get_board, resolve_as_of
from .middleware import mark_cacheable
from .models import Agency, CompetitionPage
from .spreadsheets import export_dataset


def find_public_competition(request, page_path):
    """The live, unrestricted competition page at `page_path` under the request's site."""
    site = Site.find_for_request(request)
    if site is None:
        raise Http404
    url_path = site.root_page.url_path + page_path
    page = CompetitionPage.objects.live().public().filter(url_path=url_path).first()
    if page is None:
        raise Http404
    return page


@require_safe
def scoreboard_data(request, page_path, file_format):
    if file_format == "json":
        kept = kept_slice_response(request, page_path)
        if kept is not None:
            return kept
    competition = find_public_competition(request, page_path)
    mark_cacheable(request, competition.pk)
    try:
        as_of = parse_as_of(request)
    except InvalidDate as error:
        return JsonResponse({"error": str(error)}, status=400)
    if file_format == "json":
        response = scoreboard_json(request, competition, as_of)
        if response.status_code == 200 and ("group" in request.GET or "agency" in request.GET):
            slices.remember_route(request, page_path, competition.pk)  # for the next slices
        return response
    board = get_board(competition, as_of)
    # One group's or one agency's part of the board (docs/opendata.md).
    try:
        part, agencies, _groups = board_slice(board, request.GET)
    except InvalidSlice as error:
        return JsonResponse({"error": str(error)}, status=400)
    except UnknownSlice as error:
        return JsonResponse({"error": str(error)}, status=404)
    # Kept only when asked for in canonical form; never redirected (see note_canonical_query).
    note_canonical_query(request, {**({"as_of": board.as_of.isoformat()} if as_of else {}), **part}, redirect=False)
    filename = "-".join([competition.slug, "scoreboard", *part.values(), board.as_of.isoformat()])
    if file_format == "csv":
        table = board_table(board, agencies=agencies)
        response = HttpResponse(export_dataset(table, "csv"), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    else:
        response = HttpResponse(
            export_dataset(board_table(board, dates=True, agencies=agencies), "xlsx"),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = f'attachment; filename="{filename}.xlsx"'
    response["Access-Control-Allow-Origin"] = "*"
    return response


def kept_slice_response(request, page_path):
    """A slice of scoreboard.json answered from its kept parts and the competition page's place
    remembered by this process (domain.slices.kept_slice), without a query; None when either is
    not at the competition's current version, or the request is not a valid slice (the view then
    finds the page and answers as usual, its errors included)."""
    if not slices.routes:
        return None
    try:
        as_of = parse_as_of(request)
        asked = asked_slice(request.GET)
    except (InvalidDate, InvalidSlice):
        return None
    kept = slices.kept_slice(request, page_path, *asked, as_of) if asked else None
    if kept is None:
        return None
    route, day, text = kept
    mark_cacheable(request, route.pk)
    return json_response(request, text, day if as_of else None, asked)


def json_response(request, text, day, asked):
    """scoreboard.json's response of `text` (its bytes: domain.slices), the board's `day` given
    when the request named one, `asked` the slice or None."""
    # Kept only when asked for in canonical form; never redirected (see note_canonical_query).
    part = dict([asked]) if asked else {}
    note_canonical_query(request, {**({"as_of": day.isoformat()} if day else {}), **part}, redirect=False)
    response = HttpResponse(text, content_type="application/json")
    response["Access-Control-Allow-Origin"] = "*"
    return response


def scoreboard_json(request, competition, as_of):
    """scoreboard.json, whole or one group's or one agency's part (docs/opendata.md). A slice is
    joined from the parts kept beside the public board (domain.slices) without reading the board
    when they are kept; otherwise the board is cut, and its parts kept for the next slices."""
    try:
        asked = asked_slice(request.GET)
    except InvalidSlice as error:
        return JsonResponse({"error": str(error)}, status=400)
    day = resolve_as_of(competition, as_of)
    text = slices.kept_text(competition, day, *asked) if asked else None
    if text is None:
        version = board_version(competition.pk)  # read before the board, as get_board does
        board, fresh = board_and_freshness(competition, day)
        try:
            board_slice(board, request.GET)
        except UnknownSlice as error:
            return JsonResponse({"error": str(error)}, status=404)
        parts = slices.Parts(competition, board)
        if fresh:
            slices.keep(competition, day, parts, version)
        text = parts.text(*asked) if asked else parts.text()
    return json_response(request, text, day if as_of else None, asked)


@require_safe
def awards_data(request, page_path, file_format):
    """The commendation decision and its awards as JSON or CSV (docs/opendata.md); the decision
    null and no award before one is recorded."""
    competition = find_public_competition(request, page_path)
    mark_cacheable(request, competition.pk)
    note_canonical_query(request, {}, redirect=False)  # reads no parameter
    granted = commendations(competition)
    url = request.build_absolute_uri(granted["decision"].document.url) if granted else None
    data = awards_json(competition, granted, url)
    if file_format == "json":
        response = HttpResponse(
            json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False), content_type="application/json"
        )
    else:
        response = HttpResponse(export_dataset(awards_table(data), "csv"), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{competition.slug}-awards.csv"'
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_safe
def report_pdf(request, page_path):
    """The results report (the page `<competition URL>report/`) as a PDF, in the reader's
    language; kept for anonymous readers like the page (making one takes a while)."""
    from .domain.report import read_report, render_pdf

    competition = find_public_competition(request, page_path)
    mark_cacheable(request, competition.pk)
    try:
        context = read_report(competition, request, pdf=True)
    except InvalidDate as error:
        return HttpResponse(str(error), status=400, content_type="text/plain; charset=utf-8")
    response = HttpResponse(render_pdf(context, request), content_type="application/pdf")
    day = context["board"].as_of.isoformat()
    response["Content-Disposition"] = f'attachment; filename="{competition.slug}-report-{day}.pdf"'
    return response


def cluster_page(request, page_path, code):
    """A cluster's page, `<competition URL>clusters/<code>/`: served by Wagtail like any page,
    through the competition page's own route (CompetitionPage.cluster), with its hooks, privacy
    and methods. Wagtail's page addresses take no dot in a segment, while agencies' codes
    (mã định danh such as 000.00.31.H29) usually have some, so the address is matched here."""
    return serve_wagtail_page(request, f"{page_path}clusters/{code}/")


def agency_record(request, code):
    """An agency's record of achievements across the competitions it took part in
    (domain.achievements). A page of the site at the same address comes first: this URL never
    hides one of the site's own pages. An agency without any public commitment has no record.

    Never kept in the page cache: the page shows several competitions (and the agency), while a
    kept response is fresh only as long as the cache version of a single competition
    (competition.middleware), so no version could tell when it goes stale."""
    from .domain.achievements import record

    path = request.path_info[1:]
    if Page.route_for_request(request, path) is not None:
        return serve_wagtail_page(request, path)  # with its own methods (a form page takes POST)
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    agency = Agency.objects.select_related("parent").filter(code=code).first()
    entries = record(agency, request) if agency is not None else []
    if not entries:
        raise Http404
    context = {"competition_base_template": conf.get("BASE_TEMPLATE"), "agency": agency, "entries": entries}
    return TemplateResponse(request, "competition/pages/agency_record.html", context)
