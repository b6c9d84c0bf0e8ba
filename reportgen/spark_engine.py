"""The Spark engine (``--engine spark``): the stages that touch every row, on Spark.

Load (CSV or Parquet), clean, scale, the k sweep (Spark MLlib KMeans with k-means|| initialisation, silhouette
from Spark's ``ClusteringEvaluator``), the final fit and the profiles run on Spark; the result is the same
dataclasses as the pandas engine produces, with the cleaned table replaced by a fixed-seed sample pulled to the
driver for the charts. Everything after that (names, personas, charts, report, run folder) is shared.

Needs ``pip install 'reportgen[spark]'`` and Java 17+ (``apt-get install openjdk-17-jre-headless``).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .clean import MARKERS, MISSING_LABEL, ROLE_NOTES, Account, usable_features, valid_range
from .cluster import canonical_numbers, check_k_range, explain_choice, find_elbow, renumber, sample_rows
from .compare import check_features, stable_numbers
from .errors import ConfigError, InputError
from .features import choose_features
from .load import infer_roles, looks_like_id_name
from .model import (
    Analysis,
    BaselineModel,
    CleaningAccount,
    CleanResult,
    Dataset,
    FeatureMatrix,
    KCandidate,
    KSelection,
    Profiles,
    Scaler,
    Segmentation,
    SegmentProfile,
    Source,
)
from .profiles import level_of

DRIVER_SAMPLE = 20_000  # rows pulled to the driver for the charts and the per-customer silhouettes
ROW = "__reportgen_row"
SEGMENT = "__reportgen_segment"


def session(master: str):
    """A Spark session (quiet, no UI). Raises :class:`ConfigError` when PySpark or Java is missing."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise ConfigError("--engine spark needs PySpark", hint="pip install 'reportgen[spark]'") from exc
    os.environ.setdefault("PYSPARK_PYTHON", os.environ.get("PYSPARK_PYTHON", "python3"))
    try:
        spark = (SparkSession.builder.master(master).appName("reportgen")
                 .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "8")
                 # Spark 4 turns ANSI mode on: a cast of "abc" to double would fail the job, where cleaning
                 # wants NULL (and reports the value as not a number), as Spark 3 does
                 .config("spark.sql.ansi.enabled", "false")
                 .config("spark.driver.memory", os.environ.get("REPORTGEN_SPARK_DRIVER_MEMORY", "2g"))
                 .getOrCreate())
    except Exception as exc:  # Java missing or too old: py4j raises its own types
        raise ConfigError(f"cannot start Spark ({master}): {str(exc).splitlines()[0] if str(exc) else exc!r}",
                          hint="Spark needs Java 17 or newer: apt-get install openjdk-17-jre-headless.") from exc
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def _read(spark, path: Path):
    from pyspark.sql import functions as F

    if not path.is_file():
        raise InputError(f"no such file: {path}", hint="Check the path and the file name.")
    with path.open("rb") as handle:
        head = handle.read(4096)
    if not head.strip():
        raise InputError(f"{path.name} is empty", hint="Pass a table with a header row and one row per customer.")
    if head[:4] == b"PAR1":
        frame = spark.read.parquet(str(path))
        frame = frame.select([F.col(c).cast("string").alias(c) for c in frame.columns])
    else:
        text = head.decode("utf-8", errors="replace")
        first = text.splitlines()[0] if text.splitlines() else ""
        delimiter = max((",", "\t", ";", "|"), key=first.count)
        # values keep their spaces, as with the pandas engine: cleaning strips them and says so
        frame = (spark.read.option("header", True).option("sep", delimiter).option("inferSchema", False)
                 .option("ignoreLeadingWhiteSpace", False).option("ignoreTrailingWhiteSpace", False)
                 .csv(str(path)))
    renamed = frame.toDF(*[c.strip() for c in frame.columns])
    return _numbered(renamed)


def _numbered(frame):
    """``frame`` with ROW: the 1-based data row number, as the pandas engine numbers rows (in segments.csv and
    cleaning.csv). monotonically_increasing_id alone jumps between partitions (the partition number sits in its
    upper bits); one count per partition turns it into consecutive numbers without leaving the JVM."""
    from pyspark.sql import functions as F

    tagged = frame.withColumn("__part", F.spark_partition_id()).withColumn("__id", F.monotonically_increasing_id())
    counts = dict(tagged.groupBy("__part").count().collect())
    offsets, total = [], 0
    for part in sorted(counts):
        offsets += [F.lit(part), F.lit(total)]
        total += counts[part]
    start = F.create_map(*offsets)[F.col("__part")] if offsets else F.lit(0)
    in_part = F.col("__id").bitwiseAND((1 << 33) - 1)
    return tagged.withColumn(ROW, start + in_part + 1).drop("__part", "__id")


