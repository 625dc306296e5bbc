"""WSGI entry of the dj-stripe project, counting SQL statements per request."""

from benchmarks.harness.querycount import application_for

application = application_for("benchmarks.djstripe.settings")
