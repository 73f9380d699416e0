"""The desk fixtures (a published desk form and a desk's link) for the dossier tests."""

from tests.desks.conftest import _no_shared_limiter_storage, desk_link  # noqa: F401
