"""Your own surface: a typed f(x, y), parsed against a whitelist and compiled to a tiny program.

The text is parsed with Python's :mod:`ast` (never ``eval``/``exec``/``compile``), every node is
checked against a whitelist, and the tree is compiled to a postfix program for a stack machine.
The program is encoded as the float64 surface-parameter vector ``p`` that every kernel already
receives, so one cached Numba interpreter (``surfaces._kernels.formula_eval``) runs every formula
with no new compile and no new signature::

    p = [n, op_0, arg_0, op_1, arg_1, …, op_{n-1}, arg_{n-1}]

The interpreter carries forward-mode second-order dual numbers (value, exact gradient and exact
Hessian) through the program.

Accepted: numbers, ``x``, ``y``, ``pi``, ``e``, ``+ - * /``, ``**`` and ``^`` (both mean power),
unary minus and plus, and the functions ``sin cos tan exp log sqrt tanh abs`` (one argument) and
``min max pow`` (two). Everything else is refused with a :class:`FormulaError` whose ``column``
(1-based, in the text as typed) and ``token`` point at the offending piece.

>>> prog = compile_formula("(1-x)^2 + 100*(y-x^2)^2")
>>> prog.stack_depth, len(prog.code) > 0
(4, True)
"""

from __future__ import annotations

import ast
import math
import re
import unicodedata
from dataclasses import dataclass

import numpy as np

# ---- opcodes (the interpreter in surfaces._kernels has the same table) -----------------------
CONST, VAR_X, VAR_Y = 0, 1, 2
ADD, SUB, MUL, DIV, MIN, MAX = 3, 4, 5, 6, 7, 8
NEG, POWC, SIN, COS, TAN, EXP, LOG, SQRT, TANH, ABS = 9, 10, 11, 12, 13, 14, 15, 16, 17, 18

# ---- limits -------------------------------------------------------------------------------------
MAX_LENGTH = 300  # characters
MAX_DEPTH = 24  # nesting of the expression tree
MAX_NODES = 160  # operations, numbers and names together
MAX_CONSTANT = 1e12  # |number| in the text or computed from numbers alone
MAX_EXPONENT = 64.0  # |c| in u^c with a constant c
MAX_STACK = 32  # the interpreter's stack (surfaces._kernels.MAX_STACK)

UNARY = {
    "sin": SIN,
    "cos": COS,
    "tan": TAN,
    "exp": EXP,
    "log": LOG,
    "sqrt": SQRT,
    "tanh": TANH,
    "abs": ABS,
}
BINARY = {"min": MIN, "max": MAX, "pow": None}
CONSTANTS = {"pi": math.pi, "e": math.e}
ALLOWED_TEXT = "numbers, x, y, pi, e, + − * / ^ (or **), and " + ", ".join([*UNARY, *BINARY])
_ALLOWED_CHARS = set("0123456789.xyXY+-*/^(), \t") | set("abcdefghijklmnopqrstuvwxyz")
_ALLOWED_CHARS |= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ_")


class FormulaError(ValueError):
    """A formula that is refused: ``message`` says why, ``column`` (1-based, in the text as
    typed) and ``token`` say where. ``str(error)`` is the one-line text for the user."""

    def __init__(self, message: str, column: int | None = None, token: str = "") -> None:
        self.message = message
        self.column = column
        self.token = token
        where = f" at column {column}" if column is not None else ""
        near = f" ({token!r})" if token else ""
        super().__init__(f"{message}{where}{near}")

    def pointer(self, text: str) -> str:
        """The text with a caret line under the offending token (for a monospace display)."""
        if self.column is None:
            return text
        start = max(self.column - 1, 0)
        width = max(len(self.token), 1)
        return f"{text}\n{' ' * start}{'^' * min(width, max(len(text) - start, 1))}"


@dataclass(frozen=True)
class Program:
    """A compiled formula: its postfix code as (opcode, argument) pairs and the stack it needs."""

    text: str
    code: tuple[tuple[int, float], ...]
    stack_depth: int
    latex: str

    def encode(self) -> np.ndarray:
        """The float64 vector ``[n, op_0, arg_0, …]`` the kernels receive as ``p``."""
        out = np.empty(1 + 2 * len(self.code))
        out[0] = len(self.code)
        for k, (op, arg) in enumerate(self.code):
            out[1 + 2 * k] = op
            out[2 + 2 * k] = arg
        return out


# ---- text -> AST ---------------------------------------------------------------------------------


