"""The README stays true: its knob table and its --describe output come from the code."""

import json
from pathlib import Path

from unmask.simulate import SimConfig, knob_table, simulate
from unmask.simulate.writers import describe
from unmask.traces import TRACES

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")


def test_every_knob_is_documented_with_its_default():
    for name, default, help_text in knob_table():
        assert f"| `{name}` | `{default}` | {help_text} |" in README, name


def test_describe_output_in_readme_is_current():
    block = README.split("`unmask simulate --describe` for the default configuration:")[1]
    block = block.split("```json\n", 1)[1].split("```", 1)[0]
    assert json.loads(block) == describe(simulate(SimConfig()))


def test_every_trace_is_in_the_readme_table():
    for name, trace in TRACES.items():
        assert f"| `{name}` |" in README and f"{int(trace.window_s)} s | {trace.min_weight} |" in README, name
