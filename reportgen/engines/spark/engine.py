"""The Spark engine (``--engine spark``): the stages that touch every row, on Spark. Only what Spark does
differently lives here.

* read: Spark reads the CSV or Parquet file (the same reader choice and CSV sniffer as the pandas engine); the
  lines that do not fit the header are found in a pass over the text lines (:func:`misfit_lines`) and left out,
  as the pandas engine skips them; the roles are inferred on the first rows, pulled to the driver.
* clean: the value steps of ``cleaning.steps.CLEANING_STEPS`` run as they are, on each batch of rows (``mapInPandas``);
  the table steps (empty and duplicate rows, duplicate IDs, unusable features, missing values) are Spark
  implementations of the same entries, with the same actions and reasons. A fixed-seed sample of the cleaned rows
  comes to the driver, for the charts and the per-customer silhouettes.
* prepare: the moments in one aggregation, the shared scaler.
* cluster: Spark MLlib KMeans (k-means|| initialisation), silhouettes from Spark's ``ClusteringEvaluator``; the
  shared choice rule and Segmentation.
* profile: Spark aggregations into the shared profile builder.

Needs ``pip install 'reportgen[spark]'`` and Java 17+ (``apt-get install openjdk-17-jre-headless``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ...cleaning.account import (
    Account,
    check_malformed_share,
    finish,
    plan_columns,
)
from ...cleaning.steps import (
    NO,
    YES,
    ValueStepPlan,
    indicators,
    known_of,
    plan_value_steps,
    split_steps,
    table_key,
    value_step_batch,
)
from ...errors import ConfigError, InputError
from ...inputs.base import Reader, sha256_file
from ...inputs.readers import READERS, choose_reader, labels
from ...inputs.roles import infer_roles
from ...inputs.text import TextFormat, decode_head, sniff_text
from ...inputs.transactions import detect
from ...model import (
    BaselineModel,
    CategoricalEncoding,
    CleanResult,
    Dataset,
    FeatureMatrix,
    FeatureTreatment,
    KSelection,
    MissingPolicy,
    Profiles,
    Scaler,
    Scaling,
    Segmentation,
    Source,
    SummaryRow,
)
from ...segmentation.algorithms import nearest
from ...segmentation.cluster import ASSIGNED, canonical_numbers, check_k_range, segmentation_of, sweep_inits, sweep_k
from ...segmentation.features import (
    QUANTILES,
    FeatureStats,
    apply_scaler,
    clip_bounds,
    plan_treatment,
    scaler_from_moments,
    treatments_of,
)
from ...settings import Settings
from ...values import ValueCounts, decide_numbers
from ..base import Input, Progress, Runner, decimal_of, here
from .cleaning import SPARK_TABLE_STEPS, SparkCleaning, collect_found, found_rows
from .describe import as_float, profile_segments, summary_rows
from .session import (
    DRIVER_SAMPLE,
    ROW,
    SEGMENT,
    SPARK_ENCODINGS,
    as_pandas_reads,
    column_of,
    misfit_lines,
    numbered,
    session,
)

SPARK_INITS = 3  # Spark's KMeans starts once; the final fit is the best of this many starts (seeds seed, seed + 1...)
NOTE = (f"The final fit is Spark MLlib KMeans over every customer, with k-means|| initialisation, the best of "
        f"{SPARK_INITS} starts. The silhouette is computed as with the pandas engine (Euclidean distances, on a "
        "fixed-seed sample of the customers the driver holds); Spark's own ClusteringEvaluator figure, which uses "
        "squared distances and so reads higher, is in metrics.json as spark_silhouette.")
SPARK_SILHOUETTE = "spark_silhouette"  # Spark's ClusteringEvaluator silhouette (squared distances): an extra
MAX_ITER, TOL = 50, 1e-6
DESCRIPTION = (f"K-means (Spark MLlib, k-means|| initialisation, the best of {SPARK_INITS} starts, at most 50 "
               "iterations, random seeds {seed} and up)")


# ----------------------------------------------------------------------------- the engine
class SparkEngine:
    """The stages on Spark. One instance per run: it holds the run's Spark frames between the stages (the
    dataclasses it returns carry driver-side samples)."""

    name = "spark"

    def __init__(self, settings: Settings, progress: Progress) -> None:
        self.settings = settings
        self.progress = progress
        self.spark: Any = None
        self.raw: Any = None  # the input, with ROW
        self.cleaned: Any = None  # the cleaned rows
        self.vectors: Any = None  # the cleaned rows with their scaled features (__x0..) and a "features" vector
        self.models: dict[int, Any] = {}
        self.silhouettes: dict[int, float] = {}  # Spark's own silhouette of each k fitted
        self.customers = 0  # the cleaned rows (the driver holds a sample of them)
        self.labelled: tuple[tuple[int, ...], bytes, Any] | None = None

    def _session(self) -> Any:
        if self.spark is None:
            self.progress(f"Starting Spark ({self.settings.spark_master})")
            self.spark = session(self.settings.spark_master)
        return self.spark

    # -- read
    def read(self, source: Input, *, name: str | None = None) -> Dataset:
        assert isinstance(source, Path)  # the plan refuses standard input and databases for Spark
        path = source
        with path.open("rb") as handle:
            head = handle.read(65536)
        if not head.strip():
            raise InputError(f"{path.name} is empty", hint="Pass a table with a header row and one row per customer.")
        reader = choose_reader(head, path.name)
        frame, encoding, delimiter, malformed, texts = self._load(path, head, reader)
        written = {c.strip().lstrip("\ufeff"): c.lstrip("\ufeff") for c in frame.columns
                   if c.strip().lstrip("\ufeff") != c.lstrip("\ufeff") and c.strip()}
        self.raw = numbered(frame.toDF(*[c.strip().lstrip("\ufeff") for c in frame.columns])).cache()
        columns = [c for c in self.raw.columns if c != ROW]
        rows = self.raw.count()
        if rows == 0 and malformed:
            line, why = malformed[0]
            raise InputError(f"{path.name}: none of its {len(malformed):,} data lines fits the header (line {line}: "
                             f"{why})", hint="Check the delimiter and the quoting; a first column without a name in "
                                             "the header (an index column) makes every line one field longer.")
        if rows == 0:
            raise InputError(f"{path.name} has a header row but no data rows",
                             hint="Add one row per customer below the header.")
        probe = as_pandas_reads([r[:-1] for r in self.raw.limit(DRIVER_SAMPLE).collect()], columns)
        probe.index = pd.RangeIndex(1, len(probe) + 1, name="row")
        numbers = decide_numbers(probe[[c for c in probe.columns if texts is None or c in texts]], name=path.name,
                                 delimiter=delimiter, decimal=decimal_of(self.settings))
        facts = Source(name=path.name, path=str(path.resolve()), size=path.stat().st_size,
                       sha256=sha256_file(path), format=reader.name, encoding=encoding, delimiter=delimiter,
                       numbers=numbers, written_names=written)
        if self.settings.transactions != "no" and detect(probe) is not None:
            raise ConfigError(f"{path.name} is a transaction log; turning it into customers runs on the pandas "
                              "engine only", hint="Run without --engine spark, or pass --transactions no.")
        return Dataset(frame=probe, source=facts, columns=infer_roles(probe, numbers=numbers), rows=rows,
                       malformed_lines=malformed)

    def _load(self, path: Path, head: bytes, reader: Reader
              ) -> tuple[Any, str | None, str | None, tuple[tuple[int, str], ...], set[str] | None]:
        """The file as a Spark frame of text columns, its encoding and delimiter (a text table's), the lines that do
        not fit the header, and the columns that hold text (None: every one)."""
        spark = self._session()
        encoding = delimiter = None
        malformed: tuple[tuple[int, str], ...] = ()
        texts: set[str] | None = None  # the columns that hold text (of a CSV: every one)
        if reader.spark is None:
            readable = labels(tuple(r for r in READERS if r.spark is not None))
            raise ConfigError(f"--engine spark reads {readable}; {path.name} is {reader.label}",
                              hint="Convert it to Parquet, or use the default engine.")
        if reader.delimited:
            text, encoding = decode_head(head)
            fmt = sniff_text(text, encoding, path.name)
            delimiter = fmt.delimiter
            # values keep their spaces, as with the pandas engine: cleaning strips them and says so
            # a quote inside a quoted value is doubled ("the ""best"" one"), as pandas and the csv module read it
            frame = (spark.read.format(reader.spark).option("header", True).option("sep", delimiter)
                     .option("inferSchema", False).option("escape", '"')
                     .option("encoding", SPARK_ENCODINGS.get(encoding, "UTF-8"))
                     .option("ignoreLeadingWhiteSpace", False).option("ignoreTrailingWhiteSpace", False)
                     .load(str(path)))
            if not encoding.startswith("utf-16"):  # Spark's text reader splits UTF-8 and Latin-1 lines alike
                frame, malformed = self._without_misfits(frame, path, fmt)
        else:
            frame = spark.read.format(reader.spark).load(str(path))
            if reader.typed:  # its text columns are text; its numbers are numbers, written as text here
                texts = {f.name.strip().lstrip("\ufeff") for f in frame.schema.fields
                         if f.dataType.typeName() == "string"}
            frame = frame.select([column_of(c).cast("string").alias(c) for c in frame.columns])
        return frame, encoding, delimiter, malformed, texts

    def _without_misfits(self, frame: Any, path: Path, fmt: TextFormat) -> tuple[Any, tuple[tuple[int, str], ...]]:
        """The CSV records without those that do not fit the header (Spark pads a short line with nulls and cuts a
        long one), and those lines, as the pandas engine skips and lists them; more of them than ``--max-drop``
        of the lines refuses the file, as there."""
        from pyspark.sql import functions as F

        found = misfit_lines(self._session(), path, fmt.delimiter, fmt.header).cache()
        count = found.count()
        if not count:
            return frame, ()
        total = frame.count()
        if count < total:
            first = found.orderBy("line").first()
            check_malformed_share(count, (int(first["line"]), str(first["why"])), total - count,
                                  self.settings.max_drop, path.name)
        lines = tuple((int(r["line"]), str(r["why"])) for r in found.orderBy("line").collect())
        rows = numbered(frame)
        # a broadcast anti-join keeps the file's partitions and their order, which the row numbering counts on
        kept = rows.join(F.broadcast(found.select(F.col("record").alias(ROW))), ROW, "left_anti")
        return kept.drop(ROW), lines

    # -- clean
    def clean(self, dataset: Dataset, *, features: tuple[str, ...], missing: MissingPolicy, max_drop: float
              ) -> CleanResult:
        columns = [c for c in self.raw.columns if c != ROW]
        plan = plan_columns(dataset.columns, features)
        state = SparkCleaning(frame=self.raw, account=Account(), id_column=plan.id_column, features=features,
                              columns=columns, max_drop=max_drop, malformed=dataset.malformed_lines)
        before, values, after = split_steps()
        for entry in before:
            SPARK_TABLE_STEPS[table_key(entry)](state, entry)
        value_plan = plan_value_steps(plan.numeric, plan.categorical, lambda c: self._value_counts(state.frame, c),
                                      values, known=known_of(dataset))
        state.frame, kept = self._run_value_steps(state, value_plan, numeric=plan.numeric)
        for entry in after:
            if entry.policy is None or entry.policy == missing:
                SPARK_TABLE_STEPS[table_key(entry)](state, entry)
        self.cleaned = state.frame.cache()
        rows_out = self.customers = self.cleaned.count()
        fraction = min(1.0, DRIVER_SAMPLE / max(rows_out, 1) * 1.2)
        sample = (self.cleaned.sample(False, fraction, seed=self.settings.seed).orderBy(ROW).limit(DRIVER_SAMPLE)
                  .toPandas())
        sample.index = pd.Index(sample.pop(ROW).astype(np.int64), name="row")
        for column in plan.numeric:
            sample[column] = sample[column].astype(float)
        return finish(sample, state.account, dataset.columns, plan, state.usable, state.unusable,
                      rows_in=dataset.rows + len(dataset.malformed_lines), rows_out=rows_out, missing=missing,
                      indicators=kept)

    @staticmethod
    def _value_counts(frame: Any, column: str) -> ValueCounts:
        from pyspark.sql import functions as F

        counts = frame.groupBy(column_of(column).alias("value")).agg(F.count("*").alias("count"),
                                                                 F.min(ROW).alias("first")).collect()
        return pd.DataFrame([(r["value"], int(r["count"]), int(r["first"])) for r in counts],
                            columns=["value", "count", "first"])

    def _run_value_steps(self, state: SparkCleaning, value_plan: ValueStepPlan, *, numeric: tuple[str, ...]
                         ) -> tuple[Any, tuple[str, ...]]:
        """The value steps on every batch of rows, with the very functions the pandas engine runs; each batch
        comes back with its cleaned columns and, per (step, column), the value shown where the step found one.
        Returns the cleaned frame and the yes/no columns kept (:func:`reportgen.cleaning.steps.indicators`)."""
        from pyspark.sql import functions as F
        from pyspark.sql.types import DoubleType, LongType, StringType, StructField, StructType

        pairs = value_plan.pairs()
        names = [f"__found{j}" for j in range(len(pairs))]
        schema = StructType([StructField(c, DoubleType() if c in numeric else StringType()) for c in state.columns]
                            + [StructField(ROW, LongType())] + [StructField(n, StringType()) for n in names])

        def batches(frames: Any) -> Any:
            for frame in frames:
                yield value_step_batch(frame.set_index(frame[ROW].to_numpy(), drop=False), value_plan, names)

        found = state.frame.select(*[column_of(c) for c in state.columns], F.col(ROW)).mapInPandas(batches, schema)
        found = found.cache()
        collected = collect_found(found, [(n, F.col(n).isNotNull(), F.col(n)) for n in names])
        for (entry, column), name in zip(pairs, names, strict=True):
            rows, texts = found_rows(collected[name])
            state.account.add_found(entry, column, rows, texts)
        kept = indicators(value_plan, [len(collected[name]) for name in names])
        for j, column in kept:
            found = found.withColumn(column, F.when(F.col(names[j]).isNotNull(), F.lit(YES)).otherwise(F.lit(NO)))
        return found.drop(*names), tuple(column for _, column in kept)

    # -- prepare
    def prepare(self, cleaned: CleanResult, settings: Settings, *, scaling: Scaling, scaler: Scaler | None = None,
                categories: tuple[str, ...] = (), encoding: CategoricalEncoding | None = None
                ) -> FeatureMatrix:
        """The shared treatment and scaler (:mod:`reportgen.segmentation.features`) from Spark statistics:
        skewness, minimum and quantiles, then the far-out counts, then the moments of the transformed and clipped
        values. Numbers only: the plan refuses categorical clustering on this engine."""
        from pyspark.ml.feature import VectorAssembler

        assert not categories and encoding is None

        usable = list(cleaned.features)
        treatments: tuple[FeatureTreatment, ...] = ()
        extreme = 0
        if scaler is None:
            scaler, treatments, extreme = self._fit_scaler(usable, settings, scaling)
        frame = self.cleaned
        for i, expression in enumerate(_treated(usable, scaler)):
            frame = frame.withColumn(f"__x{i}", (expression - scaler.center[i]) / scaler.scale[i])
        self.vectors = VectorAssembler(inputCols=[f"__x{i}" for i in range(len(usable))],
                                       outputCol="features").transform(frame).cache()
        X = apply_scaler(cleaned.frame[usable].to_numpy(dtype=float), scaler)
        return FeatureMatrix(X=X, names=tuple(usable), rows=cleaned.frame.index.to_numpy(), scaler=scaler,
                             treatments=treatments, extreme_customers=extreme)

    def _fit_scaler(self, usable: list[str], settings: Settings, scaling: Scaling
                    ) -> tuple[Scaler, tuple[FeatureTreatment, ...], int]:
        from pyspark.sql import functions as F

        first = self.cleaned.agg(*[F.min(column_of(f)).alias(f"lo{i}") for i, f in enumerate(usable)],
                                 *[F.skewness(column_of(f)).alias(f"sk{i}") for i, f in enumerate(usable)]).collect()[0]
        quantiles = self.cleaned.approxQuantile(usable, list(QUANTILES), 0.0)
        plans = [plan_treatment(FeatureStats(name=f, low=as_float(first[f"lo{i}"]), skew=as_float(first[f"sk{i}"]),
                                             quantiles=(q[0], q[1], q[2], q[3])),
                                transform=settings.transform, outliers=settings.outliers)
                 for i, (f, q) in enumerate(zip(usable, [[float(v) for v in qs] for qs in quantiles], strict=True))]
        plain = Scaler(scaling, (0.0,) * len(usable), (1.0,) * len(usable), tuple(p.transform for p in plans))
        transformed = _treated(usable, plain)
        far_low = [t < p.fences[0] for t, p in zip(transformed, plans, strict=True)]
        far_high = [t > p.fences[1] for t, p in zip(transformed, plans, strict=True)]
        anywhere = F.lit(False)
        for low, high in zip(far_low, far_high, strict=True):
            anywhere = anywhere | low | high
        counts = self.cleaned.agg(*[F.sum(c.cast("int")).alias(f"fl{i}") for i, c in enumerate(far_low)],
                                  *[F.sum(c.cast("int")).alias(f"fh{i}") for i, c in enumerate(far_high)],
                                  F.sum(anywhere.cast("int")).alias("any")).collect()[0]
        bounds = [clip_bounds(p, bool(counts[f"fl{i}"]), bool(counts[f"fh{i}"])) for i, p in enumerate(plans)]
        clipped_scaler = replace(plain, clip_low=tuple(b[0] for b in bounds), clip_high=tuple(b[1] for b in bounds))
        clipped = _treated(usable, clipped_scaler)
        moved = [((t < b[0]) if b[0] is not None else F.lit(False)) | ((t > b[1]) if b[1] is not None else F.lit(False))
                 for t, b in zip(transformed, bounds, strict=True)]
        moments = self.cleaned.agg(*[F.avg(c).alias(f"m{i}") for i, c in enumerate(clipped)],
                                   *[F.stddev_pop(c).alias(f"s{i}") for i, c in enumerate(clipped)],
                                   *[F.min(c).alias(f"lo{i}") for i, c in enumerate(clipped)],
                                   *[F.max(c).alias(f"hi{i}") for i, c in enumerate(clipped)],
                                   *[F.sum(c.cast("int")).alias(f"n{i}") for i, c in enumerate(moved)]).collect()[0]
        scaler = scaler_from_moments(scaling, **{key: [float(moments[f"{prefix}{i}"] or 0.0)
                                                       for i in range(len(usable))]
                                                 for key, prefix in (("mean", "m"), ("std", "s"), ("low", "lo"),
                                                                     ("high", "hi"))},
                                     transforms=plain.transforms, clip_low=clipped_scaler.clip_low,
                                     clip_high=clipped_scaler.clip_high)
        records = treatments_of(plans, clipped_scaler,
                                extreme=[int(counts[f"fl{i}"] or 0) + int(counts[f"fh{i}"] or 0)
                                         for i in range(len(usable))],
                                clipped=[int(moments[f"n{i}"] or 0) for i in range(len(usable))])
        return scaler, records, int(counts["any"] or 0)

    # -- cluster
    def _silhouette(self, predictions: Any, column: str) -> float:
        from pyspark.ml.evaluation import ClusteringEvaluator

        return float(ClusteringEvaluator(featuresCol="features", predictionCol=column,
                                         metricName="silhouette").evaluate(predictions))

    def _kmeans(self, k: int, seed: int) -> Any:
        """The lowest-cost of :data:`SPARK_INITS` starts (one start can settle in a poor local optimum, e.g. a
        segment of a few extreme customers, where scikit-learn's ``n_init`` would not)."""
        from pyspark.ml.clustering import KMeans

        models = [KMeans(k=k, seed=seed + i, initMode="k-means||", featuresCol="features", maxIter=MAX_ITER,
                         tol=TOL).fit(self.vectors) for i in range(SPARK_INITS)]
        model = min(models, key=lambda m: float(m.summary.trainingCost))
        self.models[k] = model
        return model

    def select_k(self, matrix: FeatureMatrix, settings: Settings, run: Runner = here
                 ) -> Callable[[], KSelection]:
        """The k sweep, now, on the driver (``run`` is not used: the sweep of a sample is quick)."""
        return here(self._select_k, matrix, settings)

    def _select_k(self, matrix: FeatureMatrix, settings: Settings) -> KSelection:
        """The k sweep on the driver's fixed-seed sample (``matrix``), with scikit-learn's K-means, as the pandas
        engine sweeps a sample of a large table: 27 MLlib fits over every row took 479 s of a 586 s run of a
        million customers on two cores. The final fit (:meth:`fit`) is MLlib's, over every row."""
        low, high = check_k_range(matrix, k_min=settings.k_min, k_max=settings.k_max, fixed_k=settings.k)
        self.progress(f"Trying k = {low}..{high} on a sample of {len(matrix.X):,} customers")
        sampled = len(matrix.X) < self.customers
        note = (f"The sweep used the driver's fixed-seed sample of {len(matrix.X):,} of the {self.customers:,} "
                f"customers and scikit-learn's K-means with {sweep_inits(settings.n_init, sampled)} initialisations "
                f"per k. {NOTE}")
        return sweep_k(matrix, customers=self.customers, k_range=(low, high), fixed_k=settings.k,
                       seed=settings.seed, n_init=settings.n_init, silhouette_sample=settings.silhouette_sample,
                       algorithm="kmeans", min_share=settings.min_share, note=note if sampled else NOTE)

    def fit(self, matrix: FeatureMatrix, k: int, settings: Settings, selection: KSelection | None = None
            ) -> Segmentation:
        model = self.models.get(k) or self._kmeans(k, settings.seed)
        raw_centers = np.array(model.clusterCenters())
        # every customer to its nearest centre, as profiles and segments.csv count them
        labelled = self._label(raw_centers, tuple(range(k)))
        counts = dict(labelled.groupBy(SEGMENT).count().collect())
        sizes = np.array([counts.get(j, 0) for j in range(k)])
        numbers = canonical_numbers(sizes, raw_centers)
        order = np.argsort(numbers)
        silhouette = self.silhouettes.get(k)
        if silhouette is None:
            silhouette = self._silhouette(model.transform(self.vectors), "prediction")
        seg = segmentation_of(matrix, numbers[nearest(matrix.X, raw_centers)], raw_centers[order], seed=settings.seed,
                              n_init=SPARK_INITS, silhouette_sample=settings.silhouette_sample,
                              sizes=sizes[order].tolist(),
                              inertia=float(model.summary.trainingCost), scores={SPARK_SILHOUETTE: silhouette},
                              description=DESCRIPTION.format(seed=settings.seed))
        return seg

    def _label(self, centroids: np.ndarray, numbers: tuple[int, ...]) -> Any:
        """The vectors frame with SEGMENT: the number of the nearest centroid (in the scaled space) and __d2, the
        squared distance to it. Kept for the segmentation it was made for."""
        from pyspark.sql import functions as F

        key = (tuple(numbers), np.asarray(centroids, dtype=float).tobytes())
        if self.labelled is not None and self.labelled[:2] == key:
            return self.labelled[2]
        scaled = [F.col(f"__x{i}") for i in range(centroids.shape[1])]
        distances = [sum(((x - float(c)) ** 2 for x, c in zip(scaled, centre, strict=True)), F.lit(0.0))
                     for centre in centroids]
        closest = F.least(*distances) if len(distances) > 1 else distances[0]
        label = F.when(distances[0] == closest, numbers[0])
        for number, distance in zip(numbers[1:], distances[1:], strict=True):
            label = label.when(distance == closest, number)
        frame = self.vectors.withColumn(SEGMENT, label).withColumn("__d2", closest).cache()
        if self.labelled is not None:
            with contextlib.suppress(Exception):
                self.labelled[2].unpersist()
        self.labelled = (*key, frame)
        return frame

    def assign(self, matrix: FeatureMatrix, baseline: BaselineModel, settings: Settings) -> Segmentation:
        from pyspark.sql import functions as F

        numbers = tuple(baseline.numbers)
        predictions = self._label(baseline.centroids, numbers)
        counts = dict(predictions.groupBy(SEGMENT).count().collect())
        inertia = float(predictions.agg(F.sum("__d2")).collect()[0][0] or 0.0)
        several = len([n for n in numbers if counts.get(n)]) > 1
        labels = np.asarray(numbers)[nearest(matrix.X, baseline.centroids)]
        seg = segmentation_of(matrix, labels, baseline.centroids, seed=settings.seed, n_init=1,
                              silhouette_sample=settings.silhouette_sample, numbers=numbers,
                              sizes=[int(counts.get(n, 0)) for n in numbers], inertia=inertia,
                              scores={SPARK_SILHOUETTE: self._silhouette(predictions, SEGMENT) if several
                                      else float("nan")},
                              description=ASSIGNED)
        return seg

    # -- profile
    def profile(self, cleaned: CleanResult, segmentation: Segmentation, logged: tuple[str, ...] = ()
                ) -> Profiles:
        self.progress("Profiling the segments on Spark")
        return profile_segments(self._label(segmentation.centroids, segmentation.numbers), cleaned, segmentation,
                                logged)

    def summarise(self, cleaned: CleanResult) -> tuple[SummaryRow, ...]:
        return summary_rows(self.cleaned, cleaned)

    def assignments(self, cleaned: CleanResult, segmentation: Segmentation) -> pd.DataFrame:
        from pyspark.sql import functions as F

        predictions = self._label(segmentation.centroids, segmentation.numbers)
        key = cleaned.id_column or ROW
        rows = predictions.select(column_of(key).alias("key"), F.col(ROW), F.col(SEGMENT)).orderBy(ROW)
        table = pd.DataFrame([tuple(r) for r in rows.toLocalIterator()], columns=["key", ROW, "segment"])
        return table.drop(columns=[ROW]).rename(columns={"key": cleaned.id_column or "row"})

    def close(self) -> None:
        for frame in (self.raw, self.cleaned, self.vectors, self.labelled[2] if self.labelled else None):
            if frame is not None:
                with contextlib.suppress(Exception):
                    frame.unpersist()


def _treated(features: list[str], scaler: Scaler) -> list[Any]:
    """Spark expressions of the features transformed and clipped as ``scaler`` says (not yet scaled)."""
    from pyspark.sql import functions as F

    out = []
    for i, feature in enumerate(features):
        expression = column_of(feature).cast("double")
        if scaler.transforms and scaler.transforms[i] == "log":
            expression = F.log1p(expression)
        if scaler.clip_low and scaler.clip_low[i] is not None:
            expression = F.greatest(expression, F.lit(scaler.clip_low[i]))
        if scaler.clip_high and scaler.clip_high[i] is not None:
            expression = F.least(expression, F.lit(scaler.clip_high[i]))
        out.append(expression)
    return out

