"""WSGI entry of the ceiling, counting SQL statements per request."""

from benchmarks.harness.querycount import application_for

application = application_for("benchmarks.ceiling.settings")
