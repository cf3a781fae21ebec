"""Django's PostgreSQL backend, its connection checked without a round trip (``base.DatabaseWrapper``)."""
