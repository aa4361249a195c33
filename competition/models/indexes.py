"""Indexes that let the database answer the scoreboard's questions from the index alone."""

from django.db import models
from django.db.models import F, OrderBy


class CoveringIndex(models.Index):
    """An index that also carries `covering` columns, for index-only reads.

    PostgreSQL gets them as INCLUDE columns, with the key columns as declared (NULLS LAST
    included). Databases without covering indexes (SQLite) get the covering columns appended
    as key columns, which covers the read as well, and plain descending key columns: an index
    column there takes no NULLS LAST, and SQLite sorts NULL lowest, so DESC already puts nulls
    last. Declared without Django's `include`, so that no database warns it would ignore it.
    """

    def __init__(self, *expressions, covering=(), **kwargs):
        self.covering = tuple(covering)
        super().__init__(*expressions, **kwargs)

    def deconstruct(self):
        path, args, kwargs = super().deconstruct()
        if self.covering:
            kwargs["covering"] = self.covering
        return path, args, kwargs

    def _as_fields(self):
        if not self.expressions:
            return list(self.fields)
        names = []
        for expression in self.expressions:
            if isinstance(expression, OrderBy):
                names.append(("-" if expression.descending else "") + expression.expression.name)
            elif isinstance(expression, F):
                names.append(expression.name)
            else:
                raise TypeError(f"{self.name}: only fields and their ordering can be indexed here.")
        return names

    def create_sql(self, model, schema_editor, using="", **kwargs):
        if schema_editor.connection.features.supports_covering_indexes:
            options = {"condition": self.condition, "include": self.covering, "name": self.name}
            if self.expressions:
                index = models.Index(*self.expressions, **options)
            else:
                index = models.Index(fields=self.fields, **options)
        else:
            index = models.Index(fields=[*self._as_fields(), *self.covering], condition=self.condition, name=self.name)
        return index.create_sql(model, schema_editor, using=using, **kwargs)
