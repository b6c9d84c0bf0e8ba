"""The options of 'reportgen run', as bundles of click options (shared by commands that take them)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ..settings import (
    ALGORITHM_NAMES,
    CATEGORICAL_MODES,
    ENGINE_NAMES,
    LOCALES,
    MISSING_POLICIES,
    OUTLIER_POLICIES,
    PAPERS,
    SCALINGS,
    TRANSACTION_MODES,
    TRANSFORM_POLICIES,
)
from .group import option_bundle

analysis_options = option_bundle(
    click.option("--features", metavar="A,B,...",
                 help="Numeric columns to cluster on, comma-separated (case-insensitive); with --algorithm "
                      "kprototypes, categorical ones too. Default: every numeric column that is not an ID, a "
                      "code or a flag."),
    click.option("--sheet", metavar="NAME|N",
                 help="The sheet of an Excel or OpenDocument workbook: its name or number (1 is the first).  "
                      "[default: the first sheet with data]"),
    click.option("--decimal", metavar="auto|.|,",
                 help="The decimal mark of numbers written as text: '.' (1,234.5), ',' (1.234,5), or auto: decided "
                      "from the values, file by file; a file whose values leave it open (only 1.234-like values "
                      "in a file that is not comma-delimited) is refused until this says.  [default: auto]"),
    click.option("--table", metavar="NAME", help="With a database URL as DATA: the table of customers."),
    click.option("--query", metavar="SQL", help="With a database URL as DATA: a query that returns the customers."),
    click.option("--password-file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                 help="A file holding the database password (else the REPORTGEN_DB_PASSWORD environment "
                      "variable; never in the URL)."),
    click.option("--transactions", type=click.Choice(TRANSACTION_MODES, case_sensitive=False),
                 help="auto: a transaction log (a customer ID that repeats, a date, an amount) is recognised and "
                      "turned into one row per customer (recency, frequency, monetary...); yes: it must be one; "
                      "no: segment the rows as they are.  [default: auto]"),
    click.option("--customer", metavar="COLUMN", help="The customer ID column of a transaction log."),
    click.option("--date", metavar="COLUMN", help="The date column of a transaction log."),
    click.option("--amount", metavar="COLUMN", help="The amount column of a transaction log."),
    click.option("--quantity", metavar="COLUMN", help="The quantity column (with --price, instead of an amount)."),
    click.option("--price", metavar="COLUMN", help="The unit price column (with --quantity)."),
    click.option("--as-of", metavar="YYYY-MM-DD",
                 help="The date recency is counted to.  [default: the day after the last date in the log]"),
    click.option("--date-format", metavar="FORMAT",
                 help="How the log's dates are written (strptime, e.g. %d/%m/%Y).  [default: recognised]"),
    click.option("--k", "k", type=click.IntRange(2, 50), metavar="N",
                 help="Fix the number of segments instead of choosing it by the vote of the indices."),
    click.option("--k-range", metavar="LOW-HIGH", help="Range of k to try.  [default: 2-10]"),
    click.option("--scale", type=click.Choice(SCALINGS, case_sensitive=False),
                 help="Feature scaling before K-means.  [default: standard]"),
    click.option("--seed", type=click.IntRange(0, 2**32 - 1), help="Random seed for K-means.  [default: 42]"),
    click.option("--missing", type=click.Choice(MISSING_POLICIES, case_sensitive=False),
                 help="Rows with a missing feature value: drop them, or fill in the median.  [default: drop]"),
    click.option("--max-drop", metavar="SHARE",
                 help="No cleaning step drops more than this share of the customers: a feature whose missing "
                      "values would is filled in with its median instead, and the report says so.  [default: 5%]"),
    click.option("--transform", type=click.Choice(TRANSFORM_POLICIES, case_sensitive=False),
                 help="auto: heavy-tailed features with no negative value (money, counts) are clustered on "
                      "log(1 + x); none: as they are (the textbook).  [default: auto]"),
    click.option("--outliers", type=click.Choice(OUTLIER_POLICIES, case_sensitive=False),
                 help="clip: far-out values (3 IQR beyond the quartiles) are clipped at the 1st/99th percentile "
                      "for the clustering only (the customers keep their segments); keep: as they are.  "
                      "[default: clip]"),
    click.option("--min-share", metavar="SHARE",
                 help="Never choose a k that leaves a segment with a smaller share of the customers.  "
                      "[default: 2%]"),
    click.option("--stability-resamples", type=click.IntRange(0, 1000), metavar="N",
                 help="Bootstrap resamples of the segment stability check; 0 skips it.  [default: 50]"),
    click.option("--algorithm", type=click.Choice(ALGORITHM_NAMES, case_sensitive=False),
                 help="Clustering algorithm: kmeans; ward (hierarchical; on a 5,000-customer sample above that); "
                      "gmm (Gaussian mixture, with BIC in the k table); kprototypes (numeric and categorical "
                      "columns together, such as gender or region).  [default: kmeans]"),
    click.option("--categorical", type=click.Choice(CATEGORICAL_MODES, case_sensitive=False),
                 help="profile: categorical columns describe the segments; cluster: they shape them too "
                      "(with --algorithm kprototypes; every categorical column of 2-12 levels, or those named "
                      "in --features).  [default: auto: cluster with kprototypes, else profile]"),
    click.option("--baseline", metavar="RUN",
                 help="An earlier run ('latest', a run folder, or a run name in the output folder): segments keep "
                      "its numbers and names, and the report shows what changed."),
    click.option("--assign-only", is_flag=True, default=None,
                 help="With --baseline: label the customers with the baseline's segments, without re-clustering."),
)

report_options = option_bundle(
    click.option("--title", help="Report title.  [default: Customer segmentation report]"),
    click.option("--organisation", help="Organisation named on the cover."),
    click.option("--logo", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                 help="Logo image (PNG, JPEG or SVG) for the cover."),
    click.option("--accent", metavar="#RRGGBB", help="Accent colour of headings.  [default: #1f4e79]"),
    click.option("--paper", type=click.Choice(PAPERS, case_sensitive=False), help="PDF paper size.  [default: A4]"),
    click.option("--locale", type=click.Choice(LOCALES, case_sensitive=False),
                 help="Language of numbers: decimal and thousands separators.  [default: en]"),
    click.option("--templates", type=click.Path(exists=True, file_okay=False, path_type=Path),
                 help="Folder of templates that override the packaged ones by file name."),
    click.option("--rules", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                 help="Persona and recommendation rules (TOML); see 'reportgen rules'."),
    click.option("--currency", metavar="SYMBOL",
                 help="Currency of the money columns whose header names none (€, $, EUR); a header such as "
                      "'Spend (k$)' names its own."),
    click.option("--format", "formats", metavar="html,pdf",
                 help="Report formats to write; 'none' writes the data files only.  [default: html,pdf]"),
)

output_options = option_bundle(
    click.option("--output", "-o", type=click.Path(file_okay=False, path_type=Path),
                 help="Folder that holds the run folders.  [default: output]"),
    click.option("--name", help="Name of the run, appended to its folder name.  [default: the input file name]"),
    click.option("--series", metavar="NAME",
                 help="The series this run belongs to (e.g. monthly), for 'reportgen trend --series NAME'."),
    click.option("--config", "config", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                 help="TOML config file.  [default: ./reportgen.toml if present]"),
    click.option("--email-to", "email_to", multiple=True, metavar="ADDRESS",
                 help="After the run, email the report to ADDRESS (repeatable); SMTP settings as for "
                      "'reportgen email'."),
    click.option("--engine", type=click.Choice(ENGINE_NAMES, case_sensitive=False),
                 help="pandas (one machine) or spark (PySpark: pip install 'reportgen[spark]', needs Java 17+).  "
                      "[default: pandas]"),
    click.option("--spark-master", metavar="URL", help="Spark master for --engine spark.  [default: local[*]]"),
    click.option("--workers", type=click.IntRange(1, 2),
                 help="2: chart processes draw the charts while this one clusters and prepares the PDF; "
                      "1: one process.  [default: 2]"),
    click.option("--quiet", "-q", is_flag=True, help="No progress messages on stderr."),
    click.option("--json", "as_json", is_flag=True, help="Print a JSON summary on stdout instead of the path."),
)


class DataArgument(click.ParamType):
    """A data file (it must exist), ``-`` for standard input, or a database URL (``sqlite:///crm.db``)."""

    name = "data"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from ..inputs.database import is_database_url

        if is_database_url(value):
            return value
        return click.Path(exists=True, dir_okay=False, allow_dash=True, path_type=Path).convert(value, param, ctx)
