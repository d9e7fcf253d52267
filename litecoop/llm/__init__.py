"""The LLM team: weights, backends, accounting."""
