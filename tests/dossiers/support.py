"""Helpers of the dossier tests."""

from __future__ import annotations


def cli_key() -> str:
    """The secret key the command line runs with (the instance's config, not the test app's):
    it keys the dossier-code hashes the command stores."""
    from survey.app import create_app

    made = create_app()
    made.extensions["sipas_engine"].dispose()
    return str(made.config["SECRET_KEY"])
