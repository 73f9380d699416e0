"""The household sample: frame, PPS draw, questionnaire IDs, fieldwork lists, planning, rounds,
weights.
"""
