"""Input/output: the NetCDF schemas and atomic writes."""
