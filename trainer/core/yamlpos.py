"""YAML loading that keeps line and column numbers, so every scenario error can point at the source.

`load_located(text, path)` returns plain dicts/lists/scalars where each dict and list is a `LDict` /
`LList` remembering its own position and the positions of its keys' values. Positions are 1-based.
"""

from __future__ import annotations

from typing import Any

import yaml

from trainer.core.errors import ScenarioError

Pos = tuple[int, int]


class LDict(dict):
    """A dict that remembers where it and each of its values start in the YAML source."""

    pos: Pos = (1, 1)
    key_pos: dict

    def where(self, key: str) -> Pos:
        return self.key_pos.get(key, self.pos)


class LList(list):
    """A list that remembers where it and each item start in the YAML source."""

    pos: Pos = (1, 1)
    item_pos: list

    def where(self, index: int) -> Pos:
        return self.item_pos[index] if 0 <= index < len(self.item_pos) else self.pos


def _pos(node: yaml.Node) -> Pos:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


def _build(node: yaml.Node, path: str) -> Any:
    if isinstance(node, yaml.MappingNode):
        out = LDict()
        out.pos = _pos(node)
        out.key_pos = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise ScenarioError(path, "mapping keys must be plain names", line=_pos(key_node)[0],
                                    column=_pos(key_node)[1])
            key = _build(key_node, path)
            if key in out:
                raise ScenarioError(path, f"key '{key}' appears twice", line=_pos(key_node)[0],
                                    column=_pos(key_node)[1])
            out[key] = _build(value_node, path)
            out.key_pos[key] = _pos(value_node)
        return out
    if isinstance(node, yaml.SequenceNode):
        out_list = LList(_build(n, path) for n in node.value)
        out_list.pos = _pos(node)
        out_list.item_pos = [_pos(n) for n in node.value]
        return out_list
    # Scalars: let PyYAML's safe constructor resolve ints, floats, bools, null.
    return _construct_scalar(node)


_scalar_loader = yaml.SafeLoader("")


def _construct_scalar(node: yaml.ScalarNode) -> Any:
    return _scalar_loader.construct_object(node, deep=True)


def load_located(text: str, path: str) -> Any:
    """Parse YAML text into located containers; syntax errors become ScenarioError with a position."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (None, None)
        problem = exc.problem or "invalid YAML"
        raise ScenarioError(path, f"YAML syntax error: {problem}", line=line, column=col) from None
    except yaml.YAMLError as exc:  # non-marked errors (e.g. bad encoding)
        raise ScenarioError(path, f"YAML error: {exc}") from None
    if node is None:
        raise ScenarioError(path, "the file is empty", line=1, column=1)
    try:
        return _build(node, path)
    except yaml.constructor.ConstructorError as exc:
        mark = exc.problem_mark
        raise ScenarioError(path, f"cannot read value: {exc.problem}",
                            line=mark.line + 1 if mark else None,
                            column=mark.column + 1 if mark else None) from None
