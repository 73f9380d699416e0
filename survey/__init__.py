"""SIPAS web application and services.

Kept free of Flask imports so that pure tools (the questionnaire loader, the
``sipas estimate``/``index`` commands) can import from ``survey`` without
pulling in the web stack; the app factory lives in :mod:`survey.app`.
"""

__version__ = "0.1.0"
