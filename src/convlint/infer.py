"""Stage 3: constant propagation and symbolic shapes -> one ConvSpec per site.

The file is walked once in source order. Module statements are evaluated flow-
sensitively (a name has the value of its last assignment above the use); function
bodies are evaluated afterwards against the module's final globals, as they would be
when called; ``__init__`` runs before the other methods so ``self.x = ...`` is known
in ``forward``. Branches merge (a name that differs between branches is unknown) and
names assigned in loops are unknown. Anything that is not a compile-time fact is
``UNKNOWN``: rules stay silent on it rather than guess.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Dict, FrozenSet, Iterable, List, Optional, Sequence, Tuple

import libcst as cst
from libcst.metadata import PositionProvider

from .apis import ApiSpec
from .parse import ParsedFile
from .sites import FileIndex, RawSite, default_of
from .spec import NCL, NLC, ConvSpec, Padding, Site, Span, TensorFact, UNKNOWN_PADDING


class _Unknown:
    _instance = None

    def __new__(cls) -> "_Unknown":
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN = _Unknown()


class _ModuleValue:
    """An imported module or object: a name that is not a value of the user's data."""


_MODULE = _ModuleValue()


@dataclass(frozen=True)
class LayerValue:
    """An instance of a convolution layer, e.g. ``nn.Conv1d(...)``."""

    spec: ConvSpec
    site_label: str


@dataclass(eq=False)
class _ClassContext:
    name: str
    attrs: Dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class _SelfValue:
    context: _ClassContext


class _Env:
    def __init__(self, parent: Optional["_Env"] = None) -> None:
        self.parent = parent
        self.values: Dict[str, object] = {}
        self.deps: Dict[str, FrozenSet[str]] = {}

    def get(self, name: str) -> object:
        env: Optional[_Env] = self
        while env is not None:
            if name in env.values:
                return env.values[name]
            env = env.parent
        return _BUILTIN_CONSTANTS.get(name, UNKNOWN)

    def deps_of(self, name: str) -> FrozenSet[str]:
        env: Optional[_Env] = self
        while env is not None:
            if name in env.deps:
                return env.deps[name]
            env = env.parent
        return frozenset()

    def set(self, name: str, value: object, deps: FrozenSet[str] = frozenset()) -> None:
        self.values[name] = value
        self.deps[name] = deps

    def copy(self) -> "_Env":
        env = _Env(self.parent)
        env.values = dict(self.values)
        env.deps = dict(self.deps)
        return env

    def merge(self, other: "_Env") -> None:
        for name in set(self.values) | set(other.values):
            mine, theirs = self.values.get(name, UNKNOWN), other.values.get(name, UNKNOWN)
            if mine != theirs or type(mine) is not type(theirs):
                self.values[name] = UNKNOWN
            self.deps[name] = self.deps.get(name, frozenset()) | other.deps.get(name, frozenset())


_BUILTIN_CONSTANTS = {"True": True, "False": False, "None": None}

# Tensor constructors whose shape is given by their arguments.
_SHAPE_CONSTRUCTORS = {
    "torch.ones": "torch", "torch.zeros": "torch", "torch.randn": "torch", "torch.rand": "torch",
    "torch.empty": "torch", "torch.Tensor": "torch", "torch.FloatTensor": "torch",
    "numpy.ones": "numpy", "numpy.zeros": "numpy", "numpy.empty": "numpy",
    "numpy.random.randn": "numpy", "numpy.random.rand": "numpy",
    "tensorflow.ones": "tensorflow", "tensorflow.zeros": "tensorflow",
    "tensorflow.random.normal": "tensorflow", "tensorflow.random.uniform": "tensorflow",
    "jax.numpy.ones": "jax", "jax.numpy.zeros": "jax", "jax.numpy.empty": "jax",
    "keras.ops.ones": "keras", "keras.ops.zeros": "keras",
}
# Constructors from nested literal data.
_DATA_CONSTRUCTORS = {
    "torch.tensor": "torch", "torch.Tensor": "torch", "torch.FloatTensor": "torch",
    "numpy.array": "numpy", "numpy.asarray": "numpy",
    "tensorflow.constant": "tensorflow", "tensorflow.convert_to_tensor": "tensorflow",
    "tensorflow.Variable": "tensorflow",
    "jax.numpy.array": "jax", "jax.numpy.asarray": "jax", "keras.ops.convert_to_tensor": "keras",
}
# Functions that keep their first argument's values and layout (framework moves).
_PASS_THROUGH = {
    "torch.from_numpy": "torch", "torch.as_tensor": "torch", "torch.tensor": "torch",
    "numpy.array": "numpy", "numpy.asarray": "numpy", "numpy.ascontiguousarray": "numpy",
    "tensorflow.constant": "tensorflow", "tensorflow.convert_to_tensor": "tensorflow",
    "tensorflow.Variable": "tensorflow", "tensorflow.identity": "tensorflow",
    "jax.numpy.asarray": "jax", "jax.numpy.array": "jax", "keras.ops.convert_to_tensor": "keras",
    "torch.nn.Parameter": "torch",
}
_SAME_TENSOR_METHODS = {"contiguous", "detach", "cpu", "numpy", "float", "clone", "double",
                        "half", "to", "requires_grad_", "astype", "copy", "cuda", "data"}
_RANDOM_WITH_SHAPE_ARG = {"jax.random.normal": 1, "jax.random.uniform": 1,
                          "numpy.random.normal": None, "numpy.random.standard_normal": 0}


def _is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _as_dims(value: object) -> Optional[Tuple[Optional[int], ...]]:
    """A shape given as a tuple/list of ints (unknown dims allowed)."""
    if isinstance(value, tuple):
        return tuple(d if _is_int(d) else None for d in value)
    return None


