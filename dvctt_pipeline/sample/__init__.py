"""Sample landing data: a realistic, deterministic landing folder for demos and benchmarks."""

from dvctt_pipeline.sample.generator import SampleSummary, generate_landing

__all__ = ["SampleSummary", "generate_landing"]
