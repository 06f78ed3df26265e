"""Log in with any OpenID Connect provider, found by its discovery URL (see app.py)."""
