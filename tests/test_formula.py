"""Your own f(x, y): the whitelist parser, the dual-number interpreter, minima, every path a
formula takes (engine, batch, permalink, CLI, app)."""

from __future__ import annotations

import csv
import math
import urllib.parse
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import optviz
import surfaces
from optviz import __main__ as cli
from optviz import _batch, _kernel, config, figures
from surfaces import formula as F

# ---- every catalog surface written as a formula ---------------------------------------------


def _r(v: float) -> str:
    return repr(float(v))


def _ravine(kappa: float, angle: float) -> str:
    c, s = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    u = f"({_r(c)}*x + {_r(s)}*y)"
    w = f"(-{_r(s)}*x + {_r(c)}*y)"
    return f"0.5*({u}^2 + {_r(kappa)}*{w}^2)"


def _linreg(surf: surfaces.Surface) -> str:
    n = surf.data_y.shape[0]
    terms = [
        f"(x*{_r(a)} + y - {_r(b)})^2" for a, b in zip(surf.data_x[:, 0], surf.data_y, strict=True)
    ]
    return f"({' + '.join(terms)})/{n}"


def _logreg(surf: surfaces.Surface) -> str:
    n = surf.data_y.shape[0]
    terms = [
        f"log(1 + exp({_r(-t)}*(x*{_r(a)} + y*{_r(c)})))"
        for (a, c), t in zip(surf.data_x, surf.data_y, strict=True)
    ]
    l2 = surf.params["l2"]
    return f"({' + '.join(terms)})/{n} + 0.5*{_r(l2)}*(x^2 + y^2)"


AS_FORMULA = {
    "ravine": ({"kappa": 50.0, "angle": 30.0}, lambda s: _ravine(50.0, 30.0)),
    "saddle": ({}, lambda s: "x^2 - y^2"),
    "monkey_saddle": ({}, lambda s: "x^3 - 3*x*y^2"),
    "plateau": ({"width": 0.7}, lambda s: f"1 - exp(-(x^2 + y^2)/(2*{_r(0.7)}^2))"),
    "noisy_linreg": ({"n": 4}, _linreg),
    "rosenbrock": ({}, lambda s: "(1-x)^2 + 100*(y-x^2)^2"),
    "beale": ({}, lambda s: "(1.5 - x + x*y)^2 + (2.25 - x + x*y^2)^2 + (2.625 - x + x*y^3)^2"),
    "himmelblau": ({}, lambda s: "(x^2 + y - 11)^2 + (x + y^2 - 7)^2"),
    "rastrigin": ({}, lambda s: "20 + x^2 + y^2 - 10*(cos(2*pi*x) + cos(2*pi*y))"),
    "booth": ({}, lambda s: "(x + 2*y - 7)^2 + (2*x + y - 5)^2"),
    "sparse_logreg": ({"n": 10, "density": 0.5}, _logreg),
}


def test_every_catalog_surface_is_covered():
    assert set(AS_FORMULA) == set(surfaces.NAMES) - {"formula"}


@pytest.fixture
def long_formulas(monkeypatch):
    """The data surfaces written out are longer than a person would type."""
    monkeypatch.setattr(F, "MAX_LENGTH", 5000)
    monkeypatch.setattr(F, "MAX_NODES", 2000)


def _close(got: np.ndarray, want: np.ndarray, scale: float) -> None:
    # Relative 1e-12, of the entry or, for an entry that cancels to ~0, of the largest entry.
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12 * scale)


@pytest.mark.parametrize("name", sorted(AS_FORMULA))
def test_dual_numbers_equal_the_analytic_derivatives(name, long_formulas):
    params, write = AS_FORMULA[name]
    ref = surfaces.get(name, **params)
    (x0, x1), (y0, y1) = ref.bounds
    own = surfaces.get("formula", formula=write(ref), xmin=x0, xmax=x1, ymin=y0, ymax=y1)
    rng = np.random.default_rng(7)
    xs, ys = rng.uniform(x0, x1, 40), rng.uniform(y0, y1, 40)
    for x, y in zip(xs, ys, strict=True):
        _close(own.value(x, y), ref.value(x, y), max(1.0, abs(float(ref.value(x, y)))))
        g = ref.gradient(x, y)
        _close(own.gradient(x, y), g, max(1.0, np.max(np.abs(g))))
        h = ref.hessian(x, y)
        _close(own.hessian(x, y), h, max(1.0, np.max(np.abs(h))))