def _char_name(ch: str) -> str:
    try:
        return unicodedata.name(ch)
    except ValueError:
        return "a control character"


def _check_characters(text: str) -> None:
    for i, ch in enumerate(text):
        if ch in _ALLOWED_CHARS:
            continue
        code = f"U+{ord(ch):04X}"
        if ch in "'\"":
            raise FormulaError("quotes are not allowed: a formula has no text in it", i + 1, ch)
        if ord(ch) < 128 and ch.isprintable():
            raise FormulaError(f"the character {ch!r} is not allowed", i + 1, ch)
        hint = ""
        folded = unicodedata.normalize("NFKC", ch)
        if folded != ch and all(c in _ALLOWED_CHARS for c in folded):
            hint = f"; did you mean {folded!r}?"
        elif ch in "×·":
            hint = "; write * for a product"
        elif ch in "−–":
            hint = "; write - (the ASCII minus)"
        elif ch in "хуХУеЕ":
            hint = "; this is a Cyrillic letter that looks like a Latin one"
        raise FormulaError(
            f"the character {code} ({_char_name(ch).lower()}) is not allowed{hint}", i + 1, ch
        )


def _to_python(text: str) -> tuple[str, list[int]]:
    """``^`` becomes ``**``; returns the new text and, per character of it, the 0-based column
    of the character it came from in ``text``."""
    out: list[str] = []
    where: list[int] = []
    for i, ch in enumerate(text):
        if ch == "^":
            out.append("**")
            where.extend((i, i))
        else:
            out.append(ch)
            where.append(i)
    return "".join(out), where


def _parse(text: str) -> tuple[ast.expr, list[int], str]:
    if not isinstance(text, str):
        raise FormulaError(f"a formula must be text, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise FormulaError(
            f"the formula is too long ({len(text)} characters; at most {MAX_LENGTH})",
            MAX_LENGTH + 1,
            text[MAX_LENGTH : MAX_LENGTH + 10],
        )
    if not text.strip():
        raise FormulaError("type a formula in x and y, e.g. x^2 + 10*sin(y)")
    _check_characters(text)
    depth = 0
    for i, ch in enumerate(text):
        depth += (ch == "(") - (ch == ")")
        if depth > MAX_DEPTH:
            raise FormulaError(f"too many nested brackets (at most {MAX_DEPTH})", i + 1, ch)
    source, where = _to_python(text)
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as e:
        raise _syntax_error(text, source, where, e) from None
    except (ValueError, RecursionError, MemoryError):
        raise FormulaError("the formula could not be read") from None
    return tree.body, where, source


def _syntax_error(text: str, source: str, where: list[int], e: SyntaxError) -> FormulaError:
    offset = (e.offset or 1) - 1
    offset = min(max(offset, 0), len(source))
    col = where[offset] if offset < len(where) else len(text)
    token = text[col : col + 1] if col < len(text) else ""
    msg = (e.msg or "invalid syntax").removeprefix("invalid syntax. ")
    if col >= len(text) or "was never closed" in msg or "unexpected EOF" in msg:
        if text.count("(") > text.count(")"):
            return FormulaError("a bracket '(' is never closed", text.rfind("(") + 1, "(")
        return FormulaError("the formula ends too early", len(text), text[-1:])
    stripped = text.rstrip()
    if stripped and stripped[-1] in "+-*/^(,.":
        return FormulaError(f"the formula ends too early, after {stripped[-1]!r}", len(stripped),
                            stripped[-1])  # fmt: skip
    before = text[:col].rstrip()[-1:]
    if before and (before.isalnum() or before in "._)") and (token.isalnum() or token == "("):
        return FormulaError("two terms without an operator between them; write * for a product",
                            col + 1, token)  # fmt: skip
    if "unmatched ')'" in msg:
        return FormulaError("this ')' has no matching '('", col + 1, ")")
    if "decimal literal" in msg or (col > 0 and text[col - 1].isdigit() and token.isalpha()):
        return FormulaError("a number is followed by a name; write 2*x for a product", col + 1,
                            token)  # fmt: skip
    if "Perhaps you forgot a comma" in msg:
        return FormulaError("two terms without an operator between them", col + 1, token)
    return FormulaError("this is not a formula I can read", col + 1, token)


# ---- AST -> program ------------------------------------------------------------------------------


_Code = tuple[list[tuple[int, float]], float | None, int]  # code, constant or None, stack