def _nested_shape(node: cst.BaseExpression) -> Optional[Tuple[int, ...]]:
    if isinstance(node, (cst.List, cst.Tuple)):
        elements = [e.value for e in node.elements if not isinstance(e, cst.StarredElement)]
        if len(elements) != len(node.elements):
            return None
        if not elements:
            return (0,)
        inner = [_nested_shape(e) for e in elements]
        if any(s is None for s in inner) or len(set(inner)) != 1:
            return None
        return (len(elements),) + inner[0]  # type: ignore[operator]
    if isinstance(node, (cst.Integer, cst.Float)):
        return ()
    if isinstance(node, cst.UnaryOperation) and isinstance(node.expression, (cst.Integer, cst.Float)):
        return ()
    return None


def _tensor(framework: Optional[str], shape: Optional[Sequence[Optional[int]]],
            origin: str, axes: Optional[str] = None) -> TensorFact:
    return TensorFact(framework, None if shape is None else tuple(shape), axes, origin)


def _permute(fact: TensorFact, perm: Sequence[object], text: str) -> object:
    if fact.shape is None:
        return replace(fact, views=fact.views + (text,))
    rank = len(fact.shape)
    if len(perm) != rank or not all(_is_int(p) for p in perm):
        return UNKNOWN
    norm = [p % rank for p in perm]  # type: ignore[operator]
    if sorted(norm) != list(range(rank)):
        return UNKNOWN
    shape = tuple(fact.shape[p] for p in norm)
    axes = None if fact.axes is None else "".join(fact.axes[p] for p in norm)
    spans = None if fact.dim_spans is None else tuple(fact.dim_spans[p] for p in norm)
    return TensorFact(fact.framework, shape, axes, fact.origin, fact.views + (text,), spans)


def _reshape(fact: TensorFact, dims: Sequence[object], text: str) -> TensorFact:
    shape = [d if _is_int(d) else None for d in dims]
    if -1 in shape and fact.shape is not None and all(d is not None for d in fact.shape):
        known = math.prod(d for d in shape if d is not None and d != -1)
        total = math.prod(fact.shape)  # type: ignore[arg-type]
        if known and total % known == 0:
            shape[shape.index(-1)] = total // known
    shape = [None if d == -1 else d for d in shape]
    axes = None
    if fact.axes is not None:
        # A reshape keeps the order only when it adds or drops size-1 axes (catalog F5).
        axes = _reshape_axes(fact, shape)
    return TensorFact(fact.framework, tuple(shape), axes, fact.origin, fact.views + (text,))


def _reshape_axes(fact: TensorFact, shape: Sequence[Optional[int]]) -> str:
    assert fact.shape is not None and fact.axes is not None
    old = [(d, a) for d, a in zip(fact.shape, fact.axes) if d != 1]
    new = [d for d in shape if d != 1]
    if len(old) == len(new) and all(o[0] == n and n is not None for o, n in zip(old, new)):
        labels = iter(a for _, a in old)
        return "".join(next(labels) if d != 1 else "1" for d in shape)
    return "?" * len(shape)


