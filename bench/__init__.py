"""Benchmarks: each prints ratios measured in one run (this machine is noisy), with its target."""
