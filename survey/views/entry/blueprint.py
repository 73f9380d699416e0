"""The entry blueprint, defined apart so that its route modules import it, not each other."""

from flask import Blueprint

bp = Blueprint("entry", __name__, url_prefix="/entry")