class _Inference:
    def __init__(self, parsed: ParsedFile, index: FileIndex) -> None:
        self.path = parsed.path
        self.module = parsed.module
        self.positions = parsed.wrapper.resolve(PositionProvider)
        self.callees = index.callees
        self.raw_by_node: Dict[cst.Call, RawSite] = {s.node: s for s in index.sites}
        self.done: Dict[int, Site] = {}
        self.layers: Dict[int, LayerValue] = {}
        self.deferred: List[Tuple[cst.FunctionDef, Optional[_ClassContext]]] = []

    # --- driver ------------------------------------------------------------------------
    def run(self) -> List[Site]:
        if not self.raw_by_node:
            return []
        globals_env = _Env()
        self.exec_block(self.module.body, globals_env, None)
        # Function bodies see the module's final globals, as at call time.
        while self.deferred:
            func, context = self.deferred.pop(0)
            self.exec_function(func, globals_env, context)
        # Any site in code the walk did not evaluate (e.g. a lambda, a decorator) is
        # still described, with only what its own literals say.
        for raw in self.raw_by_node.values():
            if raw.order not in self.done:
                self.site_value(raw, _Env(globals_env))
        return [self.done[k] for k in sorted(self.done)]

    def exec_function(self, func: cst.FunctionDef, globals_env: _Env,
                      context: Optional[_ClassContext]) -> None:
        env = _Env(globals_env)
        params = list(func.params.posonly_params) + list(func.params.params)
        for i, param in enumerate(params + list(func.params.kwonly_params)):
            value: object = UNKNOWN
            if i == 0 and context is not None and param in params:
                value = _SelfValue(context)
            elif param.default is not None:
                value = self.eval(param.default, globals_env)
            env.set(param.name.value, value)
        for star in (func.params.star_arg, func.params.star_kwarg):
            if isinstance(star, cst.Param):
                env.set(star.name.value, UNKNOWN)
        body = func.body.body if isinstance(func.body, cst.IndentedBlock) else [func.body]
        self.exec_block(body, env, context)

    # --- statements --------------------------------------------------------------------
    def exec_block(self, body: Sequence[cst.CSTNode], env: _Env,
                   context: Optional[_ClassContext]) -> None:
        for stmt in body:
            self.exec_stmt(stmt, env, context)

    def exec_stmt(self, stmt: cst.CSTNode, env: _Env, context: Optional[_ClassContext]) -> None:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                self.exec_small(small, env)
            return
        if isinstance(stmt, cst.FunctionDef):
            self.deferred.append((stmt, context))
            env.set(stmt.name.value, UNKNOWN)
            return
        if isinstance(stmt, cst.ClassDef):
            self.exec_class(stmt, env)
            return
        if isinstance(stmt, cst.If):
            self.eval(stmt.test, env)
            then_env = env.copy()
            self.exec_block(stmt.body.body, then_env, context)
            else_env = env.copy()
            if stmt.orelse is not None:
                orelse = stmt.orelse
                if isinstance(orelse, cst.If):
                    self.exec_stmt(orelse, else_env, context)
                else:
                    self.exec_block(orelse.body.body, else_env, context)
            then_env.merge(else_env)
            env.values, env.deps = then_env.values, then_env.deps
            return
        if isinstance(stmt, (cst.For, cst.While)):
            assigned = _assigned_names(stmt)
            for name in assigned:
                env.set(name, UNKNOWN)
            if isinstance(stmt, cst.For):
                self.eval(stmt.iter, env)
            self.exec_block(stmt.body.body, env, context)
            if stmt.orelse is not None:
                self.exec_block(stmt.orelse.body.body, env, context)
            for name in assigned:
                env.set(name, UNKNOWN)
            return
        if isinstance(stmt, (cst.With,)):
            for item in stmt.items:
                self.eval(item.item, env)
                if item.asname is not None:
                    self.assign(item.asname.name, UNKNOWN, env, frozenset())
            self.exec_block(stmt.body.body, env, context)
            return
        if isinstance(stmt, (cst.Try, cst.TryStar)):
            start = env.copy()
            self.exec_block(stmt.body.body, env, context)
            for handler in stmt.handlers:
                branch = start.copy()
                self.exec_block(handler.body.body, branch, context)
                env.merge(branch)
            if stmt.orelse is not None:
                self.exec_block(stmt.orelse.body.body, env, context)
            if stmt.finalbody is not None:
                self.exec_block(stmt.finalbody.body.body, env, context)
            return
        if isinstance(stmt, cst.Match):
            for name in _assigned_names(stmt):
                env.set(name, UNKNOWN)
            self.sweep(stmt, env)
            return
        self.sweep(stmt, env)

    def exec_class(self, node: cst.ClassDef, env: _Env) -> None:
        context = _ClassContext(node.name.value)
        class_env = _Env(env)
        body = node.body.body if isinstance(node.body, cst.IndentedBlock) else [node.body]
        methods: List[cst.FunctionDef] = []
        for stmt in body:
            if isinstance(stmt, cst.FunctionDef):
                methods.append(stmt)
            else:
                self.exec_stmt(stmt, class_env, context)
        context.attrs.update({k: v for k, v in class_env.values.items()})
        # __init__ first: it defines the attributes the other methods read.
        methods.sort(key=lambda m: m.name.value != "__init__")
        for method in methods:
            self.deferred.append((method, context))
        env.set(node.name.value, UNKNOWN)

    def exec_small(self, small: cst.BaseSmallStatement, env: _Env) -> None:
        if isinstance(small, cst.Assign):
            value = self.eval(small.value, env)
            deps = self.deps(small.value, env)
            for target in small.targets:
                self.assign(target.target, value, env, deps)
        elif isinstance(small, cst.AnnAssign):
            if small.value is not None:
                self.assign(small.target, self.eval(small.value, env), env,
                            self.deps(small.value, env))
        elif isinstance(small, cst.AugAssign):
            current = self.eval(small.target, env)
            operand = self.eval(small.value, env)
            op = type(small.operator).__name__.replace("Assign", "")
            self.assign(small.target, _binary(op, current, operand), env,
                        self.deps(small.value, env) | self.deps(small.target, env))
        elif isinstance(small, (cst.Expr, cst.Return)):
            if small.value is not None:
                self.eval(small.value, env)
        elif isinstance(small, (cst.Import, cst.ImportFrom)):
            for alias in small.names if not isinstance(small.names, cst.ImportStar) else ():
                local = alias.evaluated_alias or alias.evaluated_name.split(".")[0]
                env.set(local, _MODULE)
        self.sweep(small, env)

    def assign(self, target: cst.BaseExpression, value: object, env: _Env,
               deps: FrozenSet[str]) -> None:
        if isinstance(target, cst.Name):
            env.set(target.value, value, deps)
        elif isinstance(target, (cst.Tuple, cst.List)):
            elements = target.elements
            starred = any(isinstance(e, cst.StarredElement) for e in elements)
            values = value if isinstance(value, tuple) else None
            for i, element in enumerate(elements):
                item = UNKNOWN
                if values is not None and not starred and len(values) == len(elements):
                    item = values[i]
                inner = element.value
                self.assign(inner, item, env, deps)
        elif isinstance(target, cst.Subscript) and isinstance(target.value, cst.Name):
            # `dense[:, a:b, c:d] = ...` hand-builds the values: the shape stays, but what
            # the tensor holds is no longer what its constructor made.
            current = env.get(target.value.value)
            if isinstance(current, TensorFact):
                env.set(target.value.value, replace(current, views=current.views + ("setitem",)),
                        env.deps_of(target.value.value) | deps)
        elif isinstance(target, cst.Attribute):
            owner = self.eval(target.value, env)
            if isinstance(owner, _SelfValue):
                attrs = owner.context.attrs
                name = target.attr.value
                previous = attrs.get(name, value)
                attrs[name] = value if previous == value else UNKNOWN

    # --- sites -------------------------------------------------------------------------
    def sweep(self, node: cst.CSTNode, env: _Env) -> None:
        """Describe sites nested where evaluation does not reach (lambdas, conditions)."""
        if not self.raw_by_node:
            return
        for call in _calls_in(node):
            raw = self.raw_by_node.get(call)
            if raw is not None and raw.order not in self.done:
                self.site_value(raw, env)

    def site_value(self, raw: RawSite, env: _Env) -> object:
        if raw.order in self.layers:
            return self.layers[raw.order]
        spec = build_spec(raw, lambda e: self.eval(e, env))
        if spec is None:  # known not to be 1-D
            self.done.setdefault(raw.order, None)  # type: ignore[arg-type]
            return UNKNOWN
        names = set()
        for expr in raw.bound.args.values():
            names |= self.deps(expr, env)
        site = Site(self.path, raw.span, spec, raw.scope, raw.order, tuple(sorted(names)),
                    raw.args_end)
        self.done[raw.order] = site
        if spec.form == "layer":
            layer = LayerValue(spec, f"{self.path}:{raw.span.line}")
            self.layers[raw.order] = layer
            return layer
        return TensorFact(spec.framework, None, None, f"{self.path}:{raw.span.line}")

    # --- expressions -------------------------------------------------------------------
    def deps(self, node: cst.CSTNode, env: _Env) -> FrozenSet[str]:
        names = set()
        for name in _names_in(node):
            if env.get(name) is _MODULE:
                continue
            names.add(name)
            names |= env.deps_of(name)
        return frozenset(names)

    def eval(self, node: cst.BaseExpression, env: _Env) -> object:
        try:
            return self._eval(node, env)
        except (ArithmeticError, ValueError, TypeError, OverflowError, IndexError):
            return UNKNOWN

    def _eval(self, node: cst.BaseExpression, env: _Env) -> object:
        if isinstance(node, (cst.Integer, cst.Float)):
            return node.evaluated_value
        if isinstance(node, cst.SimpleString):
            return _string(node)
        if isinstance(node, cst.ConcatenatedString):
            left, right = self._eval(node.left, env), self._eval(node.right, env)
            return left + right if isinstance(left, str) and isinstance(right, str) else UNKNOWN
        if isinstance(node, cst.Name):
            return env.get(node.value)
        if isinstance(node, (cst.Tuple, cst.List)):
            if any(isinstance(e, cst.StarredElement) for e in node.elements):
                return UNKNOWN
            return tuple(self._eval(e.value, env) for e in node.elements)
        if isinstance(node, cst.UnaryOperation):
            operand = self._eval(node.expression, env)
            if isinstance(node.operator, cst.Minus) and isinstance(operand, (int, float)):
                return -operand
            if isinstance(node.operator, cst.Plus) and isinstance(operand, (int, float)):
                return operand
            if isinstance(node.operator, cst.Not) and isinstance(operand, bool):
                return not operand
            return UNKNOWN
        if isinstance(node, cst.BinaryOperation):
            return _binary(type(node.operator).__name__, self._eval(node.left, env),
                           self._eval(node.right, env))
        if isinstance(node, cst.IfExp):
            test = self._eval(node.test, env)
            body, orelse = self._eval(node.body, env), self._eval(node.orelse, env)
            if isinstance(test, bool):
                return body if test else orelse
            return body if body == orelse else UNKNOWN
        if isinstance(node, cst.Call):
            return self.eval_call(node, env)
        if isinstance(node, cst.Attribute):
            return self.eval_attribute(node, env)
        if isinstance(node, cst.Subscript):
            return self.eval_subscript(node, env)
        return UNKNOWN

    def eval_attribute(self, node: cst.Attribute, env: _Env) -> object:
        owner = self._eval(node.value, env)
        attr = node.attr.value
        if isinstance(owner, _SelfValue):
            return owner.context.attrs.get(attr, UNKNOWN)
        if isinstance(owner, LayerValue):
            return _layer_attribute(owner, attr)
        if isinstance(owner, TensorFact):
            if attr == "shape":
                return _shape_value(owner)
            if attr == "T":
                rank = owner.rank
                if rank is None:
                    return replace(owner, views=owner.views + (".T",))
                return _permute(owner, tuple(reversed(range(rank))), ".T")
            if attr == "mT":
                rank = owner.rank
                if rank is None or rank < 2:
                    return UNKNOWN
                perm = tuple(range(rank - 2)) + (rank - 1, rank - 2)
                return _permute(owner, perm, ".mT")
            if attr in _SAME_TENSOR_METHODS:
                return owner
            if attr == "ndim":
                return owner.rank if owner.rank is not None else UNKNOWN
        return UNKNOWN

    def eval_subscript(self, node: cst.Subscript, env: _Env) -> object:
        owner = self._eval(node.value, env)
        if len(node.slice) != 1 or not isinstance(node.slice[0].slice, cst.Index):
            if isinstance(owner, TensorFact) and owner.shape is not None:
                return _tensor_slice(owner, node)
            return UNKNOWN
        index = self._eval(node.slice[0].slice.value, env)
        if isinstance(owner, tuple) and _is_int(index) and -len(owner) <= index < len(owner):
            return owner[index]
        if isinstance(owner, TensorFact) and owner.shape is not None:
            return _tensor_slice(owner, node)
        return UNKNOWN

    def eval_call(self, node: cst.Call, env: _Env) -> object:
        raw = self.raw_by_node.get(node)
        if raw is not None:
            return self.site_value(raw, env)
        qualified = self.callees.get(node)
        args = [a for a in node.args if a.keyword is None and not a.star]
        kwargs = {a.keyword.value: a.value for a in node.args if a.keyword is not None}
        if qualified is not None:
            return self.eval_library_call(qualified, node, args, kwargs, env)
        func = node.func
        if isinstance(func, cst.Attribute):
            owner = self._eval(func.value, env)
            if isinstance(owner, TensorFact):
                return self.eval_tensor_method(owner, func.attr.value, args, kwargs, env)
        if isinstance(func, cst.Name) and func.value in ("len", "min", "max", "int", "tuple",
                                                         "list", "abs"):
            values = [self._eval(a.value, env) for a in args]
            return _builtin(func.value, values)
        return UNKNOWN

    def eval_library_call(self, qualified: str, node: cst.Call, args: List[cst.Arg],
                          kwargs: Dict[str, cst.BaseExpression], env: _Env) -> object:
        if qualified in _DATA_CONSTRUCTORS and args:
            shape = _nested_shape(args[0].value)
            if shape is not None and shape != ():
                return _tensor(_DATA_CONSTRUCTORS[qualified], shape, qualified)
        if qualified in _PASS_THROUGH and args:
            inner = self._eval(args[0].value, env)
            if isinstance(inner, TensorFact):
                return replace(inner, framework=_PASS_THROUGH[qualified])
        if qualified in _SHAPE_CONSTRUCTORS:
            values = [self._eval(a.value, env) for a in args]
            if "size" in kwargs or "shape" in kwargs:
                values = [self._eval(kwargs.get("size") or kwargs["shape"], env)]
            dims = _dims_from_args(values)
            fact = _tensor(_SHAPE_CONSTRUCTORS[qualified], dims, qualified)
            return replace(fact, dim_spans=self.dim_spans(args, kwargs, dims))
        if qualified in _RANDOM_WITH_SHAPE_ARG:
            position = _RANDOM_WITH_SHAPE_ARG[qualified]
            shape_node = kwargs.get("shape") or kwargs.get("size")
            if shape_node is None and position is not None and len(args) > position:
                shape_node = args[position].value
            dims = _as_dims(self._eval(shape_node, env)) if shape_node is not None else None
            return _tensor(qualified.split(".")[0], dims, qualified)
        first = self._eval(args[0].value, env) if args else UNKNOWN
        if not isinstance(first, TensorFact):
            return UNKNOWN
        rest = [self._eval(a.value, env) for a in args[1:]]
        short = qualified.rsplit(".", 1)[-1]
        if qualified in ("torch.transpose", "torch.swapaxes", "numpy.swapaxes"):
            return self.eval_tensor_method(first, "transpose", args[1:], kwargs, env)
        if qualified in ("torch.permute",):
            return self.eval_tensor_method(first, "permute", args[1:], kwargs, env)
        if qualified in ("numpy.transpose", "jax.numpy.transpose", "tensorflow.transpose",
                         "keras.ops.transpose"):
            perm_node = kwargs.get("axes") or kwargs.get("perm")
            perm = self._eval(perm_node, env) if perm_node is not None else (
                rest[0] if rest else None)
            if perm is None:
                rank = first.rank
                if rank is None:
                    return replace(first, views=first.views + (f"{short}()",))
                return _permute(first, tuple(reversed(range(rank))), f"{short}()")
            if isinstance(perm, tuple):
                return _permute(first, perm, f"{short}{_fmt_tuple(perm)}")
            return UNKNOWN
        if qualified in ("numpy.reshape", "jax.numpy.reshape", "tensorflow.reshape",
                         "torch.reshape", "keras.ops.reshape"):
            shape_value = rest[0] if rest else (self._eval(kwargs["shape"], env)
                                                if "shape" in kwargs else UNKNOWN)
            if isinstance(shape_value, tuple):
                return _reshape(first, shape_value, f"reshape{_fmt_tuple(shape_value)}")
            return UNKNOWN
        if qualified in ("numpy.moveaxis", "jax.numpy.moveaxis", "torch.movedim",
                         "torch.moveaxis") and len(rest) == 2 and first.rank is not None:
            src, dst = rest
            if _is_int(src) and _is_int(dst):
                order = [i for i in range(first.rank) if i != src % first.rank]
                order.insert(dst % first.rank, src % first.rank)
                return _permute(first, order, f"moveaxis({src}, {dst})")
            return UNKNOWN
        if qualified in ("numpy.flip", "torch.flip", "jax.numpy.flip", "tensorflow.reverse"):
            return replace(first, views=first.views + (f"flip{_fmt_tuple(tuple(rest))}",))
        if qualified in ("torch.nn.functional.pad", "numpy.pad", "tensorflow.pad",
                         "jax.numpy.pad"):
            pads_node = kwargs.get("pad") or kwargs.get("paddings") or kwargs.get("pad_width")
            pads = rest[0] if rest else (self._eval(pads_node, env) if pads_node else UNKNOWN)
            return _pad(first, pads, qualified == "torch.nn.functional.pad")
        if qualified in _PASS_THROUGH:
            return replace(first, framework=_PASS_THROUGH[qualified])
        return UNKNOWN

    def dim_spans(self, args: List[cst.Arg], kwargs: Dict[str, cst.BaseExpression],
                  dims: Optional[Tuple[Optional[int], ...]]) -> Optional[Tuple[Optional[Span], ...]]:
        if dims is None:
            return None
        nodes: List[cst.BaseExpression] = [a.value for a in args]
        shape_node = kwargs.get("size") or kwargs.get("shape")
        if shape_node is not None:
            nodes = [shape_node]
        if len(nodes) == 1 and isinstance(nodes[0], (cst.Tuple, cst.List)):
            nodes = [e.value for e in nodes[0].elements]
        if len(nodes) != len(dims):
            return None
        return tuple(self.span(n) for n in nodes)

    def span(self, node: cst.CSTNode) -> Optional[Span]:
        pos = self.positions.get(node)
        if pos is None:
            return None
        return Span(pos.start.line, pos.start.column, pos.end.line, pos.end.column)

    def eval_tensor_method(self, fact: TensorFact, method: str, args: List[cst.Arg],
                           kwargs: Dict[str, cst.BaseExpression], env: _Env) -> object:
        values = [self._eval(a.value, env) for a in args]
        if method in _SAME_TENSOR_METHODS:
            return fact
        if method in ("size", "get_shape") or (method == "shape"):
            shape = _shape_value(fact)
            if values and _is_int(values[0]) and isinstance(shape, tuple):
                return shape[values[0]] if -len(shape) <= values[0] < len(shape) else UNKNOWN
            return shape
        if method == "dim":
            return fact.rank if fact.rank is not None else UNKNOWN
        if method == "permute":
            perm = values[0] if len(values) == 1 and isinstance(values[0], tuple) else tuple(values)
            return _permute(fact, perm, f"permute{_fmt_tuple(perm)}")
        if method in ("transpose", "swapaxes") and len(values) == 2:
            a, b = values
            if fact.rank is None:
                return replace(fact, views=fact.views + (f"transpose({a}, {b})",))
            if not (_is_int(a) and _is_int(b)):
                return UNKNOWN
            perm = list(range(fact.rank))
            perm[a], perm[b] = perm[b], perm[a]
            return _permute(fact, perm, f"transpose({a}, {b})")
        if method == "transpose" and fact.framework == "numpy":
            perm = values[0] if len(values) == 1 and isinstance(values[0], tuple) else tuple(values)
            if not perm and fact.rank is not None:
                perm = tuple(reversed(range(fact.rank)))
            return _permute(fact, perm, f"transpose{_fmt_tuple(perm)}")
        if method in ("reshape", "view"):
            dims = values[0] if len(values) == 1 and isinstance(values[0], tuple) else tuple(values)
            return _reshape(fact, dims, f"{method}{_fmt_tuple(dims)}")
        if method == "flip":
            return replace(fact, views=fact.views + (f"flip{_fmt_tuple(tuple(values))}",))
        if method == "t":
            return _permute(fact, (1, 0), "t()") if fact.rank == 2 else UNKNOWN
        if method == "unsqueeze" and values and _is_int(values[0]) and fact.shape is not None:
            shape = list(fact.shape)
            pos = values[0] if values[0] >= 0 else len(shape) + 1 + values[0]
            shape.insert(pos, 1)
            axes = None if fact.axes is None else fact.axes[:pos] + "1" + fact.axes[pos:]
            return TensorFact(fact.framework, tuple(shape), axes, fact.origin,
                              fact.views + (f"unsqueeze({values[0]})",))
        return UNKNOWN


