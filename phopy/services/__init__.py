"""Plain service functions: the web pages, API, CLI and jobs all call these."""
