"""Delivery: the report by e-mail."""
