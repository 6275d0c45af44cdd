from postgres_server import postgres  # noqa: F401  (the fixture)
