"""Public views of the competition app that Wagtail's page routing does not serve."""

import json

from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpResponse, JsonResponse
from django.views.decorators.http import require_safe
from wagtail.models import Site

from .domain.opendata import board_json, board_table
from .domain.presentation import InvalidDate, note_canonical_query, parse_as_of
from .domain.scoreboard import get_board
from .middleware import mark_cacheable
from .models import CompetitionPage
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
    competition = find_public_competition(request, page_path)
    mark_cacheable(request, competition.pk)
    try:
        as_of = parse_as_of(request)
    except InvalidDate as error:
        return JsonResponse({"error": str(error)}, status=400)
    board = get_board(competition, as_of)
    # Kept only when asked for in canonical form; never redirected (see note_canonical_query).
    note_canonical_query(request, {"as_of": board.as_of.isoformat()} if as_of else {}, redirect=False)
    filename = f"{competition.slug}-scoreboard-{board.as_of.isoformat()}"
    if file_format == "json":
        response = HttpResponse(
            json.dumps(board_json(board), cls=DjangoJSONEncoder, ensure_ascii=False),
            content_type="application/json",
        )
    elif file_format == "csv":
        response = HttpResponse(export_dataset(board_table(board), "csv"), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    else:
        response = HttpResponse(
            export_dataset(board_table(board), "xlsx"),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = f'attachment; filename="{filename}.xlsx"'
    response["Access-Control-Allow-Origin"] = "*"
    return response
