"""One-stop desks: signed links, the citizen evaluation, QR posters, bursts, retention, dossier
volumes.
"""
