"""Audit actions as a person reads them ("Công bố đợt khảo sát", not "round.publish")."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

ACTION_NAMES = {
    "assignment.hamlet": _l("Hamlet assigned"),
    "assignment.range": _l("Questionnaire range assigned"),
    "assignment.range_removed": _l("Questionnaire range taken back"),
    "contacts.purge": _l("Old contact details deleted"),
    "desk.add": _l("Desk added"),
    "desk.contacts_export": _l("Contact details exported"),
    "desk.disable": _l("Desk stopped taking evaluations"),
    "desk.enable": _l("Desk taking evaluations again"),
    "desk.rotate": _l("New QR code issued"),
    "desk.edit": _l("Desk changed"),
    "edit_answer": _l("Answer corrected"),
    "evaluation.release": _l("Held evaluations released"),
    "evaluation.reject": _l("Held evaluations rejected"),
    "export": _l("Data exported"),
    "frame.import": _l("Frame imported"),
    "password_change": _l("Password changed"),
    "password_reset": _l("Password reset"),
    "reconcile": _l("Double keying reconciled"),
    "review_status": _l("Review status changed"),
    "hq_accept": _l("Accepted by the ministry"),
    "hq_return": _l("Sent back by the ministry"),
    "round.create": _l("Round created"),
    "round.publish": _l("Round published"),
    "sample.draw": _l("Sample drawn"),
    "sample.listed": _l("Listing counts entered"),
    "sessions_revoke": _l("Signed out everywhere"),
    "user.enable": _l("Account enabled"),
    "user_enable": _l("Account enabled"),
    "user.disable": _l("Account disabled"),
    "user_disable": _l("Account disabled"),
    "user_add": _l("Account added"),
    "user.role": _l("Role changed"),
    "tallies_rebuild": _l("Desk evaluation counts rebuilt"),
    "volumes_import": _l("Dossier volumes imported"),
    "weights.compute": _l("Weights computed"),
}


def action_name(action: str) -> str:
    return str(ACTION_NAMES.get(action, action))
