"""Dossiers from the one-stop system: imported from its export or pushed by it (issue 17)."""