def _driver_frame(rows: list, columns: list[str]) -> pd.DataFrame:
    """Rows collected from Spark as a pandas frame, read like the pandas engine reads a CSV (types inferred)."""
    import io

    frame = pd.DataFrame([list(r) for r in rows], columns=columns, dtype=object)
    return pd.read_csv(io.StringIO(frame.to_csv(index=False)), keep_default_na=False, na_values=[""],
                       dtype={c: "string" for c in columns if looks_like_id_name(c)} or None)


def analyse(path: Path, settings, *, progress: Callable[[str], None], baseline: BaselineModel | None = None,
            scale_method: str = "standard") -> Analysis:
    """Load, clean, scale, sweep k, fit and profile on Spark. With a ``baseline``: its features, segment numbers
    and names for matched segments (as the pandas engine), or with ``settings.assign_only`` its scaling and
    centroids, every customer assigned to the nearest, without re-clustering."""
    from pyspark.ml.clustering import KMeans
    from pyspark.ml.evaluation import ClusteringEvaluator
    from pyspark.ml.feature import VectorAssembler
    from pyspark.sql import functions as F

    progress(f"Starting Spark ({settings.spark_master})")
    spark = session(settings.spark_master)
    raw = _read(spark, Path(path)).cache()
    columns = [c for c in raw.columns if c != ROW]
    rows_in = raw.count()
    if rows_in == 0:
        raise InputError(f"{Path(path).name} has a header row but no data rows",
                         hint="Add one row per customer below the header.")
    head = raw.limit(DRIVER_SAMPLE).collect()
    probe = _driver_frame([r[:-1] for r in head], columns)
    roles = {info.name: info for info in infer_roles(probe)}
    source = Source(name=Path(path).name, path=str(Path(path).resolve()), size=Path(path).stat().st_size,
                    sha256=_sha256(Path(path)), format="parquet" if str(path).endswith(".parquet") else "csv")
    probe_dataset = Dataset(frame=probe, source=source, columns=tuple(roles.values()))
    features = (check_features(baseline, settings.features, probe_dataset) if baseline is not None
                else choose_features(probe_dataset, settings.features))
    numeric = tuple(dict.fromkeys([*features, *(c for c, i in roles.items() if i.role == "numeric")]))
    categorical = tuple(c for c, i in roles.items() if i.role == "categorical" and c not in features)
    id_column = next((c for c, i in roles.items() if i.role == "id"), None)

    progress(f"Cleaning {rows_in:,} rows on Spark")
    frame, usable, account, log = _clean(raw, columns=columns, numeric=numeric, categorical=categorical,
                                         features=tuple(features), id_column=id_column, missing=settings.missing,
                                         rows_in=rows_in, roles=roles)
    rows_out = account.rows_out

    progress("Scaling the features on Spark")
    moments = frame.agg(*[F.avg(F.col(f"`{f}`")).alias(f"m{i}") for i, f in enumerate(usable)],
                        *[F.stddev_pop(F.col(f"`{f}`")).alias(f"s{i}") for i, f in enumerate(usable)],
                        *[F.min(F.col(f"`{f}`")).alias(f"lo{i}") for i, f in enumerate(usable)],
                        *[F.max(F.col(f"`{f}`")).alias(f"hi{i}") for i, f in enumerate(usable)]).collect()[0]
    method = scale_method
    assign_only = baseline is not None and settings.assign_only
    if assign_only:
        if list(usable) != list(baseline.features):
            raise InputError(f"the baseline's feature columns cannot all be used here ({', '.join(usable)} are)",
                             hint="Check the cleaning account, or run without --assign-only.")
        center, scale = list(baseline.scaler.center), list(baseline.scaler.scale)
    elif method == "standard":
        center = [float(moments[f"m{i}"]) for i in range(len(usable))]
        scale = [float(moments[f"s{i}"]) or 1.0 for i in range(len(usable))]
    elif method == "minmax":
        center = [float(moments[f"lo{i}"]) for i in range(len(usable))]
        scale = [float(moments[f"hi{i}"] - moments[f"lo{i}"]) or 1.0 for i in range(len(usable))]
    else:
        center, scale = [0.0] * len(usable), [1.0] * len(usable)
    scaler = baseline.scaler if assign_only else Scaler(method=method, center=tuple(center), scale=tuple(scale))
    scaled_cols = [f"__x{i}" for i in range(len(usable))]
    for i, feature in enumerate(usable):
        frame = frame.withColumn(scaled_cols[i], (F.col(f"`{feature}`") - center[i]) / scale[i])
    vectors = VectorAssembler(inputCols=scaled_cols, outputCol="features").transform(frame).cache()

    fraction = min(1.0, DRIVER_SAMPLE / max(rows_out, 1) * 1.2)
    sample_rows_ = vectors.sample(False, fraction, seed=settings.seed).orderBy(ROW).limit(DRIVER_SAMPLE)
    sample_pdf = _driver_frame(sample_rows_.select(ROW, *columns).collect(), [ROW, *columns])
    sample_pdf.index = pd.Index(sample_pdf.pop(ROW).astype(np.int64), name="row")
    X_sample = (sample_pdf[usable].to_numpy(dtype=float) - np.asarray(center)) / np.asarray(scale)
    sample_matrix = FeatureMatrix(X=X_sample, names=tuple(usable), rows=sample_pdf.index.to_numpy(), scaler=scaler)
    if assign_only:
        return _assigned(vectors, sample_pdf, sample_matrix, baseline, settings, progress=progress,
                         id_column=id_column, numeric=numeric, categorical=categorical,
                         usable=usable, account=account, log=log, source=source, roles=roles)
    low, high = check_k_range(sample_matrix, k_min=settings.k_min, k_max=settings.k_max, fixed_k=settings.k)

    progress(f"Trying k = {low}..{high} with Spark MLlib KMeans")
    evaluator = ClusteringEvaluator(featuresCol="features", predictionCol="prediction", metricName="silhouette")
    from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score

    candidates, models = [], {}
    for k in range(low, high + 1):
        model = KMeans(k=k, seed=settings.seed, initMode="k-means||", featuresCol="features", maxIter=50,
                       tol=1e-6).fit(vectors)
        predictions = model.transform(vectors)
        silhouette = float(evaluator.evaluate(predictions))
        centers = np.array(model.clusterCenters())
        sample_labels = ((X_sample[:, None, :] - centers[None]) ** 2).sum(axis=2).argmin(axis=1)
        several = 1 < len(np.unique(sample_labels)) < len(X_sample)
        candidates.append(KCandidate(
            k=k, inertia=float(model.summary.trainingCost), silhouette=silhouette,
            davies_bouldin=float(davies_bouldin_score(X_sample, sample_labels)) if several else float("nan"),
            calinski_harabasz=float(calinski_harabasz_score(X_sample, sample_labels)) if several else float("nan")))
        models[k] = model
    elbow = find_elbow([c.k for c in candidates], [c.inertia for c in candidates])
    best = max(candidates, key=lambda c: (np.nan_to_num(c.silhouette, nan=-2.0), -c.k))
    chosen = settings.k or best.k
    method_name = "fixed" if settings.k else "silhouette"
    selection = KSelection(
        candidates=tuple(candidates), elbow_k=elbow, silhouette_k=best.k, chosen_k=chosen, method=method_name,
        reason=explain_choice(chosen, best, elbow, method=method_name, k_range=(low, high))
        + " (Spark MLlib KMeans with k-means|| initialisation; silhouettes from Spark's ClusteringEvaluator, "
          "which uses squared Euclidean distances.)",
        silhouette_sample_size=None, n_init=1)

    progress(f"Fitting {chosen} segments on Spark")
    model = models[chosen]
    predictions = model.transform(vectors).withColumnRenamed("prediction", SEGMENT).cache()
    counts = dict(predictions.groupBy(SEGMENT).count().collect())
    raw_centers = np.array(model.clusterCenters())
    sizes_raw = np.array([counts.get(j, 0) for j in range(chosen)])
    labels_raw = np.repeat(np.arange(chosen), sizes_raw)  # canonical_numbers needs only the sizes
    numbers = canonical_numbers(labels_raw, raw_centers)
    order = np.argsort(numbers)
    centroids = raw_centers[order]
    number_of = F.create_map(*[x for j in range(chosen) for x in (F.lit(j), F.lit(int(numbers[j])))])
    predictions = predictions.withColumn(SEGMENT, number_of[F.col(SEGMENT)])
    sample_labels = numbers[((X_sample[:, None, :] - raw_centers[None]) ** 2).sum(axis=2).argmin(axis=1)]

    from sklearn.metrics import silhouette_samples

    picked = sample_rows(len(X_sample), settings.silhouette_sample, settings.seed)
    Xs, ls = (X_sample, sample_labels) if picked is None else (X_sample[picked], sample_labels[picked])
    per_row = silhouette_samples(Xs, ls) if 1 < len(np.unique(ls)) < len(ls) else np.zeros(len(ls))
    chosen_candidate = next(c for c in candidates if c.k == chosen)
    segmentation = Segmentation(
        k=chosen, labels=sample_labels, centroids=centroids,
        centroids_original=centroids * np.asarray(scale) + np.asarray(center),
        sizes=tuple(int(sizes_raw[order][i]) for i in range(chosen)), inertia=chosen_candidate.inertia,
        silhouette=chosen_candidate.silhouette, davies_bouldin=chosen_candidate.davies_bouldin,
        calinski_harabasz=chosen_candidate.calinski_harabasz, silhouette_sample_size=None,
        sample_silhouettes=per_row, sample_labels=ls, seed=settings.seed, n_init=1)

    statuses: dict[int, str] = {}
    if baseline is not None:  # keep the baseline's segment numbers (and so its names) for matched segments
        mapping, statuses = stable_numbers(baseline, segmentation)
        segmentation = renumber(segmentation, mapping)
        stable = F.create_map(*[F.lit(x) for pair in mapping.items() for x in pair])
        predictions = predictions.withColumn(SEGMENT, stable[F.col(SEGMENT)])
    return _finish(predictions, vectors, sample_pdf, sample_matrix, selection, segmentation, statuses,
                   progress=progress, id_column=id_column, numeric=numeric, categorical=categorical, usable=usable,
                   account=account, log=log, source=source, roles=roles)