# ---- random formulas against finite differences ----------------------------------------------

_LEAF = st.sampled_from(["x", "y", "0.5", "1.3", "2", "pi"])


def _combine(children: st.SearchStrategy) -> st.SearchStrategy:
    binary = st.tuples(st.sampled_from(["+", "-", "*"]), children, children).map(
        lambda t: f"({t[1]} {t[0]} {t[2]})"
    )
    smooth = st.tuples(st.sampled_from(["sin", "cos", "tanh"]), children).map(
        lambda t: f"{t[0]}({t[1]})"
    )
    bounded = children.map(lambda c: f"exp(tanh({c}))")  # exp of something bounded
    quotient = children.map(lambda c: f"1/(1 + ({c})^2)")
    power = st.tuples(children, st.sampled_from(["2", "3", "-2", "0.5"])).map(
        lambda t: f"(1.5 + tanh({t[0]}))^{t[1]}"  # a positive base, any exponent
    )
    general = st.tuples(children, children).map(lambda t: f"(2 + sin({t[0]}))^({t[1]})")
    logs = children.map(lambda c: f"log(1 + ({c})^2) + sqrt(2 + cos({c}))")
    return st.one_of(binary, smooth, bounded, quotient, power, general, logs)


FORMULAS = st.recursive(_LEAF, _combine, max_leaves=8)


def _central(fun, x: float, y: float, h: float) -> np.ndarray:
    return np.array(
        [(fun(x + h, y) - fun(x - h, y)) / (2 * h), (fun(x, y + h) - fun(x, y - h)) / (2 * h)]
    )


def _richardson(fun, x: float, y: float, h: float = 1e-3) -> np.ndarray:
    """Central differences at h and h/2 combined: truncation error O(h⁴), rounding ~ε·f/h."""
    return (4.0 * _central(fun, x, y, h / 2) - _central(fun, x, y, h)) / 3.0


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=FORMULAS, x=st.floats(-1.5, 1.5), y=st.floats(-1.5, 1.5))
def test_random_formulas_match_finite_differences(text, x, y):
    try:
        program = F.compile_formula(text)
    except F.FormulaError:
        assume(False)  # too long or too deep for the limits: not this test's subject
    p = program.encode()
    from surfaces import _kernels as K

    def val(a: float, b: float) -> float:
        return K.formula_eval(p, a, b, 0)[0]

    def grad(a: float, b: float) -> np.ndarray:
        return np.array(K.formula_eval(p, a, b, 1)[1:3])

    f, gx, gy, hxx, hxy, hyy = K.formula_eval(p, x, y, 2)
    assume(all(math.isfinite(v) for v in (f, gx, gy, hxx, hxy, hyy)))
    assert f == val(x, y)  # the value does not depend on the order asked for
    assert (gx, gy) == tuple(grad(x, y))
    scale_g = 1.0 + abs(f) + abs(gx) + abs(gy)
    np.testing.assert_allclose([gx, gy], _richardson(val, x, y), rtol=1e-5, atol=1e-6 * scale_g)
    fd_h = np.column_stack([_richardson(lambda a, b, i=i: grad(a, b)[i], x, y) for i in (0, 1)])
    scale_h = 1.0 + abs(gx) + abs(gy) + abs(hxx) + abs(hxy) + abs(hyy)
    np.testing.assert_allclose([[hxx, hxy], [hxy, hyy]], fd_h, rtol=1e-5, atol=1e-6 * scale_h)


# ---- hostile strings: a message, never an exception or a hang ---------------------------------

