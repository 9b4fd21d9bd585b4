"""Links written by earlier releases keep opening the same comparison.

``tests/data/permalinks_<commit>.json`` holds, for every preset of that release, the query string
of the preset itself and the one the app wrote into the URL after loading it, and the
comparison's identity then; ``tests/data/record_permalinks.py`` records them from that release's
source tree. Each link must decode without a notice to a comparison with that identity, which
is still the preset's.
"""

from __future__ import annotations

import json
import urllib.parse
from pathlib import Path

import pytest

from optviz import comparison, config, presets
from optviz import widget_state as ws

DATA = Path(__file__).resolve().parent / "data"
RECORDS = {
    path.stem.removeprefix("permalinks_"): json.loads(path.read_text(encoding="utf-8"))
    for path in sorted(DATA.glob("permalinks_*.json"))
}
CASES = [
    (commit, name, kind)
    for commit, doc in RECORDS.items()
    for name in doc["presets"]
    for kind in ("preset_query", "app_query")
]


def test_a_release_is_recorded():
    assert "b2d6060" in RECORDS and len(RECORDS["b2d6060"]["presets"]) >= 14


@pytest.mark.parametrize(("commit", "name", "kind"), CASES)
def test_an_old_link_opens_the_same_comparison(commit, name, kind):
    record = RECORDS[commit]["presets"][name]
    c, notices = config.from_query(urllib.parse.parse_qs(record[kind], keep_blank_values=True))
    assert notices == []
    identity = tuple(urllib.parse.parse_qsl(record["identity"], keep_blank_values=True))
    assert comparison.query_key(c) == tuple(sorted(identity))
    assert comparison.query_key(c) == comparison.query_key(presets.get(name).comparison)
    # and the widgets show it: the codec reads it back unchanged, without a message
    read = ws.from_widgets(ws.to_widgets(c))
    assert read.messages == () and comparison.query_key(read.comparison) == comparison.query_key(c)
