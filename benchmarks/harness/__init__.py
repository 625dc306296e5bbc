"""Helpers shared by the benchmarks: databases, processes, load generation, statistics, reports."""
