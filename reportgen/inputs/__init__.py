"""Reading: the reader table (READERS: CSV and other text tables, Parquet, JSON, Excel and OpenDocument), databases,
the role of every column, transaction logs turned into one row per customer, and the bundled sample."""