HOSTILE = [
    "__import__('os')",
    '__import__("os").system("ls")',
    "().__class__.__bases__[0].__subclasses__()",
    "x.__class__",
    "x.real",
    "lambda: 0",
    "(lambda x: x)(1)",
    "[x for x in range(9)]",
    "{x: 1}",
    "x if y else 1",
    "9**9**9",
    "10**10**10",
    "9^9^9^9",
    "2**1e308",
    "x**1e9",
    "1e999",
    "99999999999999999999999999999999999",
    "x" * 10_000,
    "(" * 100 + "x" + ")" * 100,
    "-" * 250 + "x",
    "sin(" * 40 + "x" + ")" * 40,
    "+".join(["x"] * 200),
    "х^2 + у^2",  # Cyrillic х and у
    "１ + x",  # full-width digit
    "x＋y",
    "x\u200b+y",  # zero-width space
    "x\x00",
    "exec('1')",
    "eval",
    "open('/etc/passwd')",
    "globals()",
    "f'{x}'",
    "'abc'",
    "b'x'",
    "x; import os",
    "x\nimport os",
    "x := 1",
    "await x",
    "*x",
    "sin(x=1)",
    "sin(*[x])",
    "1/0",
    "log(0)",
    "sqrt(-1)",
    "pow(x)",
    "",
    "   ",
    "x y",
    "2x",
    "(x+1)(y-1)",
    "x^",
    "x..y",
    "1.2.3",
    "0x1f",
    "1_000 * x",
    "True",
    "None",
    "...",
    "x @ y",
    "x % y",
    "x // y",
    "x << 2",
    "~x",
    "not x",
    "x < y",
    "x and y",
    "x[0]",
    "x()",
    "pi()",
    "e(x)",
    "min(x)",
    "max(x, y, 1)",
]


def _outcome(text: object) -> str:
    """What a user sees for ``text``: '' when it compiles, else the message (never raises)."""
    err = F.check(text)  # type: ignore[arg-type]
    if err is None:
        return ""
    assert isinstance(err, F.FormulaError) and isinstance(err, ValueError)
    assert err.message and str(err)
    if err.column is not None and isinstance(text, str):
        assert 1 <= err.column <= len(text) + 1
        assert err.pointer(text).startswith(text)
    return str(err)


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_strings_get_a_message(text):
    message = _outcome(text)
    if text in ("1_000 * x", "x^2 + 10*sin(y)"):
        assert message == ""
    else:
        assert message, f"{text[:40]!r} was accepted"


def test_messages_point_at_the_token():
    for text, column, token in [
        ("__import__('os')", 12, "'"),
        ("__import__", 1, "__import__"),
        ("x + foo(y)", 5, "foo"),
        ("x.real", 1, "x.real"),
        ("х^2", 1, "х"),
        ("x^2 + １", 7, "１"),
        ("x ** 1000", 6, "1000"),
        ("sin(x", 4, "("),
        ("x y", 3, "y"),
    ]:
        err = F.check(text)
        assert err is not None and (err.column, err.token) == (column, token), (text, err)
    assert "Cyrillic" in str(F.check("х^2"))
    assert "did you mean '1'" in str(F.check("１+x"))


@settings(max_examples=300, deadline=2000)
@given(st.text(max_size=400))
def test_any_text_gives_a_program_or_a_message(text):
    _outcome(text)


TOKENS = ["x", "y", "+", "-", "*", "/", "^", "**", "(", ")", "sin(", "exp(", "log(", "max(",
          ",", "2", "9", "1e9", "1e12", ".", "pi", "e", " ", "0"]  # fmt: skip


@settings(max_examples=300, deadline=2000)
@given(st.lists(st.sampled_from(TOKENS), max_size=120))
def test_token_soup_compiles_and_runs_or_gets_a_message(tokens):
    text = "".join(tokens)
    if _outcome(text) == "":
        from surfaces import _kernels as K

        program = F.compile_formula(text)
        assert program.stack_depth <= F.MAX_STACK
        out = K.formula_eval(program.encode(), 0.3, -0.7, 2)
        assert len(out) == 6  # finite or not: the engine turns NaN/inf into "diverged"


