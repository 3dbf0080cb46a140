"""Benchmarks (``make bench-listing``); see docs/benchmarks.md. Not part of the shipped site."""