class _Compiler:
    def __init__(self, text: str, source: str, where: list[int]) -> None:
        self.text = text
        self.source = source
        self.where = where
        self.nodes = 0

    # where a node is, in the text as typed
    def _span(self, node: ast.AST) -> tuple[int, str]:
        start = getattr(node, "col_offset", None)
        end = getattr(node, "end_col_offset", None)
        if start is None:
            return 1, ""
        start = min(start, len(self.where) - 1)
        end = min(end if end is not None else start + 1, len(self.where))
        a = self.where[start]
        b = self.where[end - 1] + 1 if end > start else a + 1
        token = self.text[a:b]
        if len(token) > 24:
            token = token[:21] + "…"
        return a + 1, token

    def error(self, message: str, node: ast.AST) -> FormulaError:
        col, token = self._span(node)
        return FormulaError(message, col, token)

    def constant(self, value: float, node: ast.AST) -> float:
        if not math.isfinite(value) or abs(value) > MAX_CONSTANT:
            raise self.error(
                f"this number is too large (|c| at most {MAX_CONSTANT:g}; x^2 is fine, 10^20 is "
                "not)",
                node,
            )
        return value

    def compile(self, node: ast.AST, depth: int) -> _Code:
        """(code, constant value or None, stack depth the code needs)."""
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise self.error(f"the formula is too long (more than {MAX_NODES} terms)", node)
        if depth > MAX_DEPTH:
            raise self.error(f"the formula is nested too deeply (at most {MAX_DEPTH} levels)", node)
        if isinstance(node, ast.Constant):
            v = node.value
            if isinstance(v, bool) or not isinstance(v, int | float):
                raise self.error("only plain numbers are allowed here", node)
            literal = ast.get_source_segment(self.source, node) or ""
            if not re.fullmatch(r"[0-9_]*\.?[0-9_]*([eE][+-]?[0-9_]+)?", literal):
                raise self.error("write numbers in decimal (like 12, 0.5 or 3e-4)", node)
            if isinstance(v, int) and abs(v) > MAX_CONSTANT:
                self.constant(math.inf, node)  # raises
            c = self.constant(float(v), node)
            return [(CONST, c)], c, 1
        if isinstance(node, ast.Name):
            if node.id == "x":
                return [(VAR_X, 0.0)], None, 1
            if node.id == "y":
                return [(VAR_Y, 0.0)], None, 1
            if node.id in CONSTANTS:
                c = CONSTANTS[node.id]
                return [(CONST, c)], c, 1
            if node.id in UNARY or node.id in BINARY:
                raise self.error(f"{node.id} is a function: write {node.id}(…)", node)
            if node.id in ("X", "Y"):
                raise self.error(f"unknown name {node.id!r}; the variables are lower-case x, y",
                                 node)  # fmt: skip
            raise self.error(f"unknown name {node.id!r}; allowed: {ALLOWED_TEXT}", node)
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.UAdd):
                return self.compile(node.operand, depth + 1)
            if isinstance(node.op, ast.USub):
                code, c, need = self.compile(node.operand, depth + 1)
                if c is not None:
                    return [(CONST, -c)], -c, 1
                return code + [(NEG, 0.0)], None, need
            raise self.error("only + and - may stand before a term", node)
        if isinstance(node, ast.BinOp):
            ops = {ast.Add: ADD, ast.Sub: SUB, ast.Mult: MUL, ast.Div: DIV, ast.Pow: None}
            kind = type(node.op)
            if kind not in ops:
                raise self.error("only + - * / and ^ (or **) are allowed between terms",
                                 node)  # fmt: skip
            if kind is ast.Pow:
                return self.power(node, node.left, node.right, depth)
            return self.binary(node, ops[kind], node.left, node.right, depth)
        if isinstance(node, ast.Call):
            return self.call(node, depth)
        kinds = {
            ast.Attribute: "attribute access (a.b)",
            ast.Lambda: "lambda",
            ast.Subscript: "indexing (a[i])",
            ast.Compare: "comparisons",
            ast.BoolOp: "and/or",
            ast.IfExp: "if/else",
            ast.ListComp: "comprehensions",
            ast.SetComp: "comprehensions",
            ast.DictComp: "comprehensions",
            ast.GeneratorExp: "comprehensions",
            ast.Tuple: "tuples (a, b)",
            ast.List: "lists",
            ast.Dict: "dictionaries",
            ast.Set: "sets",
            ast.JoinedStr: "strings",
            ast.Starred: "*args",
            ast.NamedExpr: ":=",
            ast.Await: "await",
            ast.Yield: "yield",
            ast.YieldFrom: "yield",
        }
        what = kinds.get(type(node), type(node).__name__)
        raise self.error(f"{what} is not allowed; allowed: {ALLOWED_TEXT}", node)

    def binary(self, node: ast.AST, op: int, left: ast.AST, right: ast.AST, depth: int) -> _Code:
        lcode, lc, lneed = self.compile(left, depth + 1)
        rcode, rc, rneed = self.compile(right, depth + 1)
        if lc is not None and rc is not None:
            return self.folded(node, op, lc, rc)
        return lcode + rcode + [(op, 0.0)], None, max(lneed, 1 + rneed)

    def folded(self, node: ast.AST, op: int, a: float, b: float) -> _Code:
        try:
            if op == ADD:
                v = a + b
            elif op == SUB:
                v = a - b
            elif op == MUL:
                v = a * b
            elif op == DIV:
                v = a / b
            elif op == MIN:
                v = min(a, b)
            else:
                v = max(a, b)
        except ZeroDivisionError:
            raise self.error("division by zero", node) from None
        c = self.constant(v, node)
        return [(CONST, c)], c, 1

    def power(self, node: ast.AST, base: ast.AST, exponent: ast.AST, depth: int) -> _Code:
        bcode, bc, bneed = self.compile(base, depth + 1)
        ecode, ec, eneed = self.compile(exponent, depth + 1)
        if ec is not None:
            if abs(ec) > MAX_EXPONENT:
                raise self.error(f"the exponent is too large (at most {MAX_EXPONENT:g})", exponent)
            if bc is not None:
                try:
                    v = math.pow(bc, ec)
                except (OverflowError, ValueError, ZeroDivisionError):
                    raise self.error("this power has no finite real value", node) from None
                c = self.constant(v, node)
                return [(CONST, c)], c, 1
            if ec == 1.0:
                return bcode, None, bneed
            return bcode + [(POWC, ec)], None, bneed
        # u^v with a variable exponent: exp(v·log u), defined for u > 0 (NaN elsewhere).
        if bc is not None:
            if bc <= 0.0:
                raise self.error("a variable power needs a positive base (e^x, 2^x, …)", node)
            if bc == math.e:
                return ecode + [(EXP, 0.0)], None, eneed
            return ecode + [(CONST, math.log(bc)), (MUL, 0.0), (EXP, 0.0)], None, max(eneed, 2)
        code = ecode + bcode + [(LOG, 0.0), (MUL, 0.0), (EXP, 0.0)]
        return code, None, max(eneed, 1 + bneed)

    def call(self, node: ast.Call, depth: int) -> _Code:
        if not isinstance(node.func, ast.Name):
            raise self.error("a bracket right after a term: write * for a product, e.g. "
                             "(x+1)*(y-1)", node.args[0] if node.args else node)  # fmt: skip
        name = node.func.id
        if node.keywords:
            raise self.error(f"{name}(…) takes no named arguments", node.keywords[0])
        if any(isinstance(a, ast.Starred) for a in node.args):
            raise self.error("*args is not allowed", node)
        if name in UNARY:
            if len(node.args) != 1:
                raise self.error(f"{name} takes one argument, got {len(node.args)}", node)
            code, c, need = self.compile(node.args[0], depth + 1)
            if c is not None:
                return self.folded_call(node, name, c)
            return code + [(UNARY[name], 0.0)], None, need
        if name in BINARY:
            if len(node.args) != 2:
                raise self.error(f"{name} takes two arguments, got {len(node.args)}", node)
            a, b = node.args
            if name == "pow":
                return self.power(node, a, b, depth)
            return self.binary(node, BINARY[name], a, b, depth)
        if name in ("x", "y") or name in CONSTANTS:
            raise self.error(f"{name}(…) is not a function; write {name}*(…) for a product",
                             node)  # fmt: skip
        raise self.error(f"unknown function {name!r}; allowed: {', '.join([*UNARY, *BINARY])}",
                         node.func)  # fmt: skip

    def folded_call(self, node: ast.AST, name: str, c: float) -> _Code:
        fns = {"sin": math.sin, "cos": math.cos, "tan": math.tan, "exp": math.exp,
               "log": math.log, "sqrt": math.sqrt, "tanh": math.tanh, "abs": abs}  # fmt: skip
        try:
            v = fns[name](c)
        except (OverflowError, ValueError):
            raise self.error(f"{name} of this number has no finite real value", node) from None
        v = self.constant(v, node)
        return [(CONST, v)], v, 1


