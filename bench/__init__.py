"""Benchmarks of the worker against same-run baselines: `python -m bench` (see docs/benchmarks.md).

`bench/gpu_check.py` is a separate, standard-library-only script for GPU machines.
"""
