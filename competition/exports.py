"""What the exports hold, for the admin's export links and the `competition_export` command alike:
every import kind (its resource's export, the file it imports back unchanged) and `registrations`,
the managers' report of every agency's registration (docs/registration.md, "The export"), which
has no import: registrations change through their own screens.

`allowed_competitions` (a set of competition ids, None for no limit) keeps a manager's export to
the competitions they manage; agencies are listed whole, as their import accepts any."""

import tablib
from django.db.models import Q

from .domain import registration
from .models import CompetitionPage
from .resources import RESOURCES

EXPORT_KINDS = (*RESOURCES, "registrations")
# How each kind's rows reach their competition, to keep an export to the allowed ones.
COMPETITION_OF = {
    "competitions": "pk__in",
    "targets": "competition_id__in",
    "commitments": "commitment__competition_id__in",
    "jurors": "competition_id__in",
    "values": "line__commitment__competition_id__in",
    "scores": "submission__line__commitment__competition_id__in",
    "adjustments": "competition_id__in",
}


def export(kind, *, competition=None, allowed_competitions=None):
    """The rows of `kind` as a tablib Dataset (the competition's only, given its slug)."""
    if kind == "registrations":
        return export_registrations(competition=competition, allowed_competitions=allowed_competitions)
    resource = RESOURCES[kind](competition=competition)
    queryset = resource.get_queryset()
    if allowed_competitions is not None and kind != "agencies":
        queryset = queryset.filter(**{COMPETITION_OF[kind]: allowed_competitions})
    return resource.export(queryset=queryset)


def export_registrations(*, competition=None, allowed_competitions=None):
    """Every agency's registration in the competition given, or in every competition that takes
    registrations or has some, by competition slug: each competition's rows as its managers'
    Registrations screen exports them (a constant number of queries per competition)."""
    competitions = CompetitionPage.objects.all()
    if competition:
        competitions = competitions.filter(slug=competition)
    else:
        competitions = competitions.filter(Q(registration_opens__isnull=False) | Q(registrations__isnull=False))
    if allowed_competitions is not None:
        competitions = competitions.filter(pk__in=allowed_competitions)
    dataset = tablib.Dataset(headers=list(registration.EXPORT_HEADERS), title="registrations")
    for page in competitions.distinct().order_by("slug"):
        for row in registration.export(page):
            dataset.append(row)
    return dataset