def compile_formula(text: str) -> Program:
    """Parse and compile ``text``; :class:`FormulaError` (a ``ValueError``) says what and where.

    Never evaluates the text, and never raises anything but FormulaError for any string.
    """
    try:
        node, where, source = _parse(text)
        comp = _Compiler(text, source, where)
        code, _, need = comp.compile(node, 0)
        if need > MAX_STACK:
            raise FormulaError(f"the formula is nested too deeply (stack of {need} > {MAX_STACK})")
        return Program(text, tuple(code), need, to_latex(node))
    except FormulaError:
        raise
    except RecursionError:
        raise FormulaError(f"the formula is nested too deeply (at most {MAX_DEPTH})") from None
    except Exception as e:  # noqa: BLE001 — the last line of defence: a message, never a crash
        raise FormulaError(f"the formula could not be read ({type(e).__name__})") from None


def check(text: str) -> FormulaError | None:
    """None when ``text`` compiles, else the error (for the input box)."""
    try:
        compile_formula(text)
    except FormulaError as e:
        return e
    return None


# ---- LaTeX for the formula cards ----------------------------------------------------------------

_PREC = {ast.Add: 1, ast.Sub: 1, ast.Mult: 2, ast.Div: 2, ast.Pow: 4}


def _num(v: float) -> str:
    if isinstance(v, int) or float(v).is_integer() and abs(v) < 1e15:
        return str(int(v))
    return f"{v:g}".replace("e", r"\cdot 10^{") + ("}" if "e" in f"{v:g}" else "")


