"""The published JSON Schema (`hotline config schema`) takes every district file the loader takes.

Editors and CI checks validate district files against it; a schema that refuses
the short forms the loader reads (``category: medical``, ``"22:00-06:00"``,
``"08:30"``, ``2h``) flags every real file, and people learn to ignore it. So
the shipped files and the README's snippets must pass it, and a wrong file
must still fail it (and the loader).
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from pydantic import BaseModel

from hotline.shared.configuration.file import ConfigError, parse_config
from hotline.shared.domain import config as config_model
from hotline.shared.domain.config import DistrictConfig
from tests.harness import HOTLINE

ROOT = Path(__file__).parents[2]
EXAMPLES = ROOT / "shared" / "examples"
EXAMPLE_FILES = sorted(EXAMPLES.glob("*.yaml"))
LUNAN = (EXAMPLES / "lunan.yaml").read_text(encoding="utf-8")


class _PlainLoader(yaml.SafeLoader):
    """YAML as a JSON Schema tool sees it: ``2026-10-01`` stays text (JSON has no dates)."""


_PlainLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _plain(text: str) -> Any:
    return yaml.load(text, Loader=_PlainLoader)  # a SafeLoader: builds no objects


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    """What the real console script prints, checked to be a valid draft 2020-12 schema."""
    run = subprocess.run(
        [HOTLINE, "config", "schema"], capture_output=True, text=True, timeout=60, check=True
    )
    printed: dict[str, Any] = json.loads(run.stdout)
    assert printed["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(printed)
    return printed


def _problems(schema: dict[str, Any], instance: Any) -> list[str]:
    validator = jsonschema.Draft202012Validator(schema)
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator.iter_errors(instance)
    ]


def _district_files() -> list[Path]:
    """The examples and every district file under deploy/ (a mapping with units)."""
    found = []
    for path in sorted((ROOT / "deploy").rglob("*.yaml")):
        documents = list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
        one = documents[0] if len(documents) == 1 else None
        if isinstance(one, dict) and {"district", "units"} <= one.keys():
            found.append(path)
    return [*EXAMPLE_FILES, *found]


def test_the_district_files_are_found() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in _district_files()}
    assert {"shared/examples/lunan.yaml", "shared/examples/chunshan.yaml"} <= names
    assert sum(n.startswith("deploy/") for n in names) >= 4, names


@pytest.mark.parametrize("path", _district_files(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_shipped_district_file_passes_the_schema(schema: dict[str, Any], path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    parse_config(text, str(path), path.parent)  # the loader takes it: so must the schema
    assert _problems(schema, _plain(text)) == []


def _without_required(schema: Any) -> Any:
    """The schema with no field required anywhere: what a fragment of a file must meet."""
    if isinstance(schema, dict):
        return {k: _without_required(v) for k, v in schema.items() if k != "required"}
    if isinstance(schema, list):
        return [_without_required(v) for v in schema]
    return schema


def _readme_snippets() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"^```yaml\n(.*?)^```", readme, flags=re.DOTALL | re.MULTILINE)


def test_the_readme_snippets_pass_the_schema(schema: dict[str, Any]) -> None:
    """Each README snippet is a fragment: every field it shows must have a shape the schema
    takes, though it leaves out fields a whole file needs, and writes ``[...]`` for a list
    the reader is sent elsewhere for."""
    snippets = _readme_snippets()
    assert len(snippets) >= 3
    fragment_schema = _without_required(schema)
    for snippet in snippets:
        data = _plain(snippet.replace("[...]", "[]"))
        assert isinstance(data, dict), snippet
        assert _problems(fragment_schema, data) == [], snippet


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        ("match: {category: medical}", "match: {category: 7}", "routes/1/match/category"),
        ("tell: unit}", "tell: everyone}", "tell"),
        ('"08:30-12:00"', '"08:30 to 12:00"', "sla/working_time/hours/0"),
        ('open: "08:30"', 'open: "8.30am"', "business_hours/open"),
        ('open: "08:30"', "open: 8:30", "business_hours/open"),  # YAML 1.1 reads 510
        ("window: 0s", "window: PT0S", "duplicates/window"),  # ISO 8601: parse_duration refuses
        # A route says continue; the model's own name for it is not a second spelling.
        ("office, continue: true}", "office, observe: true}", "routes/0"),
        ("repeat_every: 1h}", "repeat_every: -5}", "repeat_every"),
        (
            "reopen_on_dissatisfied: true",
            "reopen_on_dissatisfied: true\n  colour: red",
            "notifications",
        ),
    ],
)
def test_a_wrong_file_fails_the_schema_and_the_loader(
    schema: dict[str, Any], old: str, new: str, where: str
) -> None:
    assert old in LUNAN
    broken = LUNAN.replace(old, new, 1)
    problems = _problems(schema, _plain(broken))
    assert problems, f"the schema took {new!r}"
    assert any(where in p for p in problems), problems
    with pytest.raises(ConfigError):
        parse_config(broken, "broken.yaml", EXAMPLES)


def test_each_default_the_schema_shows_reads_back_as_itself(schema: dict[str, Any]) -> None:
    """A default copied from an editor's hint into a file means what leaving it out means."""
    smallest = {k: v for k, v in _plain(LUNAN).items() if k in schema["required"]}
    smallest["units"] = [{k: v for k, v in u.items() if k != "areas"} for u in smallest["units"]]
    shown = {k: f["default"] for k, f in schema["properties"].items() if "default" in f}
    assert {"sla", "business_hours", "duplicates"} <= set(shown)
    for key, default in shown.items():
        written = smallest | {key: default}
        assert _problems(schema, written) == [], key
        same = DistrictConfig.model_validate(written) == DistrictConfig.model_validate(smallest)
        assert same, key


def _objects(schema: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each object the schema describes, by model name: its own schema with ``properties``."""
    found = {"DistrictConfig": schema}
    for name, definition in schema["$defs"].items():
        forms = [definition, *definition.get("anyOf", [])]  # TimeWindow: text or an object
        found.update((name, form) for form in forms if "properties" in form)
    return found


def test_each_object_takes_the_names_the_loader_takes(schema: dict[str, Any]) -> None:
    """Field for field, the schema and the loader take the same keys, and one name for each:
    a route says ``continue``, and neither takes the model's own name ``observe`` for it."""
    objects = _objects(schema)
    models = {
        name: model
        for name, model in vars(config_model).items()
        if isinstance(model, type) and issubclass(model, BaseModel) and name in objects
    }
    assert {"DistrictConfig", "Route", "TimeWindow", "Hours"} <= set(models)
    assert set(models) == set(objects)
    for name, model in models.items():
        keys = {field.alias or key for key, field in model.model_fields.items()}
        assert set(objects[name]["properties"]) == keys, name
        assert objects[name].get("additionalProperties") is False, name
        assert not model.model_config.get("populate_by_name"), name
        assert not model.model_config.get("validate_by_name"), name
    assert "continue" in objects["Route"]["properties"]