def _finish(predictions, vectors, sample_pdf, sample_matrix, selection, segmentation, statuses, *, progress,
            id_column, numeric, categorical, usable, account, log, source, roles) -> Analysis:
    """Profiles (Spark aggregations) and every customer's segment, gathered into an :class:`Analysis`."""
    from pyspark.sql import functions as F

    progress("Profiling the segments on Spark")
    profiled = [*usable, *(c for c in numeric if c not in usable)]
    profiles, summary = _profiles(predictions, segmentation, profiled, usable, categorical, account.rows_out)
    key = id_column or ROW
    segments = predictions.select(F.col(f"`{key}`").alias("key"), F.col(ROW), F.col(SEGMENT)).orderBy(ROW)
    table = pd.DataFrame([tuple(r) for r in segments.toLocalIterator()], columns=["key", ROW, "segment"])
    table = table.drop(columns=[ROW]).rename(columns={"key": id_column or "row"})
    cleaned = CleanResult(frame=sample_pdf, id_column=id_column, features=tuple(usable), numeric=tuple(profiled),
                          categorical=categorical, account=account, log=log)
    dataset = Dataset(frame=sample_pdf, source=source, columns=tuple(roles.values()))
    with contextlib.suppress(Exception):
        vectors.unpersist()
        predictions.unpersist()
    return Analysis(dataset=dataset, cleaned=cleaned, matrix=sample_matrix, selection=selection,
                    segmentation=segmentation, statuses=statuses, profiles=profiles, segments=table,
                    summary=summary)