def to_latex(node: ast.AST) -> str:
    """The formula in LaTeX (``x^2`` as x^{2}, fractions as \\frac, functions as \\sin …)."""

    def go(n: ast.AST, parent: int = 0) -> str:
        if isinstance(n, ast.Constant):
            return _num(n.value)
        if isinstance(n, ast.Name):
            return {"pi": r"\pi", "e": "e"}.get(n.id, n.id)
        if isinstance(n, ast.UnaryOp):
            inner = go(n.operand, 3)
            s = ("-" if isinstance(n.op, ast.USub) else "+") + inner
            return f"\\left({s}\\right)" if parent >= 3 else s
        if isinstance(n, ast.BinOp):
            p = _PREC[type(n.op)]
            if isinstance(n.op, ast.Div):
                s = rf"\frac{{{go(n.left)}}}{{{go(n.right)}}}"
                return s
            if isinstance(n.op, ast.Pow):
                s = f"{go(n.left, 5)}^{{{go(n.right)}}}"
            else:
                sym = {ast.Add: " + ", ast.Sub: " - ", ast.Mult: r" \cdot "}[type(n.op)]
                right_p = p + 1 if isinstance(n.op, ast.Sub) else p
                s = go(n.left, p) + sym + go(n.right, right_p)
            return f"\\left({s}\\right)" if p < parent else s
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name):
            args = ", ".join(go(a) for a in n.args)
            name = n.func.id
            if name == "sqrt":
                return rf"\sqrt{{{args}}}"
            if name == "abs":
                return rf"\left|{args}\right|"
            if name == "pow":
                return f"{go(n.args[0], 5)}^{{{go(n.args[1])}}}"
            cmd = {"min": r"\min", "max": r"\max"}.get(name, "\\" + name)
            return rf"{cmd}\left({args}\right)"
        return "?"

    return "f(x,y)=" + go(node)


# ---- minima and saddles, found numerically ------------------------------------------------------


@dataclass(frozen=True)
class Landscape:
    """What the search found: stationary points (x, y, f) inside the bounds, the lowest value
    on a grid over the bounds, and whether the best minimum is the lowest point of the plot."""

    minima: tuple[tuple[float, float, float], ...]
    saddles: tuple[tuple[float, float, float], ...]
    grid_min: float
    best_is_global: bool


