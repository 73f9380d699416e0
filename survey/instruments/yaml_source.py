"""Reading form YAML so that every mapping remembers its line, for precise messages.

Safe loading only (no Python tags). Duplicate keys are reported instead of silently
keeping the last one, which plain PyYAML does and which hides copy-paste slips such as two
``label`` keys in one item.
"""

from __future__ import annotations

from typing import Any

import yaml


class LineDict(dict[str, Any]):
    """A YAML mapping with the 1-based line where it starts and its duplicate keys."""

    line: int | None = None
    duplicates: tuple[tuple[str, int], ...] = ()


class _FormLoader(yaml.SafeLoader):
    """SafeLoader whose mappings are :class:`LineDict`s."""


class _QuickFormLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """The same with LibYAML's parser when PyYAML has it (its wheels do): a questionnaire
    parses in 6 ms instead of 50, and every command and worker loads the forms. Its marks
    carry the same lines and the constructor is ours; only its error messages are terser
    ("found undefined alias" without the name), so a file it refuses is read again by
    :class:`_FormLoader` for the message."""


def _construct_mapping(loader: _FormLoader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    mapping = LineDict()
    mapping.line = node.start_mark.line + 1
    duplicates: list[tuple[str, int]] = []
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str):
            key = str(key)
        if key in mapping:
            duplicates.append((key, key_node.start_mark.line + 1))
        mapping[key] = loader.construct_object(value_node, deep=True)
    mapping.duplicates = tuple(duplicates)
    return mapping


for _loader in (_FormLoader, _QuickFormLoader):
    _loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


class YamlSyntaxError(ValueError):
    """The text is not YAML; carries the 1-based line of the problem."""

    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.line = line


def load_yaml(text: str) -> Any:
    """Parse form YAML; raise :class:`YamlSyntaxError` with the line on bad syntax."""
    try:
        return yaml.load(text, Loader=_QuickFormLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError:
        pass
    try:  # refused: the pure-Python parser says why in its own words
        return yaml.load(text, Loader=_FormLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or "invalid YAML"
        raise YamlSyntaxError(f"invalid YAML: {problem}", line) from None
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(f"invalid YAML: {exc}", None) from None