def test_the_whole_path_never_raises_anything_but_value_error():
    for text in HOSTILE:
        try:
            surfaces.get("formula", formula=text)
        except ValueError:
            pass
        comparison, notices = config.from_query({"surface": "formula", "formula": text})
        assert comparison.surface == "formula"
        if F.check(text) is not None:
            assert notices and comparison.surface_params.get("formula") is None


# ---- the engine, the batch kernel, one signature ---------------------------------------------

ROSENBROCK = "(1-x)^2 + 100*(y-x^2)^2"
ROSEN_BOUNDS = {"xmin": -2.0, "xmax": 2.0, "ymin": -1.0, "ymax": 3.0}


def _rosen() -> surfaces.Surface:
    return surfaces.get("formula", formula=ROSENBROCK, **ROSEN_BOUNDS)


@pytest.mark.parametrize("name", [o for o in optviz.OPTIMIZERS if o != "levenberg_marquardt"])
def test_every_optimizer_runs_and_the_batch_agrees_bit_for_bit(name):
    surf = _rosen()
    starts = np.array([[-1.5, 2.0], [0.5, -0.5], [1.2, 1.2]])
    res = optviz.run_batch(name, surf, starts=starts, steps=60)
    for i, start in enumerate(starts):
        traj = optviz.run(name, surf, start=start, steps=60)
        assert traj.status in optviz.STATUS_NAMES
        assert res.final_xy[i].tolist() == list(traj.xy[traj.stopped_at])
        assert res.final_loss[i] == traj.loss[traj.stopped_at] or (
            math.isnan(res.final_loss[i]) and math.isnan(traj.loss[traj.stopped_at])
        )
        assert optviz.STATUS_NAMES[res.status_code[i]] == traj.status
        assert res.stopped_at[i] == traj.stopped_at


def test_one_compiled_signature_for_formula_and_catalog_surfaces():
    optviz.run("adam", _rosen(), steps=5)
    optviz.run("adam", "rosenbrock", steps=5)
    optviz.run_batch("gd", _rosen(), starts=np.zeros((2, 2)), steps=3)
    optviz.run_batch("gd", "booth", starts=np.zeros((2, 2)), steps=3)
    assert len(_kernel.simulate.signatures) == 1, _kernel.simulate.signatures
    assert len(_batch.simulate_blocked.signatures) == 1, _batch.simulate_blocked.signatures


def test_formula_rosenbrock_follows_the_catalog_one():
    ours = optviz.run("newton", _rosen(), start=(-1.2, 1.0), steps=30)
    ref = optviz.run("newton", "rosenbrock", start=(-1.2, 1.0), steps=30)
    assert ours.status == ref.status
    np.testing.assert_allclose(ours.xy, ref.xy, rtol=1e-9, atol=1e-12)


def test_levenberg_marquardt_is_refused_with_a_reason():
    with pytest.raises(ValueError, match="sum of squared residuals"):
        optviz.run("levenberg_marquardt", _rosen())


def test_domain_errors_end_as_diverged():
    surf = surfaces.get("formula", formula="log(x) + y^2", xmin=0.1, xmax=3, ymin=-1, ymax=1)
    traj = optviz.run("gd", surf, start=(0.2, 0.5), steps=50, lr=1.0)  # jumps to x < 0
    assert traj.status == "diverged" and "diverged at step" in traj.message
    assert np.all(np.isfinite(traj.loss[: traj.stopped_at + 1]))


# ---- minima, f*, the loss axis ---------------------------------------------------------------


