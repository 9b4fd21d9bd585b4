"""Teaching loss surfaces with value, analytic gradient and Hessian, and metadata.

>>> import surfaces
>>> s = surfaces.get("ravine", kappa=50, angle=30)
>>> float(s.value(0.0, 0.0))
0.0
"""

from surfaces.catalog import NAMES, Param, Point, Spec, Surface, all_params, get, spec

__all__ = ["NAMES", "Param", "Point", "Spec", "Surface", "all_params", "get", "spec"]
