"""The helper process draws the same charts as this process, and its death never fails a run."""

from __future__ import annotations

from pathlib import Path

from reportgen import Settings, charts
from reportgen.background import InlineRenderer, ProcessRenderer, start_renderer
from reportgen.clean import clean
from reportgen.features import choose_features
from reportgen.load import load_customers
from reportgen.pipeline import run


def _cleaned(mall_csv: Path):
    ds = load_customers(mall_csv)
    return clean(ds, features=choose_features(ds))


def test_helper_process_gives_the_same_charts(mall_csv: Path) -> None:
    cleaned = _cleaned(mall_csv)
    args = (charts.exploration_frame(cleaned), cleaned.numeric, cleaned.categorical, cleaned.features, 42)
    helper, inline = ProcessRenderer(), InlineRenderer()
    try:
        for renderer in (helper, inline):
            renderer.submit("exploration_charts", *args)
        (remote,), (local,) = helper.collect(), inline.collect()
        assert helper.alive and helper.seconds > 0
        assert [c.name for c in remote] == [c.name for c in local]
        assert [c.alt for c in remote] == [c.alt for c in local]
        assert [c.png[:8] for c in remote] == [b"\x89PNG\r\n\x1a\n"] * len(remote)
    finally:
        helper.close()


def test_a_dead_helper_is_replaced_by_this_process(mall_csv: Path) -> None:
    cleaned = _cleaned(mall_csv)
    helper = ProcessRenderer()
    try:
        helper.process.kill()
        helper.process.wait()
        helper.submit("exploration_charts", charts.exploration_frame(cleaned), cleaned.numeric,
                      cleaned.categorical, cleaned.features, 42)
        (result,) = helper.collect()
        assert not helper.alive and result[0].name == "distributions"
    finally:
        helper.close()


def test_errors_in_the_helper_come_back_as_errors() -> None:
    import pytest

    helper = ProcessRenderer()
    try:
        helper.submit("no_such_chart")
        with pytest.raises(RuntimeError, match="in the chart process: AttributeError"):
            helper.collect()
    finally:
        helper.close()


def test_one_worker_means_no_helper() -> None:
    assert isinstance(start_renderer(1), InlineRenderer)


def test_one_and_two_workers_give_the_same_run(mall_csv: Path, tmp_path: Path, now) -> None:
    results = [run(mall_csv, Settings(output=tmp_path / str(w), workers=w, formats=("html",)), now=now)
               for w in (1, 2)]
    for name in ("segments.csv", "profiles.csv", "metrics.json", "summary.json"):
        assert (results[0].folder / name).read_bytes() == (results[1].folder / name).read_bytes()
    assert [c.name for c in results[0].model.charts.values()] == [c.name for c in results[1].model.charts.values()]