def _assigned(vectors, sample_pdf, sample_matrix, baseline: BaselineModel, settings, *, progress, **rest
              ) -> Analysis:
    """--assign-only on Spark: every customer goes to the nearest of the baseline's centroids (in its scaled
    space); the silhouette comes from Spark's ClusteringEvaluator, as in a Spark run that clusters."""
    from pyspark.ml.evaluation import ClusteringEvaluator
    from pyspark.sql import functions as F
    from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_samples

    from .snapshot import baseline_selection

    numbers = tuple(baseline.numbers)
    progress(f"Assigning customers to the {len(numbers)} baseline segments on Spark")
    scaled = [F.col(f"__x{i}") for i in range(len(baseline.features))]
    distances = [sum(((x - float(c)) ** 2 for x, c in zip(scaled, centre, strict=True)), F.lit(0.0))
                 for centre in baseline.centroids]
    nearest = F.least(*distances) if len(distances) > 1 else distances[0]
    label = F.when(distances[0] == nearest, numbers[0])
    for number, distance in zip(numbers[1:], distances[1:], strict=True):
        label = label.when(distance == nearest, number)
    predictions = vectors.withColumn(SEGMENT, label).withColumn("__d2", nearest).cache()
    counts = dict(predictions.groupBy(SEGMENT).count().collect())
    inertia = float(predictions.agg(F.sum("__d2")).collect()[0][0] or 0.0)
    several = len([n for n in numbers if counts.get(n)]) > 1
    silhouette = (float(ClusteringEvaluator(featuresCol="features", predictionCol=SEGMENT,
                                            metricName="silhouette").evaluate(predictions))
                  if several else float("nan"))
    X = sample_matrix.X
    labels = np.asarray(numbers)[((X[:, None, :] - baseline.centroids[None]) ** 2).sum(axis=2).argmin(axis=1)]
    picked = sample_rows(len(X), settings.silhouette_sample, settings.seed)
    Xs, ls = (X, labels) if picked is None else (X[picked], labels[picked])
    varied = 1 < len(np.unique(labels)) < len(X)
    segmentation = Segmentation(
        k=len(numbers), labels=labels, centroids=baseline.centroids, centroids_original=baseline.centroids_original,
        sizes=tuple(int(counts.get(n, 0)) for n in numbers), inertia=inertia, silhouette=silhouette,
        davies_bouldin=float(davies_bouldin_score(X, labels)) if varied else float("nan"),
        calinski_harabasz=float(calinski_harabasz_score(X, labels)) if varied else float("nan"),
        silhouette_sample_size=None,
        sample_silhouettes=silhouette_samples(Xs, ls) if 1 < len(np.unique(ls)) < len(ls) else np.zeros(len(ls)),
        sample_labels=ls, seed=settings.seed, n_init=1, numbers=numbers)
    return _finish(predictions, vectors, sample_pdf, sample_matrix, baseline_selection(baseline), segmentation,
                   dict.fromkeys(numbers, "kept"), progress=progress, **rest)


