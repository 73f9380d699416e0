"""Paper entry: which document is keyed, keying passes, reconciliation and review, assignments,
progress.
"""
