"""Can any post to the citizen's QR form (bent fields, bad CSRF, tampered desk tokens, raw
garbage bodies) cause a 500 or store an invalid evaluation?

Every example's status is checked here; the stored rows are checked once at the end by the
``province`` fixture (``assert_only_valid_responses``).
"""

from __future__ import annotations

import re
import uuid

from flask import Flask
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from survey.services.desks.form_tokens import issue_form
from tests.fuzz.conftest import Province
from tests.fuzz.strategies import bent, encoded, junk, raw_bodies, with_csrf

FIXTURES = settings(suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow, HealthCheck.data_too_large])
VALID = {"service_field": "3", "overall": "5", "on_time": "1", "staff_attitude": "4",
         "visits": "2", "posted_procedures": "9", "feedback_handling": "5",
         "comment": "Cán bộ nhiệt tình"}  # fmt: skip
EXTRA = ("contact_phone", "contact_consent")


def tampered(real: str) -> st.SearchStrategy[str]:
    """The desk's token, a character changed, cut, extended, or something else entirely."""
    head, _, tail = real.rpartition("/")
    return st.one_of(
        st.integers(min_value=0, max_value=len(tail) - 1).map(
            lambda i: f"{head}/{tail[:i]}{'A' if tail[i] != 'A' else 'B'}{tail[i + 1:]}"),
        st.integers(min_value=0, max_value=len(tail)).map(lambda i: f"{head}/{tail[:i]}"),
        st.just(real + "x"),
        st.text(st.characters(categories=("L", "N", "P")), min_size=1,
                max_size=200).map(lambda t: "/d/" + t.replace("/", "").replace("?", "")
                                  .replace("#", "") or "/d/x"),
    )


@FIXTURES
@given(data=st.data())
def test_no_citizen_post_fails_or_stores_junk(app: Flask, province: Province,
                                               data: st.DataObject) -> None:
    client = app.test_client()
    page = client.get(province.desk_path).get_data(as_text=True)
    real = re.search(r'name="form_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    iv = re.search(r'name="iv" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    foreign = issue_form(app.config["SECRET_KEY"], 2**30).token  # another desk's form
    base = {**VALID, "iv": iv,
            "dossier_code": f"H01.2025.{uuid.uuid4().hex[:8].upper()}"}
    if data.draw(st.booleans()):
        base.update(contact_phone=data.draw(st.sampled_from(["0912345678", "+84 912 345 678",
                                                             "12"])), contact_consent="yes")
    form = data.draw(bent(base, EXTRA))
    with_csrf(data.draw, form, real, foreign, field="form_token")
    path = province.desk_path
    if data.draw(st.sampled_from(["real"] * 4 + ["tampered"])) == "tampered":
        path = data.draw(tampered(province.desk_path))
    if data.draw(st.sampled_from(["form"] * 9 + ["raw"])) == "raw":
        reply = client.post(path, data=data.draw(raw_bodies),
                            content_type=data.draw(st.sampled_from([
                                "application/x-www-form-urlencoded", "multipart/form-data",
                                "multipart/form-data; boundary=x", "text/plain", "junk"])))
    else:
        reply = client.post(path, **encoded(form))
    event(f"status {reply.status_code}")
    assert reply.status_code < 500, (path, form)
    if reply.status_code == 303:
        assert "/d/thanks/" in reply.headers["Location"]


@FIXTURES
@given(query=junk, lang=st.sampled_from(["vi", "en", "fr", "", "%00"]))
def test_no_citizen_get_fails(app: Flask, province: Province, query: str, lang: str) -> None:
    reply = app.test_client().get(province.desk_path, query_string={"lang": lang, "q": query})
    assert reply.status_code == (400 if "\x00" in query + lang else 200)