# ----------------------------------------------------------------------------- cleaning on Spark
def _collect_flagged(frame, checks: list[tuple[str, Any, Any]]) -> dict[str, list[tuple[int, Any]]]:
    """For every (key, condition, value expression): the (row, value) pairs where the condition holds, from one
    Spark job (a union of filters), in row order."""
    from pyspark.sql import functions as F

    parts = [frame.filter(condition).select(F.col(ROW).alias("row"), F.lit(key).alias("key"),
                                            value.cast("string").alias("value"))
             for key, condition, value in checks]
    found: dict[str, list[tuple[int, Any]]] = {key: [] for key, _, _ in checks}
    if not parts:
        return found
    union = parts[0]
    for part in parts[1:]:
        union = union.unionByName(part)
    for row in union.collect():
        found[row["key"]].append((int(row["row"]), row["value"]))
    for pairs in found.values():
        pairs.sort(key=lambda pair: pair[0])
    return found


def _log(account: Account, pairs: list[tuple[int, Any]], step: str, column: str | None, action: str, reason: str,
         *, show: str | None = "text", examples: tuple[str, ...] | None = None) -> None:
    """One step of the account from collected (row, value) pairs, as the pandas engine writes it."""
    rows = pd.Index([row for row, _ in pairs], dtype=np.int64)
    values = None
    if show == "number":
        values = pd.Series([float(v) for _, v in pairs], index=rows, dtype=float)
    elif show == "text":
        values = pd.Series([v for _, v in pairs], index=rows, dtype=object)
    account.add(step, column, rows, action, reason, values, examples=examples)


def _spellings(frame, column: str) -> dict[str, str]:
    """Each stripped spelling of a categorical column -> the most common spelling that differs only by case
    (ties: the first seen), as the pandas engine unifies them."""
    from pyspark.sql import functions as F

    counts = (frame.filter(F.col(column).isNotNull())
              .groupBy(F.trim(F.col(column)).alias("value"))
              .agg(F.count("*").alias("n"), F.min(ROW).alias("first")).collect())
    canonical: dict[str, str] = {}
    for row in sorted(counts, key=lambda r: (-r["n"], r["first"])):
        canonical.setdefault(row["value"].casefold(), row["value"])
    return {row["value"]: canonical[row["value"].casefold()] for row in counts if row["value"] != ""}


