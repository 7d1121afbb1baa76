"""Test databases cloned from one migrated template, not migrated once per process.

Migrating from empty costs about twenty seconds of CPU; a parallel run used to pay it
once per worker, and the migration walk once more. Now the first process of a run
that needs a test database migrates a template (`<test name>_template_<run>`) that no
session stays connected to; every worker's database, and the walk's, is a
`CREATE DATABASE … TEMPLATE` copy of it, which PostgreSQL makes by copying files.

A PostgreSQL advisory lock (on the maintenance database) orders the processes: one
builds the template while the others wait, and no copy is taken while it is dropped.
Each worker drops the template when it destroys its own database; a worker that
comes later builds it again, so an early drop costs time, never correctness.
"""

import os
import re
import uuid
from contextlib import contextmanager, suppress

from django.conf import settings
from django.db import DatabaseError
from django.db.backends.postgresql import creation

# One run of the suite (pytest-xdist names it for all its workers), else this process.
RUN = (os.environ.get("PYTEST_XDIST_TESTRUNUID") or uuid.uuid4().hex)[:10]


class DatabaseCreation(creation.DatabaseCreation):
    template = ""  # named when the test database is first made (its name changes after)

    def template_name(self) -> str:
        if not self.template:
            worker = self._get_test_db_name()
            self.template = f"{re.sub(r'_gw[0-9]+$', '', worker)[:36]}_template_{RUN}"
        return self.template

    @contextmanager
    def _locked(self):
        key = self.template_name()
        with self._nodb_cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(hashtext(%s))", [key])
            try:
                yield cursor
            finally:
                cursor.execute("SELECT pg_advisory_unlock(hashtext(%s))", [key])

    def create_test_db(self, verbosity=1, autoclobber=False, serialize=True, keepdb=False):
        if keepdb:  # a kept database is migrated in place, as Django does
            return super().create_test_db(verbosity, autoclobber, serialize, keepdb)
        name = self._get_test_db_name()
        self.clone_of_template(name, verbosity=verbosity)
        self.connection.close()
        settings.DATABASES[self.connection.alias]["NAME"] = name
        self.connection.settings_dict["NAME"] = name
        if serialize:
            self.connection._test_serialized_contents = self.serialize_db_to_string()
        self.connection.ensure_connection()
        return name

    def clone_of_template(self, name: str, verbosity: int = 0) -> None:
        """Make the database `name` (replacing one of that name) as a copy of the template."""
        template = self.template_name()
        with self._locked() as cursor:
            if not self._database_exists(cursor, template):
                self._template_build(template, verbosity)
            cursor.execute(f"DROP DATABASE IF EXISTS {self._quote_name(name)} WITH (FORCE)")
            cursor.execute(
                f"CREATE DATABASE {self._quote_name(name)} TEMPLATE {self._quote_name(template)}"
            )

    def _template_build(self, template: str, verbosity: int) -> None:
        test = self.connection.settings_dict["TEST"]
        kept_name, kept_test_name = self.connection.settings_dict["NAME"], test.get("NAME")
        test["NAME"] = template
        try:
            super().create_test_db(verbosity, autoclobber=True, serialize=False)
        finally:
            self.connection.close()  # a template takes no copy while a session is on it
            test["NAME"] = kept_test_name
            settings.DATABASES[self.connection.alias]["NAME"] = kept_name
            self.connection.settings_dict["NAME"] = kept_name

    def destroy_test_db(self, old_database_name=None, verbosity=1, keepdb=False, suffix=None):
        super().destroy_test_db(old_database_name, verbosity, keepdb, suffix)
        if keepdb or suffix:
            return
        # Still in use by another process of the run: that one drops it.
        with self._locked() as cursor, suppress(DatabaseError):
            cursor.execute(f"DROP DATABASE IF EXISTS {self._quote_name(self.template_name())}")
