"""The PostgreSQL backend for the test suite: Django's, with a cheaper flush, and test
databases copied from one migrated template (creation.py).

A test that commits (a live server, a worker thread, a real concurrency test) is
followed by a flush of every table. Django's flush is one TRUNCATE of them all,
which gives each table new files on disk: on a database of a few rows per table
that costs about ten times as much as deleting the rows. The foreign keys Django
creates are deferred to the commit, so the order of the deletes does not matter.
"""
