"""Describing the segments: profiles and summary statistics, the segments as rules (rules.csv, segments.sql),
names, personas and recommendations from the rules file, and RFM segments of a transaction log."""
