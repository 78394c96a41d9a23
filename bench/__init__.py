"""Province-scale benchmarks: a seeded data generator, a bounded load harness on loopback, and the
report (``bench/RESULTS.md``). See ``bench/README.md``; run everything with ``make bench``."""
