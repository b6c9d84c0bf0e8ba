"""The Spark session, and reading a CSV as the pandas engine does: numbered rows, lines that do not fit the header."""

from __future__ import annotations

import io
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ...errors import ConfigError
from ...inputs.base import looks_like_id_name

DRIVER_SAMPLE = 20_000  # rows pulled to the driver: the first ones for the roles, a sample for the charts
ROW = "__reportgen_row"
SEGMENT = "__reportgen_segment"
SPARK_ENCODINGS = {"utf-8": "UTF-8", "latin-1": "ISO-8859-1", "utf-16": "UTF-16"}


def session(master: str) -> Any:
    """A Spark session (quiet, no UI). Raises :class:`ConfigError` when PySpark or Java is missing."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise ConfigError("--engine spark needs PySpark", hint="pip install 'reportgen[spark]'") from exc
    if master.startswith("local"):  # the Python workers that run the cleaning steps: this Python, with reportgen
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    try:
        spark = (SparkSession.builder.master(master).appName("reportgen")
                 .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "8")
                 # Spark 4 turns ANSI mode on: a cast of "abc" to double would fail the job, where cleaning
                 # wants NULL (and reports the value as not a number), as Spark 3 does
                 .config("spark.sql.ansi.enabled", "false")
                 .config("spark.sql.execution.arrow.pyspark.enabled", "true")
                 .config("spark.driver.memory", os.environ.get("REPORTGEN_SPARK_DRIVER_MEMORY", "2g"))
                 .getOrCreate())
    except Exception as exc:  # Java missing or too old: py4j raises its own types
        raise ConfigError(f"cannot start Spark ({master}): {str(exc).splitlines()[0] if str(exc) else exc!r}",
                          hint="Spark needs Java 17 or newer: apt-get install openjdk-17-jre-headless.") from exc
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def column_of(name: str) -> Any:
    from pyspark.sql import functions as F

    return F.col(f"`{name}`")


def numbered(frame: Any) -> Any:
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


def _field_counter(delimiter: str, header: tuple[str, ...]) -> Callable[[Any], Any]:
    """For ``mapInPandas`` over (ROW, value) text lines: the lines that do not fit the header (another number of
    fields, or the header repeated), as (ROW, why). A line without quotes is counted by its delimiters; one with
    quotes by Python's csv module, as the pandas engine reads it."""
    import csv

    width = len(header)

    def count(batches: Any) -> Any:
        for batch in batches:
            values = batch["value"].astype(str)
            present = (values.str.strip() != "").to_numpy(dtype=bool)
            quoted = present & values.str.contains('"', regex=False).to_numpy(dtype=bool)
            fields = (values.str.count(re.escape(delimiter)) + 1).to_numpy(dtype=np.int64, copy=True)
            repeated = np.zeros(len(values), dtype=bool)
            rows = [next(csv.reader([line], delimiter=delimiter, skipinitialspace=True), [])
                    for line in values[quoted]]
            if rows:
                fields[quoted] = [len(row) for row in rows]
                repeated[quoted] = [tuple(f.strip() for f in row) == header for row in rows]
            plain = present & ~quoted & (fields == width)
            if plain.any():
                repeated[plain] = [tuple(f.strip() for f in line.split(delimiter)) == header
                                   for line in values[plain]]
            # one empty field after the last column is a delimiter at the end of the line: kept, as by pandas
            trailing = present & (fields == width + 1)
            if trailing.any():
                ends = values[trailing].str.rsplit(delimiter, n=1).str[-1].str.strip() == ""
                trailing[trailing] = ends.to_numpy(dtype=bool)
            bad = present & (((fields != width) & ~trailing) | repeated)
            why = [("the header row repeated" if again else f"expected {width} fields, saw {n}")
                   for again, n in zip(repeated[bad], fields[bad], strict=True)]
            yield pd.DataFrame({ROW: batch[ROW].to_numpy(dtype=np.int64)[bad], "why": pd.Series(why, dtype=object)})

    return count


def misfit_lines(spark: Any, path: Path, delimiter: str, header: tuple[str, ...]) -> Any:
    """The lines of a CSV file that do not fit its header, as a Spark frame of (line, record, why): ``line`` its
    1-based line number in the file, ``record`` the 1-based data record Spark's CSV reader makes of it (the
    header and blank lines are not records)."""
    from pyspark.sql import functions as F

    lines = numbered(spark.read.text(str(path)))  # ROW: the line number
    records = numbered(lines.filter(F.trim(F.col("value")) != "").select(F.col(ROW).alias("line"), "value"))
    records = records.withColumn("record", F.col(ROW) - 1).drop(ROW)  # the first non-blank line is the header
    data = records.filter(F.col("record") >= 1).select(F.col("line").alias(ROW), "value", "record")
    found = data.select(ROW, "value").mapInPandas(_field_counter(delimiter, header), f"{ROW} long, why string")
    return found.join(data.select(ROW, "record"), ROW).select(F.col(ROW).alias("line"), "record", "why")


def as_pandas_reads(rows: list[Any], columns: list[str]) -> pd.DataFrame:
    """Rows of text collected from Spark, typed as the pandas engine types a CSV it reads (for the roles)."""
    frame = pd.DataFrame([list(r) for r in rows], columns=columns, dtype=object)
    return pd.read_csv(io.StringIO(frame.to_csv(index=False)), keep_default_na=False, na_values=[""],
                       dtype={c: "string" for c in columns if looks_like_id_name(c)} or None)
