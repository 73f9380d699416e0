"""Design-based estimation for SIPAS: pure Python, no Flask, no database session."""
