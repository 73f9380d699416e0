"""Business logic: plain functions that take a database session, never Flask."""
