"""A minimal Django project running dj-stripe 2.11 against the Stripe emulator, for comparison."""
