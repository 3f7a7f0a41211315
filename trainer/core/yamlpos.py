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
    name_pos: dict

    def where(self, key: str) -> Pos:
        """Where the value of `key` starts (the mapping itself when the key is absent)."""
        return self.key_pos.get(key, self.pos)

    def where_key(self, key: str) -> Pos:
        """Where the key itself is written (for errors about the key, e.g. an unknown one)."""
        return getattr(self, "name_pos", {}).get(key, self.where(key))


class LList(list):
    """A list that remembers where it and each item start in the YAML source."""

    pos: Pos = (1, 1)
    item_pos: list

    def where(self, index: int) -> Pos:
        return self.item_pos[index] if 0 <= index < len(self.item_pos) else self.pos


def _pos(node: yaml.Node) -> Pos:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


#: Most nodes one file may expand to. Aliases can make a small file expand exponentially ("billion
#: laughs"); a real scenario has a few thousand nodes.
MAX_NODES = 200_000


class _Budget:
    def __init__(self, path: str):
        self.path = path
        self.count = 0
        self.active: set[int] = set()  # nodes being built, to catch an alias that contains itself
        # A constructor per load: PyYAML's keeps every node it built, and is not thread-safe.
        self.constructor = yaml.SafeLoader("")


def _build(node: yaml.Node, path: str, budget: _Budget | None = None) -> Any:
    budget = budget or _Budget(path)
    budget.count += 1
    if budget.count > MAX_NODES:
        raise ScenarioError(path, f"the file expands to more than {MAX_NODES} values (aliases?)",
                            line=_pos(node)[0], column=_pos(node)[1])
    if id(node) in budget.active:
        raise ScenarioError(path, "an alias refers to the value that contains it", line=_pos(node)[0],
                            column=_pos(node)[1])
    if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)):
        budget.active.add(id(node))
        try:
            return _build_collection(node, path, budget)
        finally:
            budget.active.discard(id(node))
    # Scalars: let PyYAML's safe constructor resolve ints, floats, bools, null.
    return budget.constructor.construct_object(node, deep=True)


def _build_collection(node: yaml.Node, path: str, budget: _Budget) -> Any:
    if isinstance(node, yaml.MappingNode):
        out = LDict()
        out.pos = _pos(node)
        out.key_pos = {}
        out.name_pos = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise ScenarioError(path, "mapping keys must be plain names", line=_pos(key_node)[0],
                                    column=_pos(key_node)[1])
            key = _build(key_node, path, budget)
            if not isinstance(key, (str, int, float, bool)) or key is None:
                raise ScenarioError(path, "mapping keys must be plain names", line=_pos(key_node)[0],
                                    column=_pos(key_node)[1])
            if key in out:
                raise ScenarioError(path, f"key '{key}' appears twice", line=_pos(key_node)[0],
                                    column=_pos(key_node)[1])
            out[key] = _build(value_node, path, budget)
            out.key_pos[key] = _pos(value_node)
            out.name_pos[key] = _pos(key_node)
        return out
    out_list = LList(_build(n, path, budget) for n in node.value)
    out_list.pos = _pos(node)
    out_list.item_pos = [_pos(n) for n in node.value]
    return out_list


def load_located(text: str, path: str) -> Any:
    """Parse YAML text into located containers; syntax errors become ScenarioError with a position."""
    try:
        # libyaml's parser when present (about ten times faster on large packs), with the same marks.
        node = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (None, None)
        problem = exc.problem or "invalid YAML"
        raise ScenarioError(path, f"YAML syntax error: {problem}", line=line, column=col) from None
    except yaml.YAMLError as exc:  # non-marked errors (e.g. bad encoding)
        raise ScenarioError(path, f"YAML error: {exc}") from None
    except RecursionError:
        raise ScenarioError(path, "the YAML nests too deeply") from None
    if node is None:
        raise ScenarioError(path, "the file is empty", line=1, column=1)
    try:
        return _build(node, path)
    except yaml.constructor.ConstructorError as exc:
        mark = exc.problem_mark
        raise ScenarioError(path, f"cannot read value: {exc.problem}",
                            line=mark.line + 1 if mark else None,
                            column=mark.column + 1 if mark else None) from None
    except (ValueError, OverflowError, TypeError) as exc:
        # PyYAML resolves e.g. 2024-13-45 as a timestamp and then fails to build the date.
        raise ScenarioError(path, f"cannot read a value: {exc}") from None
    except RecursionError:
        raise ScenarioError(path, "the YAML nests too deeply") from None