def _string(node: cst.SimpleString) -> object:
    prefix = node.prefix.lower()
    if "f" in prefix or "b" in prefix:
        return UNKNOWN
    try:
        return node.evaluated_value
    except Exception:  # noqa: BLE001 - malformed escapes: not a compile-time fact
        return UNKNOWN


def _fmt_tuple(values: Sequence[object]) -> str:
    return "(" + ", ".join("?" if v is UNKNOWN else str(v) for v in values) + ")"


# Values past these sizes are no shape anyone writes; computing them would let a chain
# like `n = n * n` (doubling the digits per line) or `t = t + t` hang or exhaust memory.
MAX_INT_BITS = 4096
MAX_SEQUENCE = 10_000


def _too_big(op: str, left: object, right: object) -> bool:
    if _is_int(left) and _is_int(right):
        bits = left.bit_length() + right.bit_length()  # type: ignore[union-attr]
        if op == "Multiply":
            return bits > MAX_INT_BITS
        if op == "Power":
            return abs(left) > 1 and left.bit_length() * abs(right) > MAX_INT_BITS  # type: ignore
        return bits > 2 * MAX_INT_BITS
    if isinstance(left, (tuple, str)):
        if op == "Multiply" and _is_int(right):
            return len(left) * right > MAX_SEQUENCE  # type: ignore[operator]
        if isinstance(right, (tuple, str)):
            return len(left) + len(right) > MAX_SEQUENCE
    return False


