"""The session and the signed-in user, read in one plain query each.

Every request reads both before its view runs, and through the ORM the two
took a third of the time of applying a theme: building each query costs
several times what the database takes to answer it. These are Django's
database sessions and ModelBackend, with only those two reads written out
(polls.sql); saving, expiry, logging in and out, and the check that a password
change ends other sessions are Django's own.
"""

from __future__ import annotations

from functools import cache

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.sessions.backends import db
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from polls.sql import fetch_one


class SessionStore(db.SessionStore):
    def load(self) -> dict:
        row = fetch_one(
            "SELECT session_data FROM django_session WHERE session_key = %s AND expire_date > %s",
            [self.session_key, connection.ops.adapt_datetimefield_value(timezone.now())],
        )
        if row is None:  # unknown or expired, as Django's own load() treats it
            self._session_key = None
            return {}
        return self.decode(row[0])


class UserBackend(ModelBackend):
    def get_user(self, user_id):
        model = get_user_model()
        try:
            pk = model._meta.pk.to_python(user_id)
        except ValidationError:  # a session naming no valid id: nobody
            return None
        sql, names, converters = _user_query(model)
        row = fetch_one(sql, [pk])
        if row is None:
            return None
        # Each column converted as the ORM would (SQLite keeps dates as text).
        values = [convert(v) for convert, v in zip(converters, row, strict=True)]
        user = model.from_db(connection.alias, names, values)
        return user if self.user_can_authenticate(user) else None


@cache
def _user_query(model) -> tuple[str, list[str], list]:
    fields = model._meta.concrete_fields
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    table, pk = quote(model._meta.db_table), quote(model._meta.pk.column)
    sql = f"SELECT {columns} FROM {table} WHERE {pk} = %s"
    return sql, [f.attname for f in fields], [_converter(model, f) for f in fields]


def _converter(model, field):
    column = field.get_col(model._meta.db_table)
    steps = connection.ops.get_db_converters(column) + field.get_db_converters(connection)

    def convert(value):
        for step in steps:
            value = step(value, column, connection)
        return value

    return convert
