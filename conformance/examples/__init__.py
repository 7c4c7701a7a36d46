"""Examples shipped with the conformance suite: an ``exec:`` operator bridge, a run configuration and a
known-deviations file. See ``conformance/README.md``."""
