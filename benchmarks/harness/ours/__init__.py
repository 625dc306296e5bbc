"""The site that serves django-payments-sync in the benchmarks, with the settings a user writes."""
