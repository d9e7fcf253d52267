"""LiteCoOp: a TVM MetaSchedule autotuner whose Monte-Carlo tree search is expanded by a team of local LLMs."""

__version__ = "0.1.0"
