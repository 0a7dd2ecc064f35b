"""Benchmark scripts (print figures, write results/*.json); never run as tests."""
