"""Read a YAML file the user wrote, remembering the line of every mapping key and list item.

Errors name a line because a chair fixing a motion file needs to know where to look.
Timestamps are left as text (the motion reads `closes` itself, with the committee's
timezone) and a key given twice is an error rather than PyYAML's silent "last one wins".
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from steervote.core.file_text import TextProblems as TextProblems
from steervote.core.file_text import refused_characters as refused_characters
from steervote.core.file_text import utf8_text as utf8_text
from steervote.core.yaml_words import plain_words as plain_words
from steervote.errors import MotionInvalid


class LineMap(dict[Any, Any]):
    """A YAML mapping that knows the line of each of its keys (1-based)."""

    line: int
    key_lines: dict[Any, int]
    # Each plain value as written: YAML reads `yes` as true and `1e3` as a number, and an
    # error about such a value must quote what the user wrote.
    written: dict[Any, str]

    def __init__(self, line: int) -> None:
        super().__init__()
        self.line = line
        self.key_lines = {}
        self.written = {}

    def line_of(self, key: object) -> int:
        """The line the key is written on, or the mapping's own line."""
        return self.key_lines.get(key, self.line)


class LineList(list[Any]):
    """A YAML sequence that knows the line of each of its items (1-based)."""

    line: int
    item_lines: list[int]

    def __init__(self, line: int) -> None:
        super().__init__()
        self.line = line
        self.item_lines = []

    def line_of(self, index: int) -> int:
        """The line the item starts on, or the sequence's own line."""
        return self.item_lines[index] if 0 <= index < len(self.item_lines) else self.line


# Tags a file may write: none at all, or the three a person uses to say "this is text",
# "a mapping", "a list". Any other (`!!int abc`, `!!timestamp`, `!!binary`, `!!set`, `!foo`,
# `!!python/...`) would reach PyYAML's constructors, whose errors are Python's own.
_PLAIN_TAGS = frozenset(
    {None, "!", "tag:yaml.org,2002:str", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"}
)


class LineLoader(yaml.SafeLoader):
    """A SafeLoader whose mappings and sequences record their lines; no implicit timestamps,
    no tags but !!str, !!map and !!seq."""

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        """As SafeLoader, but a node with a tag other than !!str, !!map or !!seq is an error."""
        event = self.peek_event()  # type: ignore[no-untyped-call]
        tag = getattr(event, "tag", None)
        if tag is not None and tag not in _PLAIN_TAGS:
            shown = tag.replace("tag:yaml.org,2002:", "!!")
            raise yaml.composer.ComposerError(
                None,
                None,
                f"a YAML tag ({shown}) is not read in steervote files: remove it and write "
                "the value alone (in quotes, if it is text)",
                event.start_mark,
            )
        return super().compose_node(parent, index)

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        """As SafeLoader, but a value Python cannot convert (a number of more than 4,300
        digits) is a located error, not Python's ValueError."""
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, OverflowError):
            digits = len(str(node.value)) if isinstance(node, yaml.ScalarNode) else 0
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"a number of {digits} digits is too long to read: put it in quotes if it is text",
                node.start_mark,
            ) from None

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        """As SafeLoader, but a key that appears twice is an error."""
        seen: dict[Any, int] = {}
        # Checked before merge keys (`<<: *defaults`) are flattened in: overriding a merged
        # key is what merging is for, not a duplicate.
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if isinstance(key, str | int | float | bool) or key is None:
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        None,
                        None,
                        f"{key!r} is given twice (first on line {seen[key]})",
                        key_node.start_mark,
                    )
                seen[key] = line
        return super().construct_mapping(node, deep=deep)


def _construct_map(loader: LineLoader, node: yaml.MappingNode) -> Iterator[LineMap]:
    data = LineMap(node.start_mark.line + 1)
    yield data
    data.update(loader.construct_mapping(node))
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node)
        if isinstance(key, str | int | float | bool) or key is None:
            data.key_lines.setdefault(key, key_node.start_mark.line + 1)
            if isinstance(value_node, yaml.ScalarNode):
                data.written.setdefault(key, value_node.value)


def _construct_seq(loader: LineLoader, node: yaml.SequenceNode) -> Iterator[LineList]:
    data = LineList(node.start_mark.line + 1)
    yield data
    data.extend(loader.construct_sequence(node))
    data.item_lines = [item.start_mark.line + 1 for item in node.value]


LineLoader.add_constructor("tag:yaml.org,2002:map", _construct_map)
LineLoader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)
# A subclass shares its parent's resolver table until it writes to it: copy, then drop
# timestamps so `closes: 2017-01-17 19:00` reaches the motion as the text the user wrote.
LineLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def read_yaml(path: Path, *, kind: str = "YAML file") -> object:
    """Parse one YAML document from the file; MotionInvalid (with the line) if it cannot be
    read. `kind` names the file in messages ("motion file")."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise MotionInvalid(f"{path}: no such file") from None
    except OSError as exc:
        raise MotionInvalid(f"{path}: cannot read: {exc.strerror or exc}") from None
    text = utf8_text(raw, path)
    refused = refused_characters(text, kind)
    if refused:
        raise TextProblems(path, refused)
    try:
        return yaml.load(text, Loader=LineLoader)  # noqa: S506 (LineLoader is a SafeLoader)
    except yaml.MarkedYAMLError as exc:
        line, what = plain_words(exc, text.splitlines())
        where = f"{path}:{line}" if line is not None else str(path)
        raise MotionInvalid(f"{where}: YAML syntax error: {what}") from None
    except yaml.YAMLError as exc:
        raise MotionInvalid(f"{path}: YAML syntax error: {' '.join(str(exc).split())}") from None
    except RecursionError:
        raise MotionInvalid(f"{path}: YAML syntax error: nested too deeply") from None
