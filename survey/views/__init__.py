"""Blueprints: thin views that validate, call a service, commit and redirect."""
