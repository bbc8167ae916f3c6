"""Browser pages served by the same app: see routes.py."""
