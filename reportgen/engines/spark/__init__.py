"""The Spark engine: the stages that touch every row, on Spark (PySpark is imported only when it is asked for)."""

from .engine import SparkEngine

__all__ = ["SparkEngine"]