def _clean(raw, *, columns: list[str], numeric: tuple[str, ...], categorical: tuple[str, ...],
           features: tuple[str, ...], id_column: str | None, missing: str, rows_in: int, roles: dict):
    """The pandas engine's cleaning (reportgen.clean), step for step, on Spark: the same steps, counts, reasons
    and per-row log. Returns (cleaned Spark frame, usable features, CleaningAccount, log)."""
    from pyspark.sql import functions as F
    from pyspark.sql.window import Window

    account = Account()
    col = {c: F.col(f"`{c}`") for c in columns}
    frame = raw.withColumn("__empty", F.lit(True))
    for c in columns:
        frame = frame.withColumn("__empty", F.col("__empty") & col[c].isNull())
    checks: list[tuple[str, Any, Any]] = [("empty", F.col("__empty"), F.lit(None))]
    row_steps: list[tuple[str, tuple]] = [("empty", ("empty_rows", None, "dropped rows",
                                                      "every value in the row is missing", None))]
    for i, c in enumerate(numeric):
        text = F.trim(col[c])
        marker = F.lower(text).isin(list(MARKERS))
        kept = F.when(marker, None).otherwise(col[c])
        stripped = F.regexp_replace(F.trim(kept), r"[\s$€£¥%]", "")
        for _ in range(3):
            stripped = F.regexp_replace(stripped, r"([0-9])[,']([0-9]{3})\b", "$1$2")
        parsed = F.regexp_replace(stripped, r"^(-?[0-9]+),([0-9]+)$", "$1.$2").cast("double")
        plain = F.trim(kept).cast("double")
        infinite = parsed.isin(float("inf"), float("-inf"))
        number = F.when(infinite, None).otherwise(parsed)
        frame = (frame.withColumn(f"__mk{i}", col[c].isNotNull() & marker)
                 .withColumn(f"__cv{i}", kept.isNotNull() & plain.isNull() & parsed.isNotNull())
                 .withColumn(f"__nn{i}", kept.isNotNull() & parsed.isNull())
                 .withColumn(f"__inf{i}", infinite.isNotNull() & infinite)
                 .withColumn(f"__num{i}", number))
        checks += [(f"mk{i}", F.col(f"__mk{i}"), col[c]), (f"cv{i}", F.col(f"__cv{i}"), col[c]),
                   (f"nn{i}", F.col(f"__nn{i}"), col[c]), (f"inf{i}", F.col(f"__inf{i}"), parsed)]
        row_steps += [
            (f"mk{i}", ("missing_marker", c, "set to missing", "text that stands for a missing value", "text")),
            (f"cv{i}", ("numbers_as_text", c, "converted to numbers",
                        "numbers written as text (spaces, thousands separators, currency or % signs)", "text")),
            (f"nn{i}", ("not_a_number", c, "set to missing", "not a number", "text")),
            (f"inf{i}", ("infinite", c, "set to missing", "infinite value", "number"))]
        limits = valid_range(c)
        if limits is not None:
            low, high, why = limits
            outside = (F.col(f"__num{i}") < low) | (F.col(f"__num{i}") > high)
            frame = frame.withColumn(f"__im{i}", outside.isNotNull() & outside)
            checks.append((f"im{i}", F.col(f"__im{i}"), F.col(f"__num{i}")))
            row_steps.append((f"im{i}", ("impossible_value", c, "set to missing", why, "number")))
            frame = frame.withColumn(f"__val{i}", F.when(F.col(f"__im{i}"), None).otherwise(F.col(f"__num{i}")))
        else:
            frame = frame.withColumn(f"__val{i}", F.col(f"__num{i}"))
    for i, c in enumerate(categorical):
        marker = col[c].isNotNull() & F.lower(F.trim(col[c])).isin(list(MARKERS))
        kept = F.when(marker, None).otherwise(col[c])
        spellings = _spellings(raw.withColumn(c, kept), c)
        mapping = F.create_map(*[F.lit(x) for pair in spellings.items() for x in pair]) if spellings else None
        unified = mapping[F.trim(kept)] if mapping is not None else F.lit(None).cast("string")
        frame = (frame.withColumn(f"__cmk{i}", marker)
                 .withColumn(f"__sp{i}", kept.isNotNull() & unified.isNotNull() & (unified != kept))
                 .withColumn(f"__mc{i}", unified.isNull())
                 .withColumn(f"__cat{i}", F.coalesce(unified, F.lit(MISSING_LABEL))))
        checks += [(f"cmk{i}", F.col(f"__cmk{i}"), col[c]), (f"sp{i}", F.col(f"__sp{i}"), col[c]),
                   (f"mc{i}", F.col(f"__mc{i}"), F.lit(None))]
        row_steps += [
            (f"cmk{i}", ("missing_marker", c, "set to missing", "text that stands for a missing value", "text")),
            (f"sp{i}", ("spelling", c, "unified spelling", "the same category written with other case or spaces",
                        "text")),
            (f"mc{i}", ("missing_category", c, f"labelled {MISSING_LABEL}",
                        "missing category (kept, shown as its own group)", None))]
    frame = frame.cache()
    # the value checks do not apply to empty rows (they are dropped first)
    found = _collect_flagged(frame, [(k, cond & ~F.col("__empty") if k != "empty" else cond, v)
                                     for k, cond, v in checks])
    for key, (step, column, action, reason, show) in row_steps:  # the pandas engine's order
        _log(account, found[key], step, column, action, reason, show=show)

    frame = frame.filter(~F.col("__empty"))
    for i, c in enumerate(numeric):
        frame = frame.withColumn(c, F.col(f"__val{i}"))
    for i, c in enumerate(categorical):
        frame = frame.withColumn(c, F.col(f"__cat{i}"))
    frame = frame.select(*[col[c] for c in columns], F.col(ROW)).cache()

    everything = Window.partitionBy(*[col[c] for c in columns]).orderBy(ROW)
    frame = frame.withColumn("__copy", F.row_number().over(everything) > 1).cache()
    _log(account, _collect_flagged(frame, [("dup", F.col("__copy"), F.lit(None))])["dup"], "duplicate_rows", None,
         "dropped rows", "exact copy of an earlier row", show=None)
    frame = frame.filter(~F.col("__copy")).drop("__copy")
    if id_column is not None:
        first = Window.partitionBy(col[id_column]).orderBy(ROW)
        frame = frame.withColumn("__dupid", col[id_column].isNotNull() & (F.row_number().over(first) > 1)).cache()
        found = _collect_flagged(frame, [("dupid", F.col("__dupid"), col[id_column]),
                                         ("noid", col[id_column].isNull(), F.lit(None))])
        _log(account, found["dupid"], "duplicate_ids", id_column, "dropped rows",
             "the ID was already used by an earlier row (the first one is kept)")
        _log(account, found["noid"], "missing_ids", id_column, "kept",
             "no customer ID (the row is kept; its ID is blank in segments.csv)", show=None)
        frame = frame.filter(~F.col("__dupid")).drop("__dupid")

    stats = frame.agg(*[F.countDistinct(col[f]).alias(f"d{i}") for i, f in enumerate(features)],
                      *[F.first(col[f], ignorenulls=True).alias(f"v{i}") for i, f in enumerate(features)]
                      ).collect()[0]
    usable, unusable = usable_features(account, {
        f: (int(stats[f"d{i}"]), None if stats[f"v{i}"] is None else float(stats[f"v{i}"]))
        for i, f in enumerate(features)})
    gaps = _collect_flagged(frame, [(f"gap{i}", col[f].isNull(), F.lit(None)) for i, f in enumerate(usable)])
    if missing == "drop":
        for i, feature in enumerate(usable):
            _log(account, gaps[f"gap{i}"], "missing_value", feature, "dropped rows",
                 "missing value in a feature column (--missing drop)", show=None)
        for feature in usable:
            frame = frame.filter(col[feature].isNotNull())
    else:
        present = [f for i, f in enumerate(usable) if gaps[f"gap{i}"]]
        medians = dict(zip(present, frame.approxQuantile(present, [0.5], 0.0001), strict=True)) if present else {}
        for i, feature in enumerate(usable):
            if feature not in medians or not medians[feature]:
                continue
            median = float(medians[feature][0])
            _log(account, gaps[f"gap{i}"], "missing_value", feature, "imputed median",
                 f"missing value in a feature column, replaced by the median {median:g} (--missing median)",
                 show=None, examples=(f"{median:g}",))
            frame = frame.fillna({feature: median})
    frame = frame.cache()
    rows_out = frame.count()
    excluded = tuple((c, unusable.get(c) or ROLE_NOTES[roles[c].role]) for c in columns if c not in usable)
    acct = CleaningAccount(rows_in=rows_in, rows_out=rows_out, missing_policy=missing,  # type: ignore[arg-type]
                           steps=tuple(account.steps), excluded_columns=excluded)
    return frame, usable, acct, account.log()