def test_default_formula_minima_and_saddles():
    surf = surfaces.get("formula")
    assert surf.params["formula"] == surfaces.FORMULA_DEFAULT
    got = sorted((round(m.x, 12), round(m.y, 12)) for m in surf.minima)
    assert got == [(0.0, round(-math.pi / 2, 12)), (0.0, round(3 * math.pi / 2, 12))]
    assert sorted(round(s.y, 12) for s in surf.saddles) == [
        round(-3 * math.pi / 2, 12),
        round(math.pi / 2, 12),
    ]
    assert surf.f_star == -10.0 and surf.f_star_estimated
    _, log, title = figures.loss_view(surf, [optviz.run("adam", surf, steps=5)])
    assert log and "estimated" in title


def test_himmelblau_as_formula_finds_its_four_minima():
    surf = surfaces.get(
        "formula", formula="(x^2 + y - 11)^2 + (x + y^2 - 7)^2", xmin=-5, xmax=5, ymin=-5, ymax=5
    )
    ref = surfaces.get("himmelblau")
    assert len(surf.minima) == 4
    for m in ref.minima:
        nearest = surf.nearest_minimum(m.x, m.y)
        assert math.hypot(nearest.x - m.x, nearest.y - m.y) < 1e-9
    assert abs(surf.f_star) < 1e-20


def test_unbounded_formula_has_no_f_star_and_escapes():
    surf = surfaces.get("formula", formula="x^3 - 3*x + y^2")  # a local minimum at (1, 0)
    assert [(round(m.x, 9), round(m.y, 9)) for m in surf.minima] == [(1.0, 0.0)]
    assert surf.f_star is None and surf.escape_radius < math.inf
    _, log, title = figures.loss_view(surf, [optviz.run("gd", surf, steps=5, lr=0.01)])
    assert not log and "unknown" in title
    flat = surfaces.get("formula", formula="x - y")
    assert not flat.minima and flat.f_star is None


def test_minima_marked_in_the_race_figure():
    surf = _rosen()
    traj = optviz.run("bfgs", surf, start=(-1.5, 2.0), steps=50)
    fig = figures.race_figure(surf, [traj], ["BFGS"], ["#0072B2"])
    names = [t.get("name") for t in fig["data"]]
    assert "minimum" in names


def test_bad_bounds_are_refused():
    with pytest.raises(ValueError, match="below"):
        surfaces.get("formula", formula="x^2", xmin=2.0, xmax=1.0)


# ---- permalink and CLI -------------------------------------------------------------------------


def test_permalink_round_trip():
    c = config.Comparison(
        surface="formula",
        surface_params={"formula": "x^4 - 2*x^2 + y^2 + 0.3*x", **ROSEN_BOUNDS},
        start=(-1.5, 2.0),
        runs=(config.RunSpec("bfgs"), config.RunSpec("adam", {"lr": 0.05})),
    )
    url = urllib.parse.urlencode(config.to_query(c))
    assert "formula=x%5E4+-+2%2Ax%5E2" in url
    back, notices = config.from_query(urllib.parse.parse_qs(url))
    assert notices == [] and back == c
    assert back.surface_obj() is c.surface_obj()


def test_permalink_with_a_bad_formula_says_so():
    c, notices = config.from_query({"surface": "formula", "formula": "x^2 + os.system(1)"})
    assert c.surface_obj().params["formula"] == surfaces.FORMULA_DEFAULT
    assert any("formula" in n and "column" in n for n in notices)
    _, notices = config.from_query({"surface": "ravine", "formula": "x"})
    assert notices


def test_cli_export_of_a_formula(tmp_path: Path, capsys):
    out = tmp_path / "own.csv"
    args = ["export", "--formula", ROSENBROCK, "--bounds", "-2,2,-1,3", "--start", "-1.5,2"]
    code = cli.main([*args, "--steps", "40", "--optimizer", "bfgs", "-o", str(out), "-q"])
    assert code == 0
    rows = list(csv.DictReader(out.read_text().splitlines()))
    traj = optviz.run("bfgs", _rosen(), start=(-1.5, 2.0), steps=40)
    assert len(rows) == traj.stopped_at + 1
    xy = np.array([[float(r["x"]), float(r["y"])] for r in rows])
    np.testing.assert_array_equal(xy, traj.valid_xy)


