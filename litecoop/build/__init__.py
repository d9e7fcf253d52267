"""From a Relax module to a compiled library: fusion, task extraction, fast math, the BLAS path."""
