"""The office console's HTTP layer: sessions, CSRF, security headers, templates and static files."""
