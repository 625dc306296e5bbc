"""Browser tests: the example project driven through Debian's Chromium with Playwright."""
