"""A Frictionless Data Package descriptor beside a CSV export (``x.csv`` → ``x.datapackage.json``).

Tools that read Table Schema (``frictionless validate``, R's ``frictionless``, Python's
``frictionless``, Excel's Power Query through them) then know each column's type, title, the
codes an answer may take and what is missing, without the app. The schema is the codebook's
(:mod:`survey.services.data.codebook`): the same columns, labels and codes.
"""

from __future__ import annotations

import json
from pathlib import Path

from survey.services.data.codebook import DESIGN_EN, DESIGN_TYPES

_TYPES = {"integer": "integer", "number": "number", "datetime (ISO 8601, UTC)": "datetime"}


def descriptor(cols, csv_path: Path, rows: int) -> dict:  # type: ignore[no-untyped-def]
    """The Data Package for the CSV at ``csv_path`` with export columns ``cols``."""
    fields = []
    for name in cols.names:
        field: dict = {"name": name, "title": cols.labels.get(name, name)}
        if name in DESIGN_TYPES:
            field["type"] = _TYPES[DESIGN_TYPES[name]]
            if field["type"] == "datetime":
                field["format"] = "any"
        elif name in cols.numeric:
            codes = cols.value_labels.get(name)
            field["type"] = "integer" if codes or cols.measure.get(name) != "scale" \
                else "number"
            if codes:
                field["constraints"] = {"enum": sorted(codes)}
                field["description"] = "; ".join(f"{k} = {v}" for k, v in sorted(codes.items()))
            if name in cols.missing:
                field["description"] = (field.get("description", "") +
                                        f" (code {cols.missing[name]}: no answer)").strip()
        else:
            field["type"] = "string"
        if name in DESIGN_EN:
            field["description"] = DESIGN_EN[name]
        fields.append(field)
    return {
        "name": "sipas-export",
        "title": "SIPAS export",
        "resources": [{
            "name": "responses",
            "path": csv_path.name,
            "profile": "tabular-data-resource",
            "format": "csv",
            "mediatype": "text/csv",
            "encoding": "utf-8-sig",  # with a BOM, so that Excel shows Vietnamese
            "dialect": {"delimiter": ",", "lineTerminator": "\r\n", "header": True},
            "schema": {"fields": fields, "missingValues": [""]},
            "stats": {"fields": len(fields), "rows": rows},
        }],
    }


def write_descriptor(cols, csv_path: Path, rows: int) -> Path:  # type: ignore[no-untyped-def]
    """Write ``<csv stem>.datapackage.json`` beside the CSV; return its path."""
    target = csv_path.with_name(csv_path.stem + ".datapackage.json")
    target.write_text(json.dumps(descriptor(cols, csv_path, rows), ensure_ascii=False,
                                 indent=1), encoding="utf-8")
    return target
