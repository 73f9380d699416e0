"""Does every route declare who may use it (roles_required or public)?"""

from __future__ import annotations

from flask import Flask


def test_every_route_declares_its_roles(app: Flask) -> None:
    undeclared = sorted(
        rule.rule
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        and not hasattr(app.view_functions[rule.endpoint], "allowed_roles")
    )
    assert undeclared == [], f"routes without @roles_required or @public: {undeclared}"
