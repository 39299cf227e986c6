"""Storage: SQLModel tables, engines and sessions, migrations and repositories."""
