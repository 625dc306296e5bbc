"""pytest plugin of django-payments-sync: fixtures host projects get by installing the library."""
