"""The report pages' jinja2 templates (package data)."""
