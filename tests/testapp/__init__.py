"""A small app for tests: an organization model that can own customers, and a swapped catalog."""
