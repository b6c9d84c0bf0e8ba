"""Transaction logs turned into customers (issue 13): detection, the lines left out or netted, dates, RFM."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from reportgen.errors import InputError
from reportgen.inputs.transactions import detect, parse_dates, to_customers

LOG = pd.DataFrame({
    "InvoiceNo": ["A1", "A1", "A2", "C3", "A4", "A5", "A5", "A6", "A7"],
    "StockCode": ["p1", "p2", "p1", "p1", "p3", "p1", "p1", "p2", "p9"],
    "Quantity": [2, 1, 5, 1, 3, 1, 1, 4, 1],
    "UnitPrice": [10.0, 5.0, 10.0, 10.0, 2.0, 10.0, 10.0, 0.0, 3.0],
    "InvoiceDate": ["2024-01-05", "2024-01-05", "2024-02-01", "2024-02-03", "2024-03-01", "2024-03-10",
                    "2024-03-10", "2024-03-11", "2024-03-12"],
    "CustomerID": ["c1", "c1", "c1", "c1", "c2", "c2", "c2", "c2", None],
}, index=pd.RangeIndex(1, 10))
LOG.loc[4, "Quantity"] = -1  # C3: a cancellation of one p1


def test_a_log_is_recognised_and_a_table_is_not() -> None:
    cols = detect(LOG)
    assert cols is not None
    assert (cols.customer, cols.date, cols.amount, cols.quantity, cols.price, cols.order, cols.product) == (
        "CustomerID", "InvoiceDate", None, "Quantity", "UnitPrice", "InvoiceNo", "StockCode")
    table = pd.DataFrame({"CustomerID": range(50), "Income": range(50), "Score": range(50)})
    assert detect(table) is None  # unique IDs: one row per customer already


def test_one_row_per_customer_with_every_line_accounted_for() -> None:
    built = to_customers(LOG, detect(LOG))
    rows = built.frame.set_index("CustomerID")
    assert list(rows.index) == ["c1", "c2"]
    assert built.as_of == pd.Timestamp("2024-03-13")  # the day after the last date
    # c1: A1 (2x10 + 1x5), A2 (5x10), C3 (-1x10): net 65, 2 orders, last purchase 2024-02-01
    assert rows.loc["c1", "monetary"] == 65.0 and rows.loc["c1", "frequency"] == 2
    assert rows.loc["c1", "recency_days"] == 41 and rows.loc["c1", "tenure_days"] == 68
    assert rows.loc["c1", "products"] == 2
    # c2: A4 (3x2), A5 (1x10, its copy left out), A6 zero price left out
    assert rows.loc["c2", "monetary"] == 16.0 and rows.loc["c2", "frequency"] == 2
    steps = {s.step: s for s in built.steps}
    assert steps["no_customer"].count == 1 and steps["duplicate_lines"].count == 1
    assert steps["zero_price"].count == 1 and steps["returns"].count == 1
    assert steps["returns"].action == "netted"
    assert sorted(built.log["row"]) == [4, 7, 8, 9]


def test_a_cancelled_invoice_subtracts_and_a_zero_amount_is_left_out() -> None:
    log = pd.DataFrame({"invoice": ["1", "C2", "3", "4"], "customer_id": ["a", "a", "a", "b"],
                        "date": ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-03"],
                        "amount": [100.0, 30.0, 0.0, 5.0]}, index=pd.RangeIndex(1, 5))
    log = pd.concat([log, log.iloc[[3]].assign(invoice="5", date="2024-01-04")]).set_axis(pd.RangeIndex(1, 6))
    built = to_customers(log, detect(log))
    rows = built.frame.set_index("customer_id")
    assert rows.loc["a", "monetary"] == 70.0 and rows.loc["a", "frequency"] == 1  # C2 (+30 in the log) subtracts
    assert {s.step: s.count for s in built.steps} == {"zero_amount": 1, "returns": 1}


@pytest.mark.parametrize(("values", "first", "words"), [
    (["2024-03-31", "2024-01-02"], "2024-03-31", "ISO"),
    (["11-Feb-17", "15-Mar-19"], "2017-02-11", "day-month name-year"),
    (["31/03/2024", "01/02/2024"], "2024-03-31", "day/month/year"),
    (["03/31/2024", "01/02/2024"], "2024-03-31", "month/day/year"),
    (["45382", "45293"], "2024-03-31", "Excel serial"),
])
def test_dates_in_the_common_forms(values, first, words) -> None:
    parsed, how = parse_dates(pd.Series(values))
    assert parsed.iloc[0] == pd.Timestamp(first) and words in how


def test_an_ambiguous_day_month_order_is_said_and_can_be_given() -> None:
    _, how = parse_dates(pd.Series(["03/04/2024", "05/06/2024"]))
    assert "ambiguous" in how and "--date-format" in how
    parsed, how = parse_dates(pd.Series(["03/04/2024"]), "%m/%d/%Y")
    assert parsed.iloc[0] == pd.Timestamp("2024-03-04") and "--date-format" in how


@pytest.mark.slow
def test_the_retail_log_becomes_6889_customers(invoke, tmp_path: Path) -> None:
    from .conftest import shared_file

    log = shared_file("Retail_Data_Transactions.csv")
    result = invoke("run", str(log), "-q", "--format", "html")
    assert result.exit_code == 0, result.stderr
    folder = tmp_path / result.stdout.strip()
    segments = pd.read_csv(folder / "segments.csv")
    assert len(segments) == 6889 and segments["customer_id"].is_unique
    metrics = json.loads((folder / "metrics.json").read_text())
    assert {"recency_days", "frequency", "monetary"} <= set(metrics["features"])
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["transactions"]["lines"] == 125000 and manifest["transactions"]["customers"] == 6889
    assert manifest["transactions"]["date_format"].startswith("day-month name-year")
    html = (folder / "report.html").read_text(encoding="utf-8")
    assert "transaction log" in html and "RFM segments" in html and "Champions" in html
    assert (folder / "charts" / "rfm_grid.png").is_file()
    assert {"rfm_score", "rfm_segment"} <= set(segments.columns)
    # monetary and avg_order_value both read as spending: a name says it once ("High spending", not twice)
    for name in segments["segment_name"].unique():
        phrases = [p.strip() for p in name.lower().split(",")]
        assert len(phrases) == len(set(phrases)), name


def test_bad_transaction_input_is_one_clear_line(invoke, tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("id,Income,Score\n1,10,5\n2,20,7\n3,30,9\n4,40,2\n")
    result = invoke("run", "t.csv", "--transactions", "yes", "-q")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: t.csv is not a transaction log: it has no customer ID column that repeats")
    (tmp_path / "nodate.csv").write_text("customer_id,amount\nA,1\nA,2\nA,5\nB,3\nB,4\nB,6\n")
    nodate = invoke("run", "nodate.csv", "--transactions", "yes", "-q")
    assert nodate.exit_code == 1 and "it has no column of dates" in nodate.stderr
    (tmp_path / "noamount.csv").write_text("customer_id,day,store\nA,2024-01-02,x\nA,2024-01-05,y\n"
                                           "A,2024-01-09,x\nB,2024-02-01,x\nB,2024-02-03,z\nB,2024-02-07,y\n")
    noamount = invoke("run", "noamount.csv", "--transactions", "yes", "-q")
    assert noamount.exit_code == 1 and "it has no amount column, nor a quantity and a price" in noamount.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    missing = invoke("run", "t.csv", "--amount", "Revenue", "-q")
    assert missing.exit_code == 1 and "--amount names a column that is not in t.csv: 'Revenue'" in missing.stderr
    assert not (tmp_path / "output").exists() or not any((tmp_path / "output").iterdir())
    with pytest.raises(InputError):
        to_customers(LOG.assign(InvoiceDate="not a date"), detect(LOG))


def test_rfm_scores_and_named_segments() -> None:
    import numpy as np

    from reportgen.describe.rfm import RFM_SEGMENTS, quintile_scores, rfm_of, segment_of

    # every cell of the recency x frequency grid has exactly one name
    for r in range(1, 6):
        for f in range(1, 6):
            named = [n for n, (rl, rh), (fl, fh), _ in RFM_SEGMENTS if rl <= r <= rh and fl <= f <= fh]
            assert len(named) == 1, (r, f, named)
    assert segment_of(5, 5) == "Champions" and segment_of(1, 1) == "Lost" and segment_of(1, 5) == "Can't lose them"
    assert quintile_scores(pd.Series(range(10)), higher_is_better=True).tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"recency_days": rng.integers(1, 400, 500), "frequency": rng.integers(1, 30, 500),
                          "monetary": rng.gamma(2, 300, 500)}, index=pd.RangeIndex(1, 501))
    result = rfm_of(frame, np.where(frame["frequency"] > 15, 1, 2))
    assert result is not None and sum(result.counts.values()) == 500
    assert result.grid.to_numpy().sum() == 500 and list(result.grid.index) == [5, 4, 3, 2, 1]
    assert result.table["rfm_score"].str.fullmatch(r"[1-5]{3}").all()
    recent = result.table.loc[frame["recency_days"].idxmin()]
    assert recent["r"] == 5  # the most recent buyer has the best recency score
    assert result.crossing.to_numpy().sum() == 500
    assert rfm_of(frame.drop(columns="monetary"), np.ones(500)) is None


def test_rfm_segments_come_from_the_rules_file() -> None:
    import numpy as np

    from reportgen.describe.rfm import RFM_SEGMENTS, rfm_of
    from reportgen.describe.rulebook import load_rules, parse_rules
    from reportgen.errors import ConfigError

    assert load_rules().rfm == RFM_SEGMENTS  # the packaged file holds the grid, editable like the personas
    base = {"concepts": {}, "rules": [{"id": "all", "when": {}, "persona": "p", "recommendations": [
        {"action": "a", "channel": "c", "offer": "o", "message": "m"}] * 3}]}
    two = [{"name": "Recent", "recency": [3, 5], "frequency": [1, 5], "action": "keep them"},
           {"name": "Lapsed", "recency": [1, 2], "frequency": [1, 5], "action": "win them back"}]
    rules = parse_rules({**base, "rfm": two})
    frame = pd.DataFrame({"recency_days": range(1, 101), "frequency": [1 + i % 7 for i in range(100)],
                          "monetary": np.linspace(10, 1000, 100)}, index=pd.RangeIndex(1, 101))
    result = rfm_of(frame, np.ones(100, dtype=int), rules.rfm)
    assert result is not None and result.counts == {"Recent": 60, "Lapsed": 40}
    with pytest.raises(ConfigError, match="leave R1F1, R1F2"):
        parse_rules({**base, "rfm": two[:1]})
    with pytest.raises(ConfigError, match=r"recency must be \[low, high\]"):
        parse_rules({**base, "rfm": [{**two[0], "recency": [0, 9]}]})


def _log(seed: int, months: int = 6) -> pd.DataFrame:
    """A small log of two kinds of customers: frequent small buyers and rare big ones."""
    import numpy as np

    rng = np.random.default_rng(seed)
    rows = []
    for customer in range(240):
        frequent = customer % 2 == 0
        for _ in range(rng.integers(8, 14) if frequent else rng.integers(1, 4)):
            day = pd.Timestamp("2024-01-01") + pd.Timedelta(days=int(rng.integers(0, 30 * months)))
            amount = rng.normal(20, 4) if frequent else rng.normal(400, 60)
            rows.append((f"K{customer:04d}", day.strftime("%d/%m/%Y"), round(float(amount), 2)))
    return pd.DataFrame(rows, columns=["customer_id", "order_date", "amount"])


@pytest.mark.slow
def test_a_log_works_with_baselines_and_assign_only(invoke, tmp_path: Path) -> None:
    _log(1).to_csv(tmp_path / "june.csv", index=False)
    _log(2).to_csv(tmp_path / "july.csv", index=False)
    first = invoke("run", "june.csv", "-q", "--format", "none", "--name", "june")
    assert first.exit_code == 0, first.stderr
    kept = invoke("run", "july.csv", "-q", "--format", "none", "--name", "july", "--baseline", "latest",
                  "--assign-only")
    assert kept.exit_code == 0, kept.stderr
    folder = tmp_path / kept.stdout.strip()
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["baseline"]["assign_only"] is True
    assert manifest["transactions"]["date_format"].startswith("day/month/year")
    segments = pd.read_csv(folder / "segments.csv")
    assert len(segments) == 240 and {"rfm_score", "rfm_segment"} <= set(segments.columns)
    assert (folder / "comparison.json").is_file()


@pytest.mark.slow
def test_a_log_run_can_be_emailed(invoke, tmp_path: Path) -> None:
    _log(3).to_csv(tmp_path / "log.csv", index=False)
    run = invoke("run", "log.csv", "-q", "--format", "pdf")
    assert run.exit_code == 0, run.stderr
    sent = invoke("email", "latest", "--to", "boss@example.com", "--dry-run", str(tmp_path / "m.eml"),
                  env={"REPORTGEN_MAIL_FROM": "reports@example.com"})
    assert sent.exit_code == 0, sent.stderr
    message = (tmp_path / "m.eml").read_text()
    assert "240 customers fall into" in message and "application/pdf" in message
