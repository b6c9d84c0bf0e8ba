"""Trends across every run of a series: segment shares over time, customers moving between segments from one
period to the next, segments that appeared or vanished, under numbers and names that stay the same.

A series is either the runs linked by ``--baseline`` (from a run back to the first one it descends from) or the
runs made with the same ``--series NAME``. Each period is read from its run folder alone (model.json and
segments.csv, verified against the manifest), like ``reportgen compare``. A segment keeps one number over the whole
series: consecutive runs are matched as ``compare`` matches them (:func:`reportgen.archive.compare.compare_runs`), a
matched segment takes the number of its partner in the period before, and a segment without one takes its run's own
number when no segment of the series has had it yet, else the next free number. Runs made with ``--baseline`` are
numbered that way already, so their numbers are the trend's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from ..errors import ConfigError, SnapshotError
from ..model import BaselineModel, Chart, Trend, TrendFlow, TrendIdentity, TrendPeriod, TrendSegment, TrendStep
from ..report.names import segment_name, short_run
from .files import FileData, csv_bytes, json_bytes, sig
from .manifest import MANIFEST
from .runs import baseline_segments, load_baseline, read_json, read_manifest, resolve_run, run_folders


# ----------------------------------------------------------------------------- finding the runs of a series
def series_folders(root: Path, *, series: str | None = None, run: str = "latest", last: int | None = None
                   ) -> tuple[tuple[Path, ...], Literal["baseline", "series"], str]:
    """The run folders of a series, oldest first, how they are linked and the series' name: the runs under
    ``root`` made with ``--series series``, or else the chain of baselines that ends at ``run``. ``last``: only
    the latest so many."""
    if series is not None:
        folders = [f for f in run_folders(root) if _series_of(f) == series]
        if not folders:
            raise SnapshotError(f"no run in {root} belongs to the series {series!r}",
                                hint="Make the runs with 'reportgen run DATA --series NAME', or pass --output "
                                     "where they are.")
        linked: Literal["baseline", "series"] = "series"
        name = series
    else:
        end = resolve_run(run, root)
        chain = [end]
        seen = {end.resolve()}
        while (link := read_manifest(chain[-1]).get("baseline")) and isinstance(link, dict):
            previous = _linked_folder(link, root)
            if previous is None:
                raise SnapshotError(f"the baseline {link.get('run')!r} of run {chain[-1].name} is not in {root}",
                                    hint="Pass --output where the runs are, or name the runs with --series.")
            if previous.resolve() in seen:
                break
            chain.append(previous)
            seen.add(previous.resolve())
        folders = chain[::-1]
        linked, name = "baseline", end.name
    if last is not None:
        folders = folders[-last:]
    if len(folders) < 2:
        where = (f"the series {name!r} has one run" if linked == "series"
                 else f"run {name} has no --baseline to follow back")
        raise SnapshotError(f"a trend needs at least two runs, and {where}",
                            hint="Link monthly runs with 'reportgen run DATA --baseline latest', or name them with "
                                 "--series NAME.")
    return tuple(folders), linked, name


def _series_of(folder: Path) -> str | None:
    settings = (read_json(folder / MANIFEST) or {}).get("settings") or {}
    value = settings.get("series") if isinstance(settings, dict) else None
    return value if isinstance(value, str) else None


def _linked_folder(link: Mapping[str, Any], root: Path) -> Path | None:
    """The baseline a manifest names: under ``root`` by name (a copied or restored output folder follows its own
    runs), else at the folder it recorded."""
    run = str(link.get("run", ""))
    recorded = Path(str(link.get("folder", "")))
    for candidate in (root / recorded.name, root / run, recorded):
        if candidate.name and (candidate / MANIFEST).is_file() and \
                (read_json(candidate / MANIFEST) or {}).get("run") == run:
            return candidate
    return next((f for f in run_folders(root) if (read_json(f / MANIFEST) or {}).get("run") == run), None)


# ----------------------------------------------------------------------------- the trend
def build_trend(folders: Sequence[Path], *, linked_by: Literal["baseline", "series"] = "series",
                series: str = "") -> Trend:
    """The trend over the runs in ``folders`` (oldest first), from their run folders alone."""
    from .compare import compare_runs

    models = [load_baseline(folder) for folder in folders]  # each verified against its manifest
    numbering = [{n: n for n in models[0].numbers}]  # run number -> trend number, per period
    used = set(models[0].numbers)
    steps = []
    after_ids = baseline_segments(models[0])
    for i in range(1, len(models)):  # two periods' customers in memory at a time
        before, after = models[i - 1], models[i]
        before_ids, after_ids = after_ids, baseline_segments(after)
        try:
            comparison = compare_runs(before, after, before_ids=before_ids, after_ids=after_ids)
        except ConfigError as exc:
            raise ConfigError(f"runs {before.run} and {after.run} cannot be in one trend: {exc.message}",
                              hint="A trend follows runs made with the same --features; start a new --series.") \
                from exc
        mine: dict[int, int] = {}
        for change in comparison.changes:
            if change.status == "kept" and change.partner is not None:
                mine[change.number] = numbering[-1][change.partner]
        for number in after.numbers:  # largest first
            if number not in mine:
                mine[number] = number if number not in used else max(used) + 1
                used.add(mine[number])
        numbering.append(mine)
        steps.append(_step(before, after, comparison.migration, numbering[-2], mine,
                           comparison.shared_customers, comparison.entered, comparison.left))
    periods = tuple(_period(folder, model, numbers) for folder, model, numbers in zip(folders, models, numbering,
                                                                                         strict=True))
    return Trend(series=series or models[-1].run, linked_by=linked_by, features=models[-1].features,
                 periods=periods, steps=tuple(steps), segments=_identities(periods))


def _period(folder: Path, model: BaselineModel, numbers: Mapping[int, int]) -> TrendPeriod:
    manifest = read_manifest(folder)
    total = sum(model.sizes) or 1
    segments = tuple(sorted((TrendSegment(segment=numbers[n], run_segment=n, name=model.names[n], size=size,
                                          share=size / total) for n, size in zip(model.numbers, model.sizes,
                                                                                 strict=True)),
                            key=lambda s: s.segment))
    silhouette = manifest.get("silhouette")
    return TrendPeriod(run=model.run, folder=folder, created=model.created, input_name=model.input_name,
                       customers=sum(model.sizes), k=len(model.numbers),
                       silhouette=float(silhouette) if isinstance(silhouette, int | float) else None,
                       segments=segments)


def _step(before: BaselineModel, after: BaselineModel, migration: pd.DataFrame | None,
          numbers_before: Mapping[int, int], numbers_after: Mapping[int, int], shared: int, entered: int, left: int
          ) -> TrendStep:
    flows: dict[tuple[int, int], int] = {}
    if migration is not None:
        for b, row in migration.iterrows():
            for a, count in row.items():
                if count:
                    key = (numbers_before[int(b)], numbers_after[int(a)])
                    flows[key] = flows.get(key, 0) + int(count)
    ordered = tuple(TrendFlow(s, t, c) for (s, t), c in sorted(flows.items(), key=lambda item: (-item[1], item[0])))
    then, now = set(numbers_before.values()), set(numbers_after.values())
    return TrendStep(before=before.run, after=after.run, shared=shared,
                     stayed=sum(f.customers for f in ordered if f.source == f.target), entered=entered, left=left,
                     flows=ordered, appeared=tuple(sorted(now - then)), vanished=tuple(sorted(then - now)))


def _identities(periods: Sequence[TrendPeriod]) -> tuple[TrendIdentity, ...]:
    numbers = sorted({s.segment for p in periods for s in p.segments})
    out = []
    for number in numbers:
        present = [(i, s) for i, p in enumerate(periods) for s in p.segments if s.segment == number]
        names = tuple(dict.fromkeys(s.name for _, s in present))
        out.append(TrendIdentity(segment=number, name=present[-1][1].name, names=names, first=present[0][0],
                                 last=present[-1][0], shares=tuple(p.share(number) for p in periods)))
    return tuple(out)


# ----------------------------------------------------------------------------- what it says
def highlights(trend: Trend) -> tuple[str, ...]:
    """The sentences the report opens with: the biggest change in share, movement, what appeared or vanished."""
    first, last = trend.periods[0], trend.periods[-1]
    span = f"from {short_run(first.run)} to {short_run(last.run)}"
    lines = [(f"{len(trend.periods)} periods {span}: {first.customers:,} customers in {first.k} segments, then "
             f"{last.customers:,} in {last.k}.")]
    both = [s for s in trend.segments if s.shares[0] is not None and s.shares[-1] is not None]
    if both:
        grew = max(both, key=lambda s: (s.shares[-1] or 0) - (s.shares[0] or 0))
        shrank = min(both, key=lambda s: (s.shares[-1] or 0) - (s.shares[0] or 0))
        for s, verb in ((grew, "grew"), (shrank, "shrank")):
            change = (s.shares[-1] or 0) - (s.shares[0] or 0)
            if (verb == "grew" and change > 0.005) or (verb == "shrank" and change < -0.005):
                lines.append(f"Segment {s.segment} ({s.name}) {verb} from {s.shares[0]:.0%} to {s.shares[-1]:.0%} "
                             f"of the customers.")
        if len(lines) == 1:
            lines.append("No segment's share changed by more than half a percentage point.")
    for step in _told_steps(trend):
        if step.shared:
            top = step.movers[0] if step.movers else None
            text = (f"From {short_run(step.before)} to {short_run(step.after)}: {step.stayed / step.shared:.0%} of the "
                    f"{step.shared:,} customers in both stayed in their segment")
            if top is not None:
                text += (f"; the largest move was {top.customers:,} customer{'s' if top.customers != 1 else ''} "
                         f"from segment {top.source} to segment {top.target}")
            lines.append(text + ".")
    for step in trend.steps:
        for number in step.appeared:
            lines.append(f"Segment {number} ({segment_name(trend, number)}) appeared in {short_run(step.after)}.")
        for number in step.vanished:
            lines.append(f"Segment {number} ({segment_name(trend, number)}) vanished in {short_run(step.after)}.")
    return tuple(lines)


TOLD_STEPS = 3  # a longer series' summary tells of its latest step and the one that kept fewest customers


def _told_steps(trend: Trend) -> tuple[TrendStep, ...]:
    """The steps the summary tells of: all of a short series; of a longer one the latest and the one whose
    customers stayed least, oldest first (the tables and steps.csv have every step)."""
    if len(trend.steps) <= TOLD_STEPS:
        return trend.steps
    with_ids = [s for s in trend.steps if s.shared]
    if not with_ids:
        return ()
    restless = min(with_ids, key=lambda s: s.stayed / s.shared)
    return tuple(s for s in trend.steps if s is restless or s is trend.steps[-1])


# ----------------------------------------------------------------------------- its files
def trend_dict(trend: Trend) -> dict[str, Any]:
    """trend.json (and ``reportgen trend --json``)."""
    return {
        "series": trend.series, "linked_by": trend.linked_by, "features": list(trend.features),
        "periods": [{"run": p.run, "created": p.created, "input": p.input_name, "customers": p.customers, "k": p.k,
                     "silhouette": sig(p.silhouette, 6),
                     "segments": [{"segment": s.segment, "run_segment": s.run_segment, "name": s.name,
                                   "size": s.size, "share": sig(s.share, 6)} for s in p.segments]}
                    for p in trend.periods],
        "steps": [{"from": s.before, "to": s.after, "shared": s.shared, "stayed": s.stayed, "moved": s.moved,
                   "entered": s.entered, "left": s.left, "appeared": list(s.appeared), "vanished": list(s.vanished),
                   "flows": [{"from_segment": f.source, "to_segment": f.target, "customers": f.customers}
                             for f in s.flows]} for s in trend.steps],
        "segments": [{"segment": s.segment, "name": s.name, "names": list(s.names),
                      "first_run": trend.periods[s.first].run, "last_run": trend.periods[s.last].run,
                      "shares": [sig(v, 6) for v in s.shares]} for s in trend.segments],
        "highlights": list(highlights(trend)),
    }


def shares_table(trend: Trend) -> pd.DataFrame:
    """shares.csv: a row per period, a column per segment (its share; empty where it is not there)."""
    rows = [{"run": p.run, "created": p.created, "customers": p.customers, "k": p.k,
             **{f"segment {s.segment}": p.share(s.segment) for s in trend.segments}} for p in trend.periods]
    return pd.DataFrame(rows)


def flows_table(trend: Trend) -> pd.DataFrame:
    """flows.csv: every (period, segment before, segment after) with customers."""
    rows = [{"from_run": s.before, "to_run": s.after, "from_segment": f.source,
             "from_name": segment_name(trend, f.source), "to_segment": f.target,
             "to_name": segment_name(trend, f.target), "customers": f.customers,
             "moved": f.source != f.target} for s in trend.steps for f in s.flows]
    return pd.DataFrame(rows, columns=["from_run", "to_run", "from_segment", "from_name", "to_segment", "to_name",
                                       "customers", "moved"])


def steps_table(trend: Trend) -> pd.DataFrame:
    """steps.csv: per step, the customers shared, stayed, moved, entered and left; segments appeared, vanished."""
    return pd.DataFrame([{"from_run": s.before, "to_run": s.after, "shared": s.shared, "stayed": s.stayed,
                          "moved": s.moved, "entered": s.entered, "left": s.left,
                          "appeared": " ".join(map(str, s.appeared)), "vanished": " ".join(map(str, s.vanished))}
                         for s in trend.steps])


def trend_files(trend: Trend, charts: Sequence[Chart]) -> dict[str, FileData]:
    """Every file of a trend's folder except the report and the manifest."""
    return {"trend.json": json_bytes(trend_dict(trend)), "shares.csv": csv_bytes(shares_table(trend)),
            "steps.csv": csv_bytes(steps_table(trend)), "flows.csv": csv_bytes(flows_table(trend)),
            **{f"charts/{chart.name}.png": chart.png for chart in charts}}
