"""The example project's site: settings, URLs, pages, the demo seed and the headless journey."""
