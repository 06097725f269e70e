"""Reading an import file: every line becomes an API body or a reason, numbered as in an editor."""

from __future__ import annotations

from pathlib import Path

from hotline.cli.bulk_import import Line, read_lines


def test_jsonl_lines_are_bodies_or_reasons() -> None:
    text = '{"category": "consult"}\n\nnot json\n[1, 2]\n'
    lines = list(read_lines(Path("calls.jsonl"), text))
    assert lines[0] == Line(1, {"category": "consult"})
    assert [(line.number, line.body) for line in lines[1:]] == [(3, None), (4, None)]
    assert lines[1].error is not None and lines[1].error.startswith("not JSON")
    assert lines[2].error == "not a JSON object"


def test_csv_rows_become_api_bodies() -> None:
    text = (
        "caller_name,caller_phone,lat,lon,category,description,resolved_at_intake,answer\n"
        "Lu,138,39.6,118.2,consult,Asked,yes,Explained\n"
        "Lu,138,north,118.2,consult,Asked,,\n"
    )
    good, bad = read_lines(Path("calls.csv"), text)
    assert good.body == {
        "category": "consult",
        "description": "Asked",
        "answer": "Explained",
        "caller": {"name": "Lu", "phone": "138"},
        "location": {"lat": 39.6, "lon": 118.2},
        "resolved_at_intake": True,
    }
    assert (bad.number, bad.error) == (3, "location.lat: not a number: 'north'")