def _profiles(predictions, seg: Segmentation, numeric: list[str], features: list[str], categorical: tuple[str, ...],
              total: int) -> tuple[Profiles, tuple[dict[str, Any], ...]]:
    from pyspark.sql import functions as F

    overall = predictions.agg(
        *[F.avg(F.col(f"`{c}`")).alias(f"mean{i}") for i, c in enumerate(numeric)],
        *[F.stddev_pop(F.col(f"`{c}`")).alias(f"std{i}") for i, c in enumerate(numeric)],
        *[F.count(F.col(f"`{c}`")).alias(f"n{i}") for i, c in enumerate(numeric)],
        *[F.min(F.col(f"`{c}`")).alias(f"min{i}") for i, c in enumerate(numeric)],
        *[F.max(F.col(f"`{c}`")).alias(f"max{i}") for i, c in enumerate(numeric)],
        *[F.percentile_approx(F.col(f"`{c}`"), [0.25, 0.5, 0.75], 10000).alias(f"q{i}")
          for i, c in enumerate(numeric)]).collect()[0]
    grouped = {r[SEGMENT]: r for r in predictions.groupBy(SEGMENT).agg(
        *[F.avg(F.col(f"`{c}`")).alias(f"mean{i}") for i, c in enumerate(numeric)],
        *[F.percentile_approx(F.col(f"`{c}`"), 0.5, 10000).alias(f"median{i}") for i, c in enumerate(numeric)]
    ).collect()}
    mixes: dict[str, dict[int, dict[str, float]]] = {}
    overall_mix: dict[str, dict[str, float]] = {}
    for column in categorical:
        counts = predictions.groupBy(SEGMENT, F.col(f"`{column}`").alias("value")).count().collect()
        per: dict[int, dict[str, int]] = {}
        for row in counts:
            per.setdefault(row[SEGMENT], {})[str(row["value"])] = row["count"]
        mixes[column] = {s: _shares(v) for s, v in per.items()}
        totals: dict[str, int] = {}
        for values in per.values():
            for value, count in values.items():
                totals[value] = totals.get(value, 0) + count
        overall_mix[column] = _shares(totals)
    overall_mean = {c: _f(overall[f"mean{i}"]) for i, c in enumerate(numeric)}
    overall_std = {c: _f(overall[f"std{i}"]) for i, c in enumerate(numeric)}
    segments = []
    for number, size in zip(seg.numbers, seg.sizes, strict=True):
        row = grouped.get(number)
        means = {c: _f(row[f"mean{i}"]) if row else float("nan") for i, c in enumerate(numeric)}
        z = {c: (means[c] - overall_mean[c]) / overall_std[c] if overall_std[c] else 0.0 for c in numeric}
        segments.append(SegmentProfile(
            segment=number, size=size, share=size / total if total else 0.0, means=means,
            medians={c: _f(row[f"median{i}"]) if row else float("nan") for i, c in enumerate(numeric)}, z=z,
            levels={c: level_of(z[c]) for c in numeric},
            categories={c: mixes[c].get(number, {}) for c in categorical}))
    profiles = Profiles(segments=tuple(segments), features=tuple(features), numeric=tuple(numeric),
                        categorical=categorical, overall_means=overall_mean,
                        overall_medians={c: _f(overall[f"q{i}"][1]) for i, c in enumerate(numeric)},
                        overall_std=overall_std, overall_categories=overall_mix, total=total)
    summary = tuple({"name": c, "feature": c in features, "count": int(overall[f"n{i}"]),
                     "missing": total - int(overall[f"n{i}"]), "mean": overall_mean[c], "std": overall_std[c],
                     "min": _f(overall[f"min{i}"]), "q1": _f(overall[f"q{i}"][0]), "median": _f(overall[f"q{i}"][1]),
                     "q3": _f(overall[f"q{i}"][2]), "max": _f(overall[f"max{i}"])} for i, c in enumerate(numeric))
    return profiles, summary


def _shares(counts: dict[str, int]) -> dict[str, float]:
    total = sum(counts.values())
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return {k: v / total for k, v in ordered} if total else {}


def _f(value: Any) -> float:
    return float("nan") if value is None else float(value)


def _sha256(path: Path) -> str:
    from .snapshot import sha256_file

    return sha256_file(path)
