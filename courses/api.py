"""The courses app's public door: other apps import only this module."""

from .packs.bounded_yaml import LineDict, LineList, YamlError
from .packs.bounded_yaml import loads as yaml_loads
from .packs.bounded_yaml import plain as yaml_plain
from .packs.format import SLUG_RE

__all__ = ["SLUG_RE", "LineDict", "LineList", "YamlError", "yaml_loads", "yaml_plain"]
