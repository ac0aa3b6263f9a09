"""The grid: paths of the hierarchy and the KPIs rolled up along it."""
