"""The floor a scoreboard build is measured against: one raw SQL query returning, for each
commitment line of a competition, the latest accepted submission on or before the date (docs/scoring.md,
section 2) with the count and mean of its counted jury scores (a score by a reviewer off the
line's review panel is kept but does not count, as on the board), fetched completely into Python.
Restricted to one group's or one agency's lines, it is the floor of a slice of scoreboard.json.

It is the least any board build has to do (read each line's chosen value once); the build adds
the pages' live flags, the agencies' names and groups, the scores themselves and the scoring
rules. Each database gets the form its planner runs best (measured; see docs/performance.md).
"""

from django.db import connection

# PostgreSQL: for each line, an index-only probe of the partial index `submission_chosen`
# (LIMIT 1 in a lateral join), then the scores of that one submission.
POSTGRES = """
SELECT l.id, s.id, s.value, s.reported_on, sc.n, sc.mean
FROM competition_commitmentline l
JOIN competition_commitmentpage c ON c.page_ptr_id = l.commitment_id
LEFT JOIN LATERAL (
    SELECT s.id, s.value, s.reported_on FROM competition_submission s
    WHERE s.line_id = l.id AND s.status = 'accepted' AND s.reported_on <= %(as_of)s
    ORDER BY s.reported_on DESC, s.decided_at DESC NULLS LAST, s.id DESC
    LIMIT 1
) s ON true
LEFT JOIN LATERAL (
    SELECT count(*) AS n, avg(j.points) AS mean FROM competition_juryscore j WHERE j.submission_id = s.id AND j.counted
) sc ON true
WHERE c.competition_id = %(competition)s{scope}
"""

# PostgreSQL, the other plan: DISTINCT ON over the competition's accepted submissions.
POSTGRES_DISTINCT_ON = """
SELECT l.id, s.id, s.value, s.reported_on, sc.n, sc.mean
FROM competition_commitmentline l
JOIN competition_commitmentpage c ON c.page_ptr_id = l.commitment_id
LEFT JOIN (
    SELECT DISTINCT ON (s.line_id) s.line_id, s.id, s.value, s.reported_on
    FROM competition_submission s
    JOIN competition_commitmentline sl ON sl.id = s.line_id
    JOIN competition_commitmentpage sc ON sc.page_ptr_id = sl.commitment_id
    WHERE sc.competition_id = %(competition)s{inner_scope} AND s.status = 'accepted' AND s.reported_on <= %(as_of)s
    ORDER BY s.line_id, s.reported_on DESC, s.decided_at DESC NULLS LAST, s.id DESC
) s ON s.line_id = l.id
LEFT JOIN LATERAL (
    SELECT count(*) AS n, avg(j.points) AS mean FROM competition_juryscore j WHERE j.submission_id = s.id AND j.counted
) sc ON true
WHERE c.competition_id = %(competition)s{scope}
"""

# SQLite (and others): a correlated subquery per line choosing the submission's key.
GENERIC = """
SELECT x.line_id, s.id, s.value, s.reported_on,
    (SELECT count(*) FROM competition_juryscore j WHERE j.submission_id = s.id AND j.counted),
    (SELECT avg(j.points) FROM competition_juryscore j WHERE j.submission_id = s.id AND j.counted)
FROM (
    SELECT l.id AS line_id, (
        SELECT s.id FROM competition_submission s
        WHERE s.line_id = l.id AND s.status = 'accepted' AND s.reported_on <= %(as_of)s
        ORDER BY s.reported_on DESC, s.decided_at DESC, s.id DESC
        LIMIT 1
    ) AS submission_id
    FROM competition_commitmentline l
    JOIN competition_commitmentpage c ON c.page_ptr_id = l.commitment_id
    WHERE c.competition_id = %(competition)s{scope}
) x
LEFT JOIN competition_submission s ON s.id = x.submission_id
"""


# The lines of a slice (scoreboard.json?group=CODE or ?agency=CODE): those of the agencies whose
# direct parent is the group, or those of the agency, on the commitment pages of alias `{alias}`.
SCOPES = {
    None: "",
    "group": " AND {alias}.agency_id IN (SELECT a.id FROM competition_agency a WHERE a.parent_id = %(scope)s)",
    "agency": " AND {alias}.agency_id = %(scope)s",
}


def floor_queries(scope=None):
    """The forms of the floor query for this database, by name: of every line of the
    competition, or (`scope` "group" or "agency") of one group's or one agency's lines."""
    if connection.vendor == "postgresql":
        forms = {"lateral": POSTGRES, "distinct_on": POSTGRES_DISTINCT_ON}
    else:
        forms = {"correlated": GENERIC}
    where = SCOPES[scope]
    return {
        name: sql.format(scope=where.format(alias="c"), inner_scope=where.format(alias="sc"))
        for name, sql in forms.items()
    }


def run_floor(competition_id, as_of, sql=None, scope_id=None):
    """Run the floor query (the first form of the whole competition unless `sql` is given);
    return its rows. `scope_id`: the group's or agency's id of a form made for a slice."""
    sql = sql or next(iter(floor_queries().values()))
    params = {"competition": competition_id, "as_of": as_of, "scope": scope_id}
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            # SQLite's driver takes named parameters as :name.
            for name in params:
                sql = sql.replace(f"%({name})s", f":{name}")
            cursor.cursor.execute(sql, {**params, "as_of": as_of.isoformat()})
            return cursor.cursor.fetchall()
        cursor.execute(sql, params)
        return cursor.fetchall()
