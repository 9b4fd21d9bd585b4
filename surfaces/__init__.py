"""Teaching loss surfaces with value, analytic gradient and Hessian, and metadata.

>>> import surfaces
>>> s = surfaces.get("ravine", kappa=50, angle=30)
>>> float(s.value(0.0, 0.0))
0.0
"""

from surfaces import catalog, formula
from surfaces.catalog import (
    FORMULA_DEFAULT,
    NAMES,
    Param,
    Point,
    Spec,
    Surface,
    all_params,
    get,
    spec,
)
from surfaces.formula import FormulaError

__all__ = [
    "FORMULA_DEFAULT",
    "NAMES",
    "FormulaError",
    "Param",
    "Point",
    "Spec",
    "Surface",
    "all_params",
    "catalog",
    "formula",
    "get",
    "spec",
]
