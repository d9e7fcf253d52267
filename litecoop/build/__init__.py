"""From a Relax module to a compiled library: inference rewrites, fusion, task extraction, fast math, verified schedules."""