def _binary(op: str, left: object, right: object) -> object:
    if isinstance(left, bool) or isinstance(right, bool):
        return UNKNOWN
    if _too_big(op, left, right):
        return UNKNOWN
    if isinstance(left, (int, float)) and isinstance(right, (int, float)):
        if op == "Add":
            return left + right
        if op == "Subtract":
            return left - right
        if op == "Multiply":
            return left * right
        if op == "FloorDivide":
            return left // right
        if op == "Modulo":
            return left % right
        if op == "Divide":
            return left / right
        if op == "Power" and abs(right) <= 64:
            return left**right
        return UNKNOWN
    if op == "Add" and isinstance(left, tuple) and isinstance(right, tuple):
        return left + right
    if op == "Add" and isinstance(left, str) and isinstance(right, str):
        return left + right
    if op == "Multiply" and isinstance(left, tuple) and _is_int(right) and 0 <= right <= 64:
        return left * right
    return UNKNOWN


def _builtin(name: str, values: List[object]) -> object:
    if name == "len" and len(values) == 1 and isinstance(values[0], tuple):
        return len(values[0])
    if name in ("min", "max") and values:
        items = values[0] if len(values) == 1 and isinstance(values[0], tuple) else values
        if items and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in items):
            return (min if name == "min" else max)(items)  # type: ignore[type-var]
    if name == "int" and len(values) == 1 and isinstance(values[0], (int, float)):
        return int(values[0])
    if name == "abs" and len(values) == 1 and isinstance(values[0], (int, float)):
        return abs(values[0])
    if name in ("tuple", "list") and len(values) == 1 and isinstance(values[0], tuple):
        return values[0]
    return UNKNOWN


