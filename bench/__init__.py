"""Benchmarks: what Aegis costs per tool call, measured as ratios within one run (`python -m bench.run`)."""
