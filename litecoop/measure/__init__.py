"""Measurement: builder and runner, cost model, latency of a build, peers, timing, roofline."""
