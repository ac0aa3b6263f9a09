"""Where in the world a position may be: the bounding box of China (lon 73–135.5, lat 3.5–53.6, bounds
included). Coordinates outside it come from a wrong coordinate system or swapped axes. Written once; the
placement, the polygon import and the customer checks all use it, on single values and on numpy arrays alike."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, overload

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

CHINA_LON = (73.0, 135.5)
CHINA_LAT = (3.5, 53.6)


@overload
def in_china(lon: float, lat: float) -> bool: ...
@overload
def in_china(lon: npt.NDArray[np.float64], lat: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]: ...
def in_china(lon: Any, lat: Any) -> Any:
    """True where (lon, lat) lies inside China's box; element-wise for arrays."""
    return (lon >= CHINA_LON[0]) & (lon <= CHINA_LON[1]) & (lat >= CHINA_LAT[0]) & (lat <= CHINA_LAT[1])