def _derivatives(p: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> tuple:
    from surfaces import _kernels as K

    empty_x, empty_y = np.zeros((0, 2)), np.zeros(0)
    xs = np.ascontiguousarray(xs, np.float64)
    ys = np.ascontiguousarray(ys, np.float64)
    g = np.empty((xs.size, 2))
    h = np.empty((xs.size, 3))
    f = np.empty(xs.size)
    K.derivatives_grid(K.FORMULA, xs, ys, p, empty_x, empty_y, g, h)
    K.value_grid(K.FORMULA, xs, ys, p, empty_x, empty_y, f)
    return f, g, h


def _values(p: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    from surfaces import _kernels as K

    f = np.empty(xs.size)
    xs = np.ascontiguousarray(xs, np.float64)
    ys = np.ascontiguousarray(ys, np.float64)
    K.value_grid(K.FORMULA, xs, ys, p, np.zeros((0, 2)), np.zeros(0), f)
    return f


def find_landscape(p: np.ndarray, bounds: tuple, grid: int = 9) -> Landscape:
    """Minima and saddles of the compiled formula ``p`` inside ``bounds``.

    Minima: saddle-free Newton with a backtracking line search from a ``grid`` × ``grid`` set of
    starts, then plain Newton to polish. Saddles: plain Newton (which converges to any nearby
    stationary point) from the same starts. A point counts when it is inside the bounds, ∇f ≈ 0
    (‖∇f‖ ≤ 1e-8 of the typical gradient on the plot) and its Hessian is positive definite
    (minimum) or indefinite (saddle); duplicates are merged. Deterministic; 50–80 ms on the
    (busy) project machine.
    """
    (x0, x1), (y0, y1) = bounds
    span = np.array([x1 - x0, y1 - y0])
    diag = float(np.hypot(*span))
    gx, gy = np.meshgrid(np.linspace(x0, x1, grid + 2)[1:-1], np.linspace(y0, y1, grid + 2)[1:-1])
    starts = np.column_stack([gx.ravel(), gy.ravel()])
    fine_x, fine_y = np.meshgrid(np.linspace(x0, x1, 61), np.linspace(y0, y1, 61))
    fine = _values(p, fine_x.ravel(), fine_y.ravel())
    finite = fine[np.isfinite(fine)]
    grid_min = float(finite.min()) if finite.size else math.nan
    _, g_fine, _ = _derivatives(p, fine_x.ravel(), fine_y.ravel())
    gnorm = np.hypot(g_fine[:, 0], g_fine[:, 1])
    gnorm = gnorm[np.isfinite(gnorm)]
    g_scale = float(np.median(gnorm)) if gnorm.size else 1.0
    g_tol = 1e-8 * max(g_scale, 1e-8)
    max_step = np.ascontiguousarray(0.25 * span, np.float64)
    empty_x, empty_y = np.zeros((0, 2)), np.zeros(0)

    def descend(pts: np.ndarray, saddle_free: bool, iters: int) -> np.ndarray:
        from surfaces import _kernels as K

        out = np.empty_like(pts)
        K.stationary_search(K.FORMULA, p, empty_x, empty_y, np.ascontiguousarray(pts),
                            saddle_free, iters, max_step, out)  # fmt: skip
        return out

    found_min: list[tuple[float, float, float]] = []
    found_saddle: list[tuple[float, float, float]] = []
    for saddle_free in (True, False):
        pts = descend(starts, saddle_free, 100 if saddle_free else 40)
        pts = descend(pts, False, 8)  # polish
        f, g, h = _derivatives(p, pts[:, 0], pts[:, 1])
        for (x, y), fv, gv, hv in zip(pts, f, g, h, strict=True):
            if not (x0 <= x <= x1 and y0 <= y <= y1) or not np.isfinite(fv):
                continue
            if not (np.all(np.isfinite(gv)) and np.hypot(*gv) <= g_tol):
                continue
            if not np.all(np.isfinite(hv)):
                continue
            lam = np.linalg.eigvalsh(np.array([[hv[0], hv[1]], [hv[1], hv[2]]]))
            floor = 1e-9 * (1.0 + np.max(np.abs(lam)))
            if lam[0] > floor:
                target = found_min
            elif lam[0] < -floor and lam[1] > floor:
                target = found_saddle
            else:
                continue  # a maximum, or degenerate: not marked
            if all(math.hypot(x - a, y - b) > 1e-6 * diag for a, b, _ in target):
                target.append((float(x), float(y), float(fv)))
    found_min.sort(key=lambda m: m[2])
    found_saddle.sort(key=lambda m: m[2])
    best = found_min[0][2] if found_min else math.inf
    tol = 1e-9 * (1.0 + abs(best))
    best_is_global = bool(found_min) and not (grid_min < best - tol)
    return Landscape(tuple(found_min[:12]), tuple(found_saddle[:12]), grid_min, best_is_global)