def _dims_from_args(values: List[object]) -> Optional[Tuple[Optional[int], ...]]:
    if len(values) == 1 and isinstance(values[0], tuple):
        return _as_dims(values[0])
    if values and all(_is_int(v) or v is UNKNOWN for v in values):
        return tuple(v if _is_int(v) else None for v in values)  # type: ignore[misc]
    return None


def _shape_value(fact: TensorFact) -> object:
    if fact.shape is None:
        return UNKNOWN
    return tuple(UNKNOWN if d is None else d for d in fact.shape)


def _tensor_slice(fact: TensorFact, node: cst.Subscript) -> object:
    assert fact.shape is not None
    shape: List[Optional[int]] = []
    axes: List[str] = []
    position = 0
    for element in node.slice:
        item = element.slice
        if position >= len(fact.shape):
            return UNKNOWN
        if isinstance(item, cst.Index):
            if isinstance(item.value, cst.Name) and item.value.value == "None":
                shape.append(1)
                axes.append("1")
                continue
            if isinstance(item.value, cst.Ellipsis):
                return replace(fact, shape=None, axes=None)
            position += 1  # integer index drops the axis
            continue
        whole = item.lower is None and item.upper is None and item.step is None
        shape.append(fact.shape[position] if whole else None)
        axes.append(fact.axes[position] if fact.axes else "?")
        position += 1
    shape.extend(fact.shape[position:])
    if fact.axes:
        axes.extend(fact.axes[position:])
    return TensorFact(fact.framework, tuple(shape), "".join(axes) if fact.axes else None,
                      fact.origin, fact.views + ("[...]",))


