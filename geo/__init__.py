"""Geometry of the grid (geopandas/shapely): frames in, frames out, no ORM."""
