"""The files shipped in casebook/data/, read as strictly as a user's own files.

This module owns reading a shipped YAML file through `yamlread.Reader`: a duplicate key, an
alias, a tag or a value of the wrong kind is as much an error here as in a case file. A shipped
file is part of the program, not the user's data, so a problem raises `DataFileError` with every
diagnostic instead of being reported by `validate`. It reads nothing outside casebook/data/.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources
from typing import Any, TypeVar

from yaml.nodes import MappingNode, Node, SequenceNode

from casebook.read.yamlread import AnyKey, Reader, YamlSyntaxError, compose

T = TypeVar("T")
DataRead = Callable[[Reader, Node], T | None]


class DataFileError(ValueError):
    """A shipped data file that the strict reader refuses; the message lists every problem."""


def data_path(name: str) -> str:
    """The file's path as diagnostics name it."""
    return f"casebook/data/{name}"


def data_text(name: str) -> str:
    return resources.files("casebook").joinpath("data", name).read_text(encoding="utf-8")


def read_data(name: str, read: DataRead[T]) -> T:
    """The shipped file `name` read by `read`; raises DataFileError on any problem."""
    return read_text(data_text(name), data_path(name), read)


def read_text(text: str, path: str, read: DataRead[T]) -> T:
    """`text` read by `read` with a Reader for `path`; raises DataFileError on any problem."""
    reader = Reader(path)
    try:
        root = compose(text)
    except YamlSyntaxError as exc:
        raise DataFileError(f"{path}:{exc.line + 1}:{exc.col + 1}: error: {exc.message}") from None
    if root is None:
        raise DataFileError(f"{path}:1:1: error: the file is empty")
    _, value = reader.attempt(lambda node: read(reader, node), root)
    if reader.diagnostics or value is None:
        problems = [d.format() for d in reader.diagnostics] or [f"{path}:1:1: error: no value"]
        raise DataFileError("\n".join(problems))
    return value


def plain(reader: Reader, node: Node) -> Any:
    """Any value as text, lists and mappings of them: the reader for a file with no schema."""
    if isinstance(node, MappingNode):
        fields = reader.mapping(node, AnyKey(lambda child: plain(reader, child)), what="a mapping")
        return None if fields is None else dict(fields)
    if isinstance(node, SequenceNode):
        return list(reader.sequence(node, lambda child: plain(reader, child), what="a list"))
    return reader.text(node)