def test_cli_refuses_a_bad_formula_and_lm(tmp_path: Path, capsys):
    out = tmp_path / "x.csv"
    assert cli.main(["export", "--formula", "x^2 + __import__('os')", "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "column" in err and not out.exists()
    code = cli.main(["export", "--formula", "x^2", "--optimizer", "levenberg_marquardt",
                     "-o", str(out)])  # fmt: skip
    assert code == 2 and "sum of squared residuals" in capsys.readouterr().err
    assert cli.main(["export", "--surface", "ravine", "--bounds", "0,1,0,1", "-o", str(out)]) == 2


def test_double_well_preset_makes_its_point():
    from optviz import presets

    c = presets.get("own_double_well").comparison
    surf = c.surface_obj()
    deep, shallow = sorted(surf.minima, key=lambda m: m.value)
    assert [s.kind for s in surf.saddles] == ["saddle"] and deep.x < 0 < shallow.x
    gd, momentum, newton = config.run_comparison(c)
    for traj, well in ((gd, shallow), (momentum, deep), (newton, shallow)):
        x, y = traj.final
        assert traj.status == "ok" and math.hypot(x - well.x, y - well.y) < 1e-3, traj.optimizer
    back, notices = config.from_query(config.to_query(c))
    assert back == c and not notices


# ---- the app: the formula box, its error, the permalink ------------------------------------------


def _app(query: dict | None = None):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "app.py"), default_timeout=90)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    return at.run()


def test_app_formula_box_error_and_permalink():
    at = _app()
    at.selectbox(key="surface").set_value("formula").run()
    assert not at.exception
    at.text_input(key="sp.formula.text").set_value("(1-x)^2 + 100*(y-x^2)^2").run()
    assert not at.exception and not at.error
    assert at.query_params["formula"] == "(1-x)^2 + 100*(y-x^2)^2"
    assert any("(1-x)^2 + 100·(y-x^2)^2" in m.value for m in at.markdown)  # the page title
    at.text_input(key="sp.formula.text").set_value("x^2 + __import__('os')").run()
    assert not at.exception
    (error,) = at.error
    assert "not allowed" in error.value and "^" in error.value  # the caret under the token
    assert at.query_params["formula"] == "(1-x)^2 + 100*(y-x^2)^2"  # the last one that worked
    at.number_input(key="sp.formula.xmin").set_value(-1.0).run()
    assert not at.exception and at.query_params["sp.xmin"] == "-1.0"
    at.number_input(key="sp.formula.xmin").set_value(5.0).run()  # above x max: refused
    assert not at.exception
    assert any("below" in e.value for e in at.error) and any("below" in w.value for w in at.warning)
    assert at.query_params["formula"] == "(1-x)^2 + 100*(y-x^2)^2"  # the formula stays


def test_app_opens_a_formula_permalink_and_the_preset():
    at = _app({"surface": "formula", "formula": "x^4 - 2*x^2 + y^2", "sp.ymax": "3.0"})
    assert not at.exception and not at.warning
    assert at.text_input(key="sp.formula.text").value == "x^4 - 2*x^2 + y^2"
    assert at.session_state["sp.formula.ymax"] == 3.0
    at.selectbox(key="preset").set_value("own_double_well").run()
    assert not at.exception
    assert at.text_input(key="sp.formula.text").value == "x^4 - 2*x^2 + 0.3*x + y^2"
    assert at.query_params["formula"] == "x^4 - 2*x^2 + 0.3*x + y^2"


def test_typed_formulas_do_not_grow_the_surface_cache_without_bound(monkeypatch):
    from surfaces import catalog

    monkeypatch.setattr(catalog, "FORMULA_CACHE", 4)
    for k in range(7):
        surfaces.get("formula", formula=f"x^2 + {k + 2}*y^2 + 1")
    assert sum(key[0] == "formula" for key in catalog._CACHE) <= 4
    assert surfaces.get("rosenbrock") is surfaces.get("rosenbrock")