def _pad(fact: TensorFact, pads: object, torch_style: bool) -> object:
    if fact.shape is None or not isinstance(pads, tuple):
        return replace(fact, shape=None if fact.shape is None else fact.shape)
    shape = list(fact.shape)
    if torch_style:
        # F.pad pairs start at the LAST axis: (left, right, left_of_previous, ...).
        for i in range(0, len(pads) - 1, 2):
            axis = len(shape) - 1 - i // 2
            a, b = pads[i], pads[i + 1]
            if axis < 0:
                return UNKNOWN
            shape[axis] = shape[axis] + a + b if (
                shape[axis] is not None and _is_int(a) and _is_int(b)) else None
    else:
        if len(pads) != len(shape):
            return UNKNOWN
        for axis, pair in enumerate(pads):
            if isinstance(pair, tuple) and len(pair) == 2 and all(_is_int(p) for p in pair):
                if shape[axis] is not None:
                    shape[axis] = shape[axis] + pair[0] + pair[1]
            else:
                shape[axis] = None
    return TensorFact(fact.framework, tuple(shape), fact.axes, fact.origin,
                      fact.views + ("pad",))


def _layer_attribute(layer: LayerValue, attr: str) -> object:
    spec = layer.spec
    if attr == "weight" and spec.framework == "torch":
        g = spec.groups
        i, o, k = spec.in_channels, spec.out_channels, spec.kernel_size
        if spec.kind == "conv_transpose":
            shape = (i, _div(o, g), k)
            return TensorFact("torch", shape, "IOK", f"{layer.site_label}.weight")
        return TensorFact("torch", (o, _div(i, g), k), "OIK", f"{layer.site_label}.weight")
    if attr == "bias" and spec.framework == "torch":
        return TensorFact("torch", (spec.out_channels,), "O", f"{layer.site_label}.bias")
    simple = {"in_channels": spec.in_channels, "out_channels": spec.out_channels,
              "groups": spec.groups, "filters": spec.out_channels}
    if attr in simple:
        return simple[attr] if simple[attr] is not None else UNKNOWN
    if attr == "kernel_size" and spec.kernel_size is not None:
        return (spec.kernel_size,)
    return UNKNOWN


def _div(a: Optional[int], b: Optional[int]) -> Optional[int]:
    if a is None or b is None or b == 0 or a % b:
        return None
    return a // b


def _names_in(node: cst.CSTNode) -> Iterable[str]:
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, cst.Name):
            yield current.value
        elif isinstance(current, cst.Attribute):
            # `self.in_channels` -> "in_channels"; module paths are not shared names.
            if isinstance(current.value, cst.Name) and current.value.value == "self":
                yield current.attr.value
            else:
                stack.append(current.value)
        elif isinstance(current, cst.Arg):
            stack.append(current.value)  # not the keyword's name
        else:
            stack.extend(current.children)


def _calls_in(node: cst.CSTNode) -> Iterable[cst.Call]:
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, (cst.FunctionDef, cst.ClassDef)) and current is not node:
            continue
        if isinstance(current, cst.Call):
            yield current
        stack.extend(current.children)


def _assigned_names(node: cst.CSTNode) -> List[str]:
    names: List[str] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, (cst.FunctionDef, cst.ClassDef)) and current is not node:
            continue
        if isinstance(current, cst.AssignTarget):
            names.extend(_target_names(current.target))
        elif isinstance(current, (cst.AugAssign, cst.AnnAssign)):
            names.extend(_target_names(current.target))
        elif isinstance(current, cst.For):
            names.extend(_target_names(current.target))
        elif isinstance(current, cst.NamedExpr):
            names.extend(_target_names(current.target))
        stack.extend(current.children)
    return names


def _target_names(target: cst.BaseExpression) -> List[str]:
    if isinstance(target, cst.Name):
        return [target.value]
    if isinstance(target, cst.Subscript) and isinstance(target.value, cst.Name):
        return [target.value.value]  # element writes in a loop: contents unknown after
    if isinstance(target, (cst.Tuple, cst.List)):
        out: List[str] = []
        for element in target.elements:
            out.extend(_target_names(element.value))
        return out
    return []


# --- building the neutral description ----------------------------------------------------

def build_spec(raw: RawSite, evaluate) -> Optional[ConvSpec]:
    """Describe one site. Returns None when the call is known not to be 1-D."""
    api = raw.api
    values: Dict[str, object] = {}
    for name in api.parameters:
        if name in raw.bound.args:
            values[name] = evaluate(raw.bound.args[name])
        elif raw.bound.has_star_args:
            values[name] = UNKNOWN  # *args/**kwargs may carry it
        else:
            values[name] = default_of(api, name)

    def role(concept: str) -> object:
        parameter = api.roles.get(concept)
        if parameter is None:
            return UNKNOWN
        return values.get(parameter, UNKNOWN)

    weight = role("weight")
    weight_fact = weight if isinstance(weight, TensorFact) else None
    input_value = role("input")
    input_fact = input_value if isinstance(input_value, TensorFact) else None

    rank = _spatial_rank(api, role, values, weight_fact, input_fact)
    if rank is not None and rank != 1:
        return None

    data_layout, kernel_layout = _layouts(api, role)
    kernel_size = _single(role("kernel_size"))
    out_channels = _int_or_none(role("out_channels"))
    in_channels = _int_or_none(role("in_channels"))
    groups = _int_or_none(role("groups"))
    groups_explicit = api.roles.get("groups") in raw.bound.args

    if weight_fact is not None and weight_fact.rank == 3 and kernel_layout is not None \
            and len(kernel_layout) == 3:
        dims = dict(zip(kernel_layout, weight_fact.shape or ()))
        kernel_size = kernel_size if kernel_size is not None else dims.get("K")
        if api.kind == "conv_transpose" and kernel_layout in ("IOK", "KOI"):
            out_per_group, in_ch = dims.get("O"), dims.get("I")
            in_channels = in_channels if in_channels is not None else in_ch
            if out_per_group is not None and groups is not None:
                out_channels = out_channels if out_channels is not None else out_per_group * groups
        else:
            out_channels = out_channels if out_channels is not None else dims.get("O")
    if input_fact is not None and input_fact.rank == 3 and data_layout is not None:
        axis = 1 if data_layout == NCL else 2
        c = input_fact.dim(axis)
        in_channels = in_channels if in_channels is not None else c
    if api.framework == "tensorflow" and api.kind == "conv":
        # TF has no groups argument: the filter's in-dim decides (catalog G02).
        filter_in = weight_fact.dim(1) if weight_fact is not None and weight_fact.rank == 3 else None
        groups = _div(in_channels, filter_in) if filter_in else None
    if groups is None and api.roles.get("groups") is None and api.framework != "tensorflow":
        groups = 1  # APIs with no grouping at all (e.g. Keras Conv1DTranspose)
    if api.kind == "depthwise":
        groups = in_channels
    if in_channels is None and weight_fact is not None and groups is not None \
            and kernel_layout in ("OIK", "KIO"):
        per_group = weight_fact.dim(1)  # the in-dim is axis 1 in both OIK and KIO
        if per_group is not None:
            in_channels = per_group * groups

    bias = _bias(api, role, raw)
    return ConvSpec(
        framework=api.framework,
        api=api.name,
        kind=api.kind,
        form=api.form,
        in_channels=in_channels,
        out_channels=out_channels,
        kernel_size=kernel_size,
        stride=_single(role("stride"), none_means=1),
        dilation=_single(role("dilation"), none_means=1),
        groups=groups,
        groups_explicit=groups_explicit,
        padding=_padding(api, role("padding"), kernel_size),
        padding_mode=_str_or_none(role("padding_mode")) if api.framework == "torch" else None,
        output_padding=_single(role("output_padding")),
        bias=bias,
        data_layout=data_layout,
        kernel_layout=kernel_layout,
        weight=weight_fact,
        input=input_fact,
    )


