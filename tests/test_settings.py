from __future__ import annotations

from pathlib import Path

import pytest

from reportgen.errors import ConfigError
from reportgen.settings import Settings, find_config, resolve_settings


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "reportgen.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults() -> None:
    s = resolve_settings()
    assert s == Settings()
    assert (s.k_min, s.k_max, s.scale, s.seed, s.formats) == (2, 10, None, 42, ("html", "pdf"))  # None: standard


def test_config_then_flags(tmp_path: Path) -> None:
    config = write(tmp_path, '[run]\nk_range = "3-6"\nscale = "minmax"\nseed = 7\nfeatures = ["Age", "Income"]\n'
                             'output = "runs"\n[report]\ntitle = "Q1"\nlogo = "logo.png"\n')
    s = resolve_settings(config=config, flags={"seed": 9, "scale": None}, cwd=Path("/somewhere"))
    assert (s.k_min, s.k_max, s.scale, s.seed, s.title) == (3, 6, "minmax", 9, "Q1")
    assert s.features == ("Age", "Income")
    assert s.output == tmp_path / "runs" and s.logo == tmp_path / "logo.png"  # relative to the config file
    flagged = resolve_settings(config=config, flags={"output": "mine"}, cwd=Path("/cwd"))
    assert flagged.output == Path("/cwd/mine")  # flags are relative to the working folder


def test_fixed_k_widens_the_range() -> None:
    s = resolve_settings(flags={"k": 12})
    assert (s.k, s.k_min, s.k_max) == (12, 2, 12)


@pytest.mark.parametrize("text, message", [
    ("[run]\nscael = 'none'\n", "unknown key 'scael' in \\[run\\]"),
    ("[runn]\n", "unknown section \\[runn\\]"),
    ("[run]\nscale = 'zscore'\n", "scale = 'zscore' in reportgen.toml \\[run\\] is not valid"),
    ("[run]\nk_range = '9-3'\n", "k_range"),
    ("[run]\nk = 1\n", "between 2 and 50"),
    ("[report]\naccent = 'blue'\n", "colour"),
    ("[run\n", "not valid TOML"),
])
def test_bad_config(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        resolve_settings(config=write(tmp_path, text))


def test_bad_flags_name_the_flag() -> None:
    with pytest.raises(ConfigError, match="--k-range '10-2' is not valid"):
        resolve_settings(flags={"k_range": "10-2"})
    with pytest.raises(ConfigError, match="--format 'docx'"):
        resolve_settings(flags={"formats": "docx"})


def test_find_config(tmp_path: Path) -> None:
    assert find_config(tmp_path) is None
    write(tmp_path, "")
    assert find_config(tmp_path) == tmp_path / "reportgen.toml"


def test_settings_are_json_ready() -> None:
    import json

    assert json.loads(json.dumps(Settings(output=Path("x")).to_dict()))["output"] == "x"


def test_settings_built_in_a_notebook_are_checked_like_flags(tmp_path: Path) -> None:
    from reportgen.plan import plan_run as validate

    with pytest.raises(ConfigError, match="scale = 'log' in Settings is not valid: expected one of standard"):
        validate(Settings(scale="log", output=tmp_path))  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="k_min = 8 is above k_max = 3"):
        validate(Settings(k_min=8, k_max=3, output=tmp_path))
    with pytest.raises(ConfigError, match="--assign-only needs a baseline"):
        validate(Settings(assign_only=True, output=tmp_path))
    plan = validate(Settings(scale="MinMax", output=tmp_path))  # choices are case-insensitive, as on the command line
    assert plan.settings.scale == "minmax" and plan.scaling == "minmax" and plan.baseline is None


def test_a_rules_file_and_a_template_folder_are_checked_before_the_data_is_read(tmp_path: Path) -> None:
    from reportgen.plan import plan_run as validate

    (tmp_path / "bad-rules.toml").write_text("[[rules]]\nid = 'x'\n", encoding="utf-8")
    (tmp_path / "junk.csv").write_bytes(bytes(range(256)))  # reading it would fail: the rules fail first
    with pytest.raises(ConfigError, match=r"bad-rules.toml rule 1 \(x\): needs persona"):
        validate(Settings(rules=tmp_path / "bad-rules.toml", output=tmp_path), tmp_path / "junk.csv")
    with pytest.raises(ConfigError, match="template folder not found"):
        validate(Settings(templates=tmp_path / "nowhere", output=tmp_path), tmp_path / "junk.csv")


def test_every_algorithm_and_engine_has_its_table_entry() -> None:
    from typing import get_args

    from reportgen.engines import ENGINES
    from reportgen.segmentation.algorithms import ALGORITHMS
    from reportgen.settings import AlgorithmName, EngineName

    assert set(get_args(AlgorithmName)) == set(ALGORITHMS)
    assert set(get_args(EngineName)) == set(ENGINES)
