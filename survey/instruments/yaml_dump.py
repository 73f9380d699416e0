"""A loaded instrument written back as form YAML, in one canonical layout.

Two files that describe the same questionnaire (one with section ``defaults`` and flow
mappings, one spelled out item by item) load into equal instruments but read differently;
their canonical YAML is the same text. The XLSForm import writes its forms in this layout,
and the round-trip tests compare forms through it.
"""

from __future__ import annotations

from typing import Any

import yaml

from survey.instruments.schema import Choice, Instrument, Item, Section, Text


def own_relevant(item: Item, section: Section) -> str | None:
    """The item's own skip condition, without the section's that the loader joined to it.

    The loader stores ``(section) and (own)`` on each item, so that a screen evaluates one
    expression; a file (or an XLSForm column) must carry the two parts apart again.
    """
    combined, outer = item.relevant_text, section.relevant_text
    if outer is None or combined is None:
        return combined
    if combined == outer:
        return None
    prefix = f"({outer}) and ("
    if combined.startswith(prefix) and combined.endswith(")"):
        return combined[len(prefix):-1]
    return combined


class _Flow(dict[str, Any]):
    """A mapping written on one line (``{vi: …, en: …}``), as forms/ writes short ones."""


class _FlowList(list[Any]):
    """A list written on one line (``[4, 5]``)."""


FLOW_WIDTH = 90  # longer texts are written as block mappings, one language a line


def _flow(data: dict[str, Any]) -> dict[str, Any]:
    return _Flow(data) if len(repr(data)) <= FLOW_WIDTH else data


def _text(text: Text | None) -> dict[str, str] | None:
    return _flow(dict(text)) if text else None


def _choices(choices: tuple[Choice, ...]) -> list[dict[str, Any]]:
    return [_flow({"code": choice.code, "label": _text(choice.label)}) for choice in choices]


def _put(data: dict[str, Any], key: str, value: Any) -> None:
    """Set ``key`` only when it says something: absent keys keep the file short."""
    empty = isinstance(value, list | tuple | dict) and not value
    if value is not None and value is not False and not empty:
        data[key] = value


def item_data(item: Item, section: Section, form: Instrument) -> dict[str, Any]:
    """One item as the mapping a form file holds (every key written out, no defaults)."""
    data: dict[str, Any] = {"code": item.code, "type": item.type, "label": _text(item.label)}
    _put(data, "hint", _text(item.hint))
    if item.type in ("select_one", "select_multiple"):
        data["choices"] = item.choice_list or _choices(item.choices)
    _put(data, "required", item.required)
    _put(data, "relevant", own_relevant(item, section))
    _put(data, "constraint", item.constraint_text)
    _put(data, "constraint_message", _text(item.constraint_message))
    _put(data, "min", item.min)
    _put(data, "max", item.max)
    _put(data, "element", item.element)
    _put(data, "na_allowed", item.na_allowed)
    if item.na_allowed and item.missing_code != form.missing_code:
        data["missing_code"] = item.missing_code
    return data


def section_data(section: Section, form: Instrument) -> dict[str, Any]:
    data: dict[str, Any] = {"code": section.code, "title": _text(section.title)}
    _put(data, "description", _text(section.description))
    _put(data, "relevant", section.relevant_text)
    data["items"] = [item_data(item, section, form) for item in section.items]
    return data


def instrument_data(form: Instrument) -> dict[str, Any]:
    """The instrument as the mapping a form file holds, keys in the order forms/ uses."""
    data: dict[str, Any] = {"code": form.code, "version": form.version, "kind": form.kind,
                            "languages": _FlowList(form.languages), "title": _text(form.title)}
    _put(data, "description", _text(form.description))
    if form.scale:
        data["scale"] = _choices(form.scale)
        data["satisfied_codes"] = _FlowList(form.satisfied_codes)
        data["dissatisfied_codes"] = _FlowList(form.dissatisfied_codes)
    data["missing_code"] = form.missing_code
    _put(data, "missing_label", _text(form.missing_label))
    _put(data, "elements", [_flow({"code": e.code, "label": _text(e.label)})
                              for e in form.elements])
    _put(data, "choice_lists", {name: _choices(choices)
                                for name, choices in form.choice_lists.items()})
    data["sections"] = [section_data(section, form) for section in form.sections]
    return data


class _Dumper(yaml.SafeDumper):
    """SafeDumper that writes :class:`_Flow` and :class:`_FlowList` on one line."""


_Dumper.add_representer(_Flow, lambda dumper, data: dumper.represent_mapping(
    "tag:yaml.org,2002:map", data.items(), flow_style=True))
_Dumper.add_representer(_FlowList, lambda dumper, data: dumper.represent_sequence(
    "tag:yaml.org,2002:seq", data, flow_style=True))


def instrument_yaml(form: Instrument) -> str:
    """The canonical form YAML of ``form`` (UTF-8 text, Vietnamese unescaped)."""
    return yaml.dump(instrument_data(form), Dumper=_Dumper, allow_unicode=True,
                     sort_keys=False, width=100, default_flow_style=False)
