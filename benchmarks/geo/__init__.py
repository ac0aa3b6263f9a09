"""The geo benchmark's parts (benchmarks/geo_assign.py runs them): the population it places, loading it with
COPY, the worker processes that run the assignment job, the PostGIS baseline, the daily redraw, the report."""
