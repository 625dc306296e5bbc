"""WSGI entry of the django-payments-sync site, counting SQL statements per request."""

from benchmarks.harness.querycount import application_for

application = application_for("benchmarks.harness.ours.settings")
