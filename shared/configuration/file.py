"""Reading a district file from disk, with errors that point at the line.

A district's dispatcher edits this file by hand; when it is wrong, the message
must say where (file and line) and why, and nothing of it may be applied.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from hotline.shared.domain.config import DistrictConfig
from hotline.shared.domain.location import GeometryError
from hotline.shared.domain.routing import Rules

EXAMPLE = Path(__file__).parent.parent / "examples" / "lunan.yaml"


class ConfigError(Exception):
    """A district file that cannot be used, with the place and the reason."""


def _line_of(node: yaml.Node | None, loc: tuple[int | str, ...]) -> int | None:
    """Follow a pydantic error location through the YAML node tree to a line number."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if k.value == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            node = node.value[part] if part < len(node.value) else None
        else:
            break
        if node is None:
            break
        line = node.start_mark.line + 1
    return line


def _load_geometries(data: dict[str, Any], tree: yaml.Node | None, source: str, base: Path) -> None:
    """Replace each ``geometry: file.geojson`` by the file's content, read relative to ``base``."""
    for section in ("areas", "peers"):
        items = data.get(section)
        if not isinstance(items, list):
            continue
        for index, item in enumerate(items):
            if not isinstance(item, dict) or not isinstance(item.get("geometry"), str):
                continue
            path = base / item["geometry"]
            line = _line_of(tree, (section, index, "geometry"))
            try:
                item["geometry"] = json.loads(path.read_text(encoding="utf-8"))
            except OSError as exc:
                raise ConfigError(f"{source}:{line}: cannot read {path}: {exc.strerror}") from exc
            except ValueError as exc:
                raise ConfigError(f"{source}:{line}: {path} is not JSON: {exc}") from exc


def _anchor_token_files(data: dict[str, Any], base: Path) -> None:
    """Make each peer's relative ``token_file`` relative to the district file, not to
    wherever the process happens to run. The file itself is read when a transfer is sent."""
    peers = data.get("peers")
    for peer in peers if isinstance(peers, list) else ():
        name = peer.get("token_file") if isinstance(peer, dict) else None
        if isinstance(name, str) and name and not Path(name).is_absolute():
            peer["token_file"] = str(base / name)


def parse_config(text: str, source: str = "<config>", base: Path | None = None) -> DistrictConfig:
    """Validate the text of a district file, or raise ConfigError naming line and reason.

    ``base`` is the folder that geometry file names are relative to.
    """
    try:
        data: Any = yaml.safe_load(text)
        tree = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        raise ConfigError(f"{where}: not valid YAML: {getattr(exc, 'problem', exc)}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{source}:1: a district file is a mapping (district:, units:, ...)")
    _load_geometries(data, tree, source, base or Path.cwd())
    _anchor_token_files(data, base or Path.cwd())
    try:
        config = DistrictConfig.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            line = _line_of(tree, loc)
            field = ".".join(str(p) for p in loc) or "(file)"
            msg = err["msg"].removeprefix("Value error, ")
            problems.append(f"{source}:{line}: {field}: {msg}")
        raise ConfigError("\n".join(problems)) from exc
    try:
        Rules(config)  # indexes the geometries: a broken polygon is refused here
    except GeometryError as exc:
        raise ConfigError(f"{source}: {exc}") from exc
    return config


def load_config(path: str | Path | None) -> DistrictConfig:
    """Load the district file at ``path``, or the shipped example when none is given."""
    file = Path(path) if path else EXAMPLE
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read: {exc.strerror}") from exc
    return parse_config(text, str(file), file.parent)
