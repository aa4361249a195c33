"""Writing many rows at once without building or compiling a model instance for each."""

from contextlib import nullcontext
from datetime import date, datetime
from uuid import UUID

from django.db import connections, router


def insert_rows(model, fields, rows, *, returning_ids=False, batch_size=2000):
    """INSERT `rows` (tuples of values in the order of `fields`, field names) into `model`'s
    table, each value prepared as its field prepares it for a save. No signals are sent. With
    `returning_ids`, return the new primary keys in the order of `rows`.

    PostgreSQL gets the rows through COPY, other databases in multi-row INSERTs. Keys:
    PostgreSQL reserves them from the table's sequence first; SQLite, which serialises
    writers and numbers new rows of an AUTOINCREMENT table upwards, gives a batch consecutive
    keys ending at last_insert_rowid()."""
    using = router.db_for_write(model)
    connection = connections[using]
    fields = [model._meta.get_field(name) for name in fields]
    pk = model._meta.pk
    postgres = connection.vendor == "postgresql"
    if returning_ids and connection.vendor not in ("postgresql", "sqlite"):
        raise NotImplementedError(f"insert_rows(returning_ids=True) on {connection.vendor}")
    rows = list(rows)
    ids = []
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    with connection.cursor() as cursor:
        if returning_ids and postgres and rows:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [model._meta.db_table, pk.column, len(rows)],
            )
            ids = [row[0] for row in cursor.fetchall()]
            fields = [pk, *fields]
            rows = [(key, *row) for key, row in zip(ids, rows, strict=True)]
        columns = ", ".join(quote(field.column) for field in fields)
        prepare = [_preparer(field, connection) for field in fields]
        if postgres:
            # COPY: no statement to build and parse for thousands of bound values (which the
            # driver's client-side binding does in Python, slower than the rows themselves).
            sql = f"COPY {table} ({columns}) FROM STDIN"
            logged = cursor.debug_sql(sql) if hasattr(cursor, "debug_sql") else nullcontext()
            with logged, cursor.cursor.copy(sql) as copy:
                for row in rows:
                    copy.write_row([prep(value) for prep, value in zip(prepare, row, strict=True)])
            return ids if returning_ids else None
        placeholders = "(" + ", ".join(["%s"] * len(fields)) + ")"
        # Many rows per statement (one round trip and one parse each), within the databases'
        # limits on parameters per statement.
        batch_size = min(batch_size, 30000 // len(fields))
        for start in range(0, len(rows), batch_size):
            batch = rows[start : start + batch_size]
            params = [prep(value) for row in batch for prep, value in zip(prepare, row, strict=True)]
            values = ", ".join([placeholders] * len(batch))
            cursor.execute(f"INSERT INTO {table} ({columns}) VALUES {values}", params)  # noqa: S608 (names from model options, values bound)  # nosec B608
            if returning_ids and not postgres:
                cursor.execute("SELECT last_insert_rowid()")
                last = cursor.fetchone()[0]
                ids.extend(range(last - len(batch) + 1, last + 1))
    return ids if returning_ids else None


# Values whose prepared form depends only on their type and value: a column repeating one of
# them (a timestamp, a user, a status) is prepared once. Decimals are not among them (1.0 and
# 1 are equal but a field may prepare them differently), nor anything mutable.
_MEMOISED = (str, int, bool, datetime, date, UUID, type(None))


def _preparer(field, connection):
    prepare = field.get_db_prep_save
    prepared = {}

    def prep(value):
        if type(value) not in _MEMOISED:
            return prepare(value, connection)
        key = (type(value), value)
        if key not in prepared:
            prepared[key] = prepare(value, connection)
        return prepared[key]

    return prep