def _int_or_none(v: object) -> Optional[int]:
    return v if _is_int(v) else None  # type: ignore[return-value]


def _str_or_none(v: object) -> Optional[str]:
    return v if isinstance(v, str) else None


def _single(v: object, none_means: Optional[int] = None) -> Optional[int]:
    if v is None:
        return none_means
    if _is_int(v):
        return v  # type: ignore[return-value]
    if isinstance(v, tuple) and len(v) == 1 and _is_int(v[0]):
        return v[0]
    return None


def _spatial_rank(api: ApiSpec, role, values: Dict[str, object],
                  weight: Optional[TensorFact], data: Optional[TensorFact]) -> Optional[int]:
    if api.rank is not None:
        return api.rank
    kernel_size = role("kernel_size")
    if _is_int(kernel_size):
        return 1
    if isinstance(kernel_size, tuple):
        return len(kernel_size)
    for concept in ("stride", "dilation"):
        v = role(concept)
        if isinstance(v, tuple):
            return len(v)
    dn = role("dimension_numbers")
    if isinstance(dn, tuple) and dn and isinstance(dn[0], str):
        return len(dn[0]) - 2
    for fact in (weight, data):
        if fact is not None and fact.rank is not None:
            return fact.rank - 2
    return None


def _layouts(api: ApiSpec, role) -> Tuple[Optional[str], Optional[str]]:
    kernel_layout = api.kernel_layout
    if api.framework == "torch":
        return NCL, kernel_layout
    if api.framework == "flax":
        return NLC, kernel_layout
    if api.framework == "jax":
        dn = role("dimension_numbers") if "dimension_numbers" in api.roles else None
        if dn is None:
            return NCL, kernel_layout
        if isinstance(dn, tuple) and len(dn) == 3 and all(isinstance(s, str) for s in dn):
            return _lax_layout(dn[0]), _lax_kernel_layout(dn[1], api.kind)
        return None, None
    data_format = role("data_format")
    if api.framework == "tensorflow":
        if data_format in (None, "NWC", "NHWC", "NDHWC"):
            return NLC, kernel_layout
        if data_format in ("NCW", "NCHW", "NCDHW"):
            return NCL, kernel_layout
        return None, kernel_layout
    # Keras: None means the global image_data_format, channels_last unless changed.
    if data_format in (None, "channels_last"):
        return NLC, kernel_layout
    if data_format == "channels_first":
        return NCL, kernel_layout
    return None, kernel_layout


def _lax_layout(spec: str) -> Optional[str]:
    if len(spec) != 3:
        return None
    if spec[0] == "N" and spec[1] == "C":
        return NCL
    if spec[0] == "N" and spec[2] == "C":
        return NLC
    return None


def _lax_kernel_layout(spec: str, kind: str) -> Optional[str]:
    if len(spec) != 3 or set(spec) - set("OIWHDK"):
        return None
    return "".join("K" if c not in "OI" else c for c in spec)


def _padding(api: ApiSpec, value: object, kernel_size: Optional[int]) -> Padding:
    if value is UNKNOWN:
        return UNKNOWN_PADDING
    if isinstance(value, str):
        mode = value.lower()
        if mode in ("valid", "same", "causal", "same_lower", "circular"):
            if mode == "valid":
                return Padding("valid", 0, 0)
            return Padding(mode)
        return Padding(None)
    if _is_int(value):
        return Padding.explicit(value, value)  # type: ignore[arg-type]
    if isinstance(value, tuple):
        if len(value) == 1 and _is_int(value[0]):
            return Padding.explicit(value[0], value[0])
        if len(value) == 1 and isinstance(value[0], tuple) and len(value[0]) == 2:
            left, right = value[0]
            return Padding.explicit(_int_or_none(left), _int_or_none(right))
        if len(value) == 2 and api.framework == "flax" and all(_is_int(v) for v in value):
            return Padding.explicit(value[0], value[1])  # type: ignore[arg-type]
    return UNKNOWN_PADDING


def _bias(api: ApiSpec, role, raw: RawSite) -> Optional[bool]:
    parameter = api.roles.get("bias")
    if parameter is None:
        return False  # tf.nn and lax convolutions never add a bias themselves
    if api.form == "functional":
        # F.conv1d(x, w, b): any expression other than None is a bias.
        expr = raw.bound.args.get(parameter)
        if expr is None:
            return None if raw.bound.has_star_args else False
        return not (isinstance(expr, cst.Name) and expr.value == "None")
    value = role("bias")
    return value if isinstance(value, bool) else None


def infer_sites(parsed: ParsedFile, index: FileIndex) -> List[Site]:
    sites = _Inference(parsed, index).run()
    return [s for s in sites if s is not None]
