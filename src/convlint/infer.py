"""Stage 3: constant propagation and symbolic shapes -> one ConvSpec per site.

The file is walked once in source order. Module statements are evaluated flow-
sensitively (a name has the value of its last assignment above the use); function
bodies are evaluated afterwards against the module's final globals, as they would be
when called; ``__init__`` runs before the other methods so ``self.x = ...`` is known
in ``forward``. Calling a class of the file (``net = Net()``) runs its ``__init__`` then
and gives an instance whose attributes are those layers; a module-level function's
parameters take the object every call in the file passes (or the class their annotation
names), else they are unknown. Branches merge (a name that differs between branches is
unknown) and names assigned in loops are unknown. Anything that is not a compile-time fact
is ``UNKNOWN``: rules stay silent on it rather than guess.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Dict, FrozenSet, Iterable, List, Optional, Sequence, Set, Tuple

import libcst as cst
from libcst.metadata import PositionProvider

from .apis import ApiSpec
from .cstwalk import children
from .parse import ParsedFile
from .sites import FileIndex, RawSite, default_of
from .spec import (NCL, NLC, ChainStep, ConvSpec, Crop, PadFact, Padding, Site, Span,
                   TensorFact, UNKNOWN_PADDING, ViewChain)


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
    order: int = -1  # the construction site's index, to record its applications


@dataclass(frozen=True)
class _PadLayer:
    """A pad layer instance (keras ZeroPadding1D, torch nn.ConstantPad1d...): a PadFact."""

    pad: PadFact


@dataclass(eq=False)
class _ClassContext:
    name: str
    attrs: Dict[str, object] = field(default_factory=dict)
    # The methods that set the attributes (__init__, build, setup), run once on first
    # instantiation so module-level code sees ``net.dw`` (see ``instantiate``).
    init_methods: List[cst.FunctionDef] = field(default_factory=list, repr=False)
    initialized: bool = False
    bases: List["_ClassContext"] = field(default_factory=list, repr=False)  # the file's classes

    def attr(self, name: str) -> object:
        """``self.name``: set by this class, else by a base class of the file."""
        if name in self.attrs:
            return self.attrs[name]
        for base in self.bases:
            if base is not self:
                value = base.attrs.get(name, UNKNOWN)
                if value is not UNKNOWN:
                    return value
        return UNKNOWN


@dataclass(frozen=True, eq=False)
class _ClassValue:
    """A class defined in the file: calling it makes an instance (a ``_SelfValue``)."""

    context: _ClassContext


@dataclass(frozen=True, eq=False)
class _FunctionValue:
    """A module-level function of the file: its call sites type its parameters."""

    node: cst.FunctionDef


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
                self.values[name] = _join_layouts(mine, theirs)
            elif isinstance(mine, TensorFact) and mine.chain != theirs.chain:  # type: ignore
                self.values[name] = replace(mine, chain=None)  # one edit would fix one branch
            self.deps[name] = self.deps.get(name, frozenset()) | other.deps.get(name, frozenset())


_BUILTIN_CONSTANTS = {"True": True, "False": False, "None": None}
_INIT_METHODS = ("__init__", "build", "setup")
_TYPED_VALUES = (_SelfValue, LayerValue, TensorFact)
_POSTPONE = object()
_WORD = re.compile(r"(?<![\w.])[A-Za-z_]\w*")


def _join_layouts(a: object, b: object) -> object:
    """One branch learned a tensor's data layout, the other did not: keep the rest."""
    if isinstance(a, TensorFact) and isinstance(b, TensorFact) and \
            replace(a, axes=None) == replace(b, axes=None):
        return replace(a, axes=None)
    return UNKNOWN


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
    "torch.nn.Parameter": "torch", "flax.nnx.Param": "flax",
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
        return replace(fact, views=fact.views + (text,), pads=_permute_pads(fact.pads, perm))
    rank = len(fact.shape)
    if len(perm) != rank or not all(_is_int(p) for p in perm):
        return UNKNOWN
    norm = [p % rank for p in perm]  # type: ignore[operator]
    if sorted(norm) != list(range(rank)):
        return UNKNOWN
    shape = tuple(fact.shape[p] for p in norm)
    axes = None if fact.axes is None else "".join(fact.axes[p] for p in norm)
    spans = None if fact.dim_spans is None else tuple(fact.dim_spans[p] for p in norm)
    return TensorFact(fact.framework, shape, axes, fact.origin, fact.views + (text,), spans,
                      _permute_pads(fact.pads, perm))


def _permute_pads(pads: Tuple[PadFact, ...], perm: Sequence[object]) -> Tuple[PadFact, ...]:
    """Pads follow their axis through a permutation (axes counted from the end)."""
    if not pads:
        return pads
    rank = len(perm)
    if not all(_is_int(p) for p in perm) or sorted(p % rank for p in perm) != list(range(rank)):
        return (_UNKNOWN_PAD,)
    where = {p % rank: new for new, p in enumerate(perm)}  # type: ignore[operator]
    out = []
    for pad in pads:
        if pad.axis == 0 or -pad.axis > rank:
            return (_UNKNOWN_PAD,)
        out.append(replace(pad, axis=where[rank + pad.axis] - rank))
    return tuple(out)


def _reshape(fact: TensorFact, dims: Sequence[object], text: str) -> TensorFact:
    shape = [d if _is_int(d) else None for d in dims]
    if -1 in shape and fact.shape is not None and all(d is not None for d in fact.shape):
        known = math.prod(d for d in shape if d is not None and d != -1)
        total = math.prod(fact.shape)  # type: ignore[arg-type]
        if known and total % known == 0:
            shape[shape.index(-1)] = total // known
    shape = [None if d == -1 else d for d in shape]
    axes = _swapped_data_axes(fact, shape)
    if axes is None and fact.axes is not None:
        # A reshape keeps the order only when it adds or drops size-1 axes (catalog F5).
        axes = _reshape_axes(fact, shape)
    return TensorFact(fact.framework, tuple(shape), axes, fact.origin, fact.views + (text,),
                      pads=(_UNKNOWN_PAD,) if fact.pads else ())


# Data axes of a tensor whose channel and length axes a reshape "swapped": the shape of
# the other layout, the values scrambled (catalog L02). Lower case marks scrambled axes.
# Layout facts the rules read live in convlint.layouts, which does not need LibCST.
from .layouts import SCRAMBLED_NCL, SCRAMBLED_NLC, input_data_layout  # noqa: E402,F401


def _swapped_data_axes(fact: TensorFact, shape: Sequence[Optional[int]]) -> Optional[str]:
    axes = fact.axes
    if axes is None and fact.origin.startswith("torch."):
        axes = NCL  # a tensor torch made: the torch data layout unless shown otherwise
    if axes not in (NCL, NLC) or fact.shape is None or len(shape) != 3:
        return None
    n, a, b = fact.shape
    if a is None or b is None or a == b or tuple(shape[1:]) != (b, a):
        return None
    if shape[0] is not None and n is not None and shape[0] != n:
        return None
    return SCRAMBLED_NCL if axes == NCL else SCRAMBLED_NLC


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
        self.source = parsed.source
        self.module = parsed.module
        self.positions = parsed.wrapper.resolve(PositionProvider)
        self.callees = index.callees
        self.raw_by_node: Dict[cst.Call, RawSite] = {s.node: s for s in index.sites}
        self.done: Dict[int, Site] = {}
        self.layers: Dict[int, LayerValue] = {}
        self.deferred: List[Tuple[cst.FunctionDef, Optional[_ClassContext]]] = []
        # Keras' global image_data_format as set by the file (catalog L06): the value
        # (None when not a constant) and the call's span; once set, it stays for the file.
        self.image_data_format: Tuple[Optional[str], Optional[Span]] = ("channels_last", None)
        # origin label of a conv's output -> the site's order (None when ambiguous).
        self.conv_outputs: Dict[str, Optional[int]] = {}
        # Kernels written into flax params dicts ({'params': {...: {'kernel': k}}}).
        self.flax_kernels: List[TensorFact] = []
        self.has_flax = any(s.api.framework == "flax" for s in index.sites)
        # The tensor each chain-forming node last evaluated to (see ``chained``).
        self.chain_facts: Dict[cst.CSTNode, TensorFact] = {}
        self.globals_env = _Env()
        # Module-level functions: the argument values each evaluated call passed
        # (parameter name -> value; None for a call that cannot be bound).
        self.calls_to: Dict[cst.FunctionDef, List[Optional[Dict[str, object]]]] = {}
        self.postponed: Set[cst.FunctionDef] = set()
        self.ran_early: Set[cst.FunctionDef] = set()
        self.name_counts: Optional[Dict[str, int]] = None

    # --- driver ------------------------------------------------------------------------
    def run(self) -> List[Site]:
        if not self.raw_by_node:
            return []
        globals_env = self.globals_env
        self.exec_block(self.module.body, globals_env, None)
        # Function bodies see the module's final globals, as at call time.
        while self.deferred:
            func, context = self.deferred.pop(0)
            if func in self.ran_early:
                continue
            typed = self.typed_params(func) if context is None else None
            if typed is _POSTPONE:
                self.deferred.append((func, context))
                continue
            self.exec_function(func, globals_env, context, typed)  # type: ignore[arg-type]
        # Any site in code the walk did not evaluate (e.g. a lambda, a decorator) is
        # still described, with only what its own literals say.
        for raw in self.raw_by_node.values():
            if raw.order not in self.done:
                self.site_value(raw, _Env(globals_env))
        self.link_flax_kernels()
        return [self.done[k] for k in sorted(self.done)]

    def exec_function(self, func: cst.FunctionDef, globals_env: _Env,
                      context: Optional[_ClassContext],
                      typed: Optional[Dict[str, object]] = None) -> None:
        env = _Env(globals_env)
        params = list(func.params.posonly_params) + list(func.params.params)
        for i, param in enumerate(params + list(func.params.kwonly_params)):
            value: object = UNKNOWN
            if i == 0 and context is not None and param in params:
                value = _SelfValue(context)
            elif typed and param.name.value in typed:
                value = typed[param.name.value]
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
            module_level = context is None and env.parent is None
            env.set(stmt.name.value, _FunctionValue(stmt) if module_level else UNKNOWN)
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
            # A tensor only written element-wise in the loop (a filter filled block by
            # block) keeps its shape; its views record how it was indexed (catalog G05).
            filled = self.element_filled(stmt, assigned, env)
            for name in assigned:
                env.set(name, UNKNOWN)
            if isinstance(stmt, cst.For):
                self.eval(stmt.iter, env)
            self.exec_block(stmt.body.body, env, context)
            if stmt.orelse is not None:
                self.exec_block(stmt.orelse.body.body, env, context)
            for name in assigned:
                env.set(name, UNKNOWN)
            for name, (fact, deps) in filled.items():
                env.set(name, fact, deps)
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
        for base in node.bases:
            value = env.get(base.value.value) if isinstance(base.value, cst.Name) else None
            if isinstance(value, _ClassValue):
                context.bases.append(value.context)
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
        context.init_methods = [m for m in methods if m.name.value in _INIT_METHODS]
        env.set(node.name.value, _ClassValue(context))

    def instantiate(self, context: _ClassContext) -> _SelfValue:
        """``Net()``: an instance whose attributes are the layers ``__init__`` assigned.

        The attribute-setting methods run now (once, with the globals as they are at
        this call) instead of from the deferred queue, so code after the call that reads
        ``net.dw.weight`` sees the layer.
        """
        if not context.initialized:
            context.initialized = True
            for base in context.bases:
                self.instantiate(base)  # super().__init__() sets the base's layers
            for method in context.init_methods:
                if method not in self.ran_early:
                    self.ran_early.add(method)
                    self.exec_function(method, self.globals_env, context)
        return _SelfValue(context)

    # --- parameters typed by the file's call sites ---------------------------------------
    def record_call(self, func: cst.FunctionDef, node: cst.Call, env: _Env) -> None:
        """Remember what a call of a module-level function passes (objects only)."""
        calls = self.calls_to.setdefault(func, [])
        if any(a.star for a in node.args):
            calls.append(None)
            return
        params = list(func.params.posonly_params) + list(func.params.params)
        names = [p.name.value for p in params]
        bound: Dict[str, object] = {}
        positional = [a for a in node.args if a.keyword is None]
        if len(positional) > len(names):
            calls.append(None)
            return
        pairs = [(names[i], a.value) for i, a in enumerate(positional)]
        pairs += [(a.keyword.value, a.value) for a in node.args if a.keyword is not None]
        for name, expr in pairs:
            value: object = UNKNOWN
            if isinstance(expr, (cst.Name, cst.Attribute)) or (
                    isinstance(expr, cst.Call) and isinstance(expr.func, cst.Name)
                    and isinstance(env.get(expr.func.value), _ClassValue)):
                value = self.eval(expr, env)
            bound[name] = value if isinstance(value, _TYPED_VALUES) else UNKNOWN
        calls.append(bound)

    def typed_params(self, func: cst.FunctionDef) -> object:
        """The parameter values every call of ``func`` in the file agrees on.

        A parameter is typed only when each of the function's references is an evaluated
        call passing the same instance class, layer or tensor; otherwise it stays unknown.
        Returns ``_POSTPONE`` once while calls from not yet evaluated functions may follow.
        """
        typed: Dict[str, object] = {}
        for param in list(func.params.posonly_params) + list(func.params.params) + \
                list(func.params.kwonly_params):
            annotation = param.annotation.annotation if param.annotation is not None else None
            if isinstance(annotation, cst.Name):
                cls = self.globals_env.get(annotation.value)
                if isinstance(cls, _ClassValue):
                    typed[param.name.value] = self.instantiate(cls.context)
        if not (func.params.posonly_params or func.params.params or func.params.kwonly_params):
            return typed or None
        calls = self.calls_to.get(func, [])
        if self.name_counts is None:
            # Every word not after a dot, strings and comments included: a mention that is
            # not an evaluated call leaves the count unmatched, so the parameters unknown.
            self.name_counts = Counter(_WORD.findall(self.source))
        references = self.name_counts.get(func.name.value, 0) - 1  # minus the def itself
        if len(calls) < references and func not in self.postponed:
            self.postponed.add(func)  # callers later in the queue have not run yet
            return _POSTPONE
        if not calls or len(calls) != references or any(c is None for c in calls):
            return typed or None
        for name in set().union(*(c.keys() for c in calls)):  # type: ignore[union-attr]
            values = [c.get(name, UNKNOWN) for c in calls]  # type: ignore[union-attr]
            if name in typed or any(v is UNKNOWN for v in values):
                continue
            if all(v == values[0] for v in values[1:]):
                typed[name] = values[0]
        return typed or None

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
        if self.has_flax:
            self.collect_flax_kernels(small, env)
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
                views = current.views + ("setitem",) + self.setitem_pattern([target], env)
                env.set(target.value.value, replace(current, views=views),
                        env.deps_of(target.value.value) | deps)
        elif isinstance(target, cst.Attribute):
            if self.attribute_sink(target, value, env):
                return
            owner = self.eval(target.value, env)
            if isinstance(owner, _SelfValue):
                attrs = owner.context.attrs
                name = target.attr.value
                previous = attrs.get(name, value)
                attrs[name] = value if previous == value else UNKNOWN

    # --- weight-transfer sinks (catalog 4.1 item 5) ---------------------------------------
    def sink(self, layer: LayerValue, fact: TensorFact) -> None:
        """The kernel of ``layer`` is now ``fact``: its site describes the transferred weight."""
        site = self.done.get(layer.order)
        if site is not None:
            self.done[layer.order] = replace(site, spec=replace(site.spec, weight=fact))

    def call_sink(self, func: cst.Attribute, args: List[cst.Arg], env: _Env) -> bool:
        """``layer.set_weights([k, b])``, ``layer.kernel.assign(k)``, ``kernel.set_value(k)``."""
        method = func.attr.value
        if not args:
            return False
        if method == "set_weights":
            owner = self._eval(func.value, env)
            weights = self._eval(args[0].value, env)
            if isinstance(owner, LayerValue) and isinstance(weights, tuple) and weights \
                    and isinstance(weights[0], TensorFact):
                self.sink(owner, weights[0])
                return True
            return False
        if method in ("assign", "set_value") and isinstance(func.value, cst.Attribute) \
                and func.value.attr.value in _KERNEL_ATTRS:
            owner = self._eval(func.value.value, env)
            fact = self._eval(args[0].value, env)
            if isinstance(owner, LayerValue) and isinstance(fact, TensorFact):
                self.sink(owner, fact)
                return True
        return False

    def attribute_sink(self, target: cst.Attribute, value: object, env: _Env) -> bool:
        """nnx ``conv.kernel.value = k`` and ``conv.kernel = nnx.Param(k)``."""
        holder = target
        if target.attr.value == "value" and isinstance(target.value, cst.Attribute):
            holder = target.value
        if holder.attr.value not in _KERNEL_ATTRS or not isinstance(value, TensorFact):
            return False
        owner = self._eval(holder.value, env)
        if isinstance(owner, LayerValue):
            self.sink(owner, value)
            return True
        return False

    def constant_initializer(self, raw: RawSite, env: _Env) -> Optional[TensorFact]:
        """``kernel_initializer=keras.initializers.Constant(k)`` on a Keras layer."""
        for name in ("kernel_initializer", "depthwise_initializer"):
            node = raw.bound.args.get(name)
            if not isinstance(node, cst.Call) or self.callees.get(node) not in _CONSTANT_INITS:
                continue
            values = [a.value for a in node.args if a.keyword is None or a.keyword.value == "value"]
            fact = self.eval(values[0], env) if values else UNKNOWN
            if isinstance(fact, TensorFact):
                return fact
        return None

    def collect_flax_kernels(self, small: cst.CSTNode, env: _Env) -> None:
        for node in _dicts_in(small):
            for element in node.elements:
                if isinstance(element, cst.DictElement) \
                        and isinstance(element.key, cst.SimpleString) \
                        and _string(element.key) == "kernel":
                    fact = self.eval(element.value, env)
                    # A 'kernel' may be a Dense one: keep 3-D kernels, or checkpoint entries
                    # whose key names a conv.
                    if isinstance(fact, TensorFact) and (
                            fact.rank == 3 or fact.rank is None and "conv" in fact.origin.lower()):
                        self.flax_kernels.append(fact)

    def link_flax_kernels(self) -> None:
        """A params-dict kernel names no site; link it only when one flax layer can take it."""
        if len(set(self.flax_kernels)) != 1:
            return
        layers = [site for site in self.done.values() if site is not None
                  and site.spec.framework == "flax" and site.spec.form == "layer"]
        if len(layers) == 1:
            site = layers[0]
            self.done[site.order] = replace(
                site, spec=replace(site.spec, weight=self.flax_kernels[0]))

    def element_filled(self, loop: cst.CSTNode, assigned: Sequence[str],
                       env: _Env) -> Dict[str, Tuple[TensorFact, FrozenSet[str]]]:
        if not any(isinstance(env.get(name), TensorFact) for name in assigned):
            return {}
        writes: Dict[str, List[cst.Subscript]] = {}
        for target in _subscript_targets(loop):
            writes.setdefault(target.value.value, []).append(target)  # type: ignore[attr-defined]
        plain = set(_assigned_names(loop, whole_only=True))
        out: Dict[str, Tuple[TensorFact, FrozenSet[str]]] = {}
        for name, targets in writes.items():
            current = env.get(name)
            if name in plain or not isinstance(current, TensorFact):
                continue
            views = current.views + ("setitem",) + self.setitem_pattern(targets, env)
            out[name] = (replace(current, views=views), env.deps_of(name))
        return out

    def setitem_pattern(self, targets: Sequence[cst.Subscript], env: _Env) -> Tuple[str, ...]:
        """``setitem(1::4)``: an element write strided by 4 (or ``%``-indexed: ``?``) on axis 1."""
        out: List[str] = []
        for target in targets:
            for axis, element in enumerate(target.slice):
                item = element.slice
                step: object = None
                if isinstance(item, cst.Slice) and item.step is not None:
                    step = self.eval(item.step, env)
                    if step == 1:
                        continue
                elif isinstance(item, cst.Slice) \
                        and (_has_modulo(item.lower) or _has_modulo(item.upper)):
                    bound = item.lower if _has_modulo(item.lower) else item.upper
                    step = self.eval(_modulo(bound), env)
                elif isinstance(item, cst.Index) and _has_modulo(item.value):
                    step = self.eval(_modulo(item.value), env)
                else:
                    continue
                text = f"setitem({axis}::{step if _is_int(step) else '?'})"
                if text not in out:
                    out.append(text)
        return tuple(out)

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
        image_format, format_span = self.image_data_format
        spec = build_spec(raw, lambda e: self.eval(e, env), image_format)
        if spec is None:  # known not to be 1-D
            self.done.setdefault(raw.order, None)  # type: ignore[arg-type]
            return UNKNOWN
        initial = self.constant_initializer(raw, env)
        if initial is not None:
            spec = replace(spec, weight=initial)
        if spec.framework == "keras" and format_span is not None and \
                _omits_data_format(raw, lambda e: self.eval(e, env)):
            spec = replace(spec, data_format_from=format_span)
        names = set()
        for expr in raw.bound.args.values():
            names |= self.deps(expr, env)
        input_node = raw.bound.args.get(raw.api.roles.get("input", ""))
        arg_spans = tuple((name, span) for name, span in (
            (name, self.value_span(raw.node, expr)) for name, expr in raw.bound.args.items())
            if span is not None)
        constants = tuple((name, value) for name, value in
                          ((n, self.eval(e, env)) for n, e in raw.bound.args.items())
                          if _is_constant(value))
        site = Site(self.path, raw.span, spec, raw.scope, raw.order, tuple(sorted(names)),
                    raw.args_end, arg_spans, call=replace(raw.call, values=constants),
                    input_span=self.atom_span(input_node))
        self.done[raw.order] = site
        if spec.form == "layer":
            layer = LayerValue(spec, f"{self.path}:{raw.span.line}", raw.order)
            self.layers[raw.order] = layer
            return layer
        if input_node is not None and spec.framework == "torch":
            self.mark_layout(input_node, NCL, env)
        return self.conv_output(spec, spec.input, f"{self.path}:{raw.span.line}", raw.order)

    # --- data layout -------------------------------------------------------------------
    def atom_span(self, node: Optional[cst.BaseExpression]) -> Optional[Span]:
        if isinstance(node, (cst.Name, cst.Attribute, cst.Call, cst.Subscript)):
            return self.span(node)
        return None

    def mark_layout(self, node: cst.BaseExpression, layout: str, env: _Env) -> None:
        """A rank-3 tensor a torch conv reads is (N, C, L) from here on (catalog L01)."""
        name = self.root_name(node)
        if name is None:
            return
        value = env.get(name)
        if isinstance(value, TensorFact) and value.axes is None and value.rank == 3:
            env.set(name, replace(value, axes=layout), env.deps_of(name))

    def root_name(self, node: cst.BaseExpression) -> Optional[str]:
        """The variable under layout-keeping wrappers: ``torch.from_numpy(x).float()``."""
        while True:
            if isinstance(node, cst.Name):
                return node.value
            if isinstance(node, cst.Attribute) and node.attr.value in _SAME_TENSOR_METHODS:
                node = node.value
            elif isinstance(node, cst.Call) and node.args and node.args[0].keyword is None \
                    and self.callees.get(node) in _PASS_THROUGH:
                node = node.args[0].value
            elif isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) \
                    and node.func.attr.value in _SAME_TENSOR_METHODS:
                node = node.func.value
            else:
                return None

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
            return self.chained(node, env.get(node.value))
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
            return self.chained(node, self.eval_call(node, env))
        if isinstance(node, cst.Attribute):
            return self.chained(node, self.eval_attribute(node, env))
        if isinstance(node, cst.Subscript):
            return self.chained(node, self.eval_subscript(node, env))
        return UNKNOWN

    # --- view chains: where a tensor's views were written (fix edits) --------------------
    def chained(self, node: cst.BaseExpression, value: object) -> object:
        """Attach to a tensor value the one expression that produced it (``ViewChain``)."""
        if not isinstance(value, TensorFact):
            self.chain_facts.pop(node, None)
            return value
        value = replace(value, chain=self.view_chain(node, value))
        self.chain_facts[node] = value
        return value

    def view_chain(self, node: cst.BaseExpression, value: TensorFact) -> Optional[ViewChain]:
        span = self.span(node)
        if span is None or getattr(node, "lpar", ()):
            return None
        if isinstance(node, cst.Name):
            prior = value.chain
            kind = prior.end_kind if prior is not None else _chain_kind(value)
            return ViewChain(span, node.value, kind, (), prior)
        receiver: Optional[cst.BaseExpression] = None
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) \
                and self.callees.get(node) is None:
            receiver = node.func.value
        elif isinstance(node, (cst.Attribute, cst.Subscript)):
            receiver = node.value
        elif isinstance(node, cst.Call) and node.args and node.args[0].keyword is None \
                and not node.args[0].star:
            return self.wrapping_chain(node, value)
        before = self.chain_facts.get(receiver) if receiver is not None else None
        if receiver is not None and before is not None:
            chain = before.chain
            receiver_span = self.span(receiver)
            if getattr(receiver, "lpar", ()):
                chain = None
            elif (chain is None or chain.span != receiver_span) and receiver_span is not None:
                # `torch.from_numpy(h.numpy())`, whose chain is its argument's
                chain = ViewChain(receiver_span, self.module.code_for_node(receiver),
                                  _chain_kind(before))
            step = self.chain_step(node, receiver, before, value, chain)
            if step is not None and chain is not None:
                return replace(chain, span=span, steps=chain.steps + (step,))
            # A tensor method or index not followed: what the result is (torch or numpy)
            # is not known, so no rewrite can pick an idiom for it.
            return ViewChain(span, self.module.code_for_node(node), None)
        # A fresh tensor (`conv.weight`) or a stored one (`self.w`, `ws[0]`), whose chain
        # says what it was made as (`.numpy()` keeps the fact's framework).
        kind = value.chain.end_kind if value.chain is not None else _chain_kind(value)
        return ViewChain(span, self.module.code_for_node(node), kind)

    def chain_step(self, node: cst.BaseExpression, receiver: cst.BaseExpression,
                   before: TensorFact, value: TensorFact,
                   chain: Optional[ViewChain]) -> Optional[ChainStep]:
        """``node`` as one step appended to ``receiver``'s chain, or None (a new base)."""
        if chain is None:
            return None
        text, head = self.module.code_for_node(node), self.module.code_for_node(receiver)
        if not text.startswith(head):
            return None
        kind = chain.end_kind
        name = node.func.attr.value if isinstance(node, cst.Call) else (  # type: ignore
            node.attr.value if isinstance(node, cst.Attribute) else "[]")
        if value.views == before.views and name in _SAME_TENSOR_METHODS:
            return ChainStep(text[len(head):], False, "numpy" if name == "numpy" else kind)
        if len(value.views) == len(before.views) + 1 and value.views[:-1] == before.views:
            return ChainStep(text[len(head):], True, kind)
        return None

    def wrapping_chain(self, node: cst.Call, value: TensorFact) -> Optional[ViewChain]:
        """``np.asarray(x)`` keeps x's chain; ``np.moveaxis(x, 0, -1)`` is a view step of it."""
        inner_node = node.args[0].value
        inner = self.chain_facts.get(inner_node)
        qualified = self.callees.get(node) or ""
        span = self.span(node)
        if span is None:
            return None
        # A library function of a tensor returns its own kind (`np.transpose(t)` is an
        # ndarray), known only for the pass-through conversions.
        kind = _chain_kind(value) if inner is None or qualified in _PASS_THROUGH else None
        if inner is None or inner.chain is None:
            return ViewChain(span, self.module.code_for_node(node), kind)
        if value.views == inner.views and qualified in _PASS_THROUGH:
            return inner.chain
        wrapper = {"numpy": "numpy", "torch": "torch"}.get(qualified.split(".")[0])
        if len(value.views) == len(inner.views) + 1 and value.views[:-1] == inner.views \
                and inner.chain.span == self.span(inner_node) and wrapper is not None \
                and wrapper == inner.chain.end_kind:
            return replace(inner.chain, span=span, prior=None,
                           steps=inner.chain.steps + (ChainStep("", True, wrapper),))
        return ViewChain(span, self.module.code_for_node(node), kind)

    def eval_attribute(self, node: cst.Attribute, env: _Env) -> object:
        owner = self._eval(node.value, env)
        attr = node.attr.value
        if isinstance(owner, _SelfValue):
            return owner.context.attr(attr)
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
        if isinstance(owner, TensorFact) and not owner.views and \
                self.conv_outputs.get(owner.origin) is not None:
            self.record_crop(owner, node, env)
        if len(node.slice) != 1 or not isinstance(node.slice[0].slice, cst.Index):
            flipped = _reversing_slice(owner, node)
            if flipped is not None:
                return flipped
            if isinstance(owner, TensorFact) and owner.shape is not None:
                return _tensor_slice(owner, node)
            return UNKNOWN
        index = self._eval(node.slice[0].slice.value, env)
        if isinstance(owner, tuple) and _is_int(index) and -len(owner) <= index < len(owner):
            return owner[index]
        if isinstance(owner, _StateDict) and isinstance(index, str):
            return _layer_attribute(owner.layer, index)
        if isinstance(owner, _Checkpoint) and isinstance(index, str) and index.endswith("weight"):
            return TensorFact("torch", None, None, f"{owner.origin}[{index}]")
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
            if qualified.startswith("keras.") and qualified.endswith(".set_image_data_format"):
                value = self._eval(args[0].value, env) if args else UNKNOWN
                self.image_data_format = (value if isinstance(value, str) else None,
                                          self.span(node))
            return self.eval_library_call(qualified, node, args, kwargs, env)
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value == "apply" and len(args) > 1:
            # flax linen: ``module.apply(variables, x)`` applies the layer to x.
            module = self._eval(func.value, env)
            if isinstance(module, LayerValue):
                return self.call_layer(module, args[1:], kwargs, env, node)
        if isinstance(func, (cst.Name, cst.Attribute, cst.Call)):
            callee = self._eval(func, env)
            if isinstance(callee, (LayerValue, _PadLayer)):
                return self.call_layer(callee, args, kwargs, env, node)
            if isinstance(callee, _ClassValue):
                return self.instantiate(callee.context)
            if isinstance(callee, _FunctionValue):
                self.record_call(callee.node, node, env)  # its result stays unknown
        if isinstance(func, cst.Attribute):
            if self.call_sink(func, args, env):
                return UNKNOWN
            owner = self._eval(func.value, env)
            if isinstance(owner, TensorFact):
                return self.eval_tensor_method(owner, func.attr.value, args, kwargs, env)
            if isinstance(owner, LayerValue) and func.attr.value == "state_dict":
                return _StateDict(owner)
            if func.attr.value == "state_dict" and not args:
                return _Checkpoint("state_dict")  # some torch module's parameters
        if isinstance(func, cst.Name) and func.value in ("len", "min", "max", "int", "tuple",
                                                         "list", "abs"):
            values = [self._eval(a.value, env) for a in args]
            return _builtin(func.value, values)
        if "pad" in _callee_name(func).lower():
            # A project helper that pads (`self._pad(x)`, `causal_pad(x)`): its amounts are
            # unknown, so a conv fed from it must not look unpadded to the padding rules.
            return TensorFact(None, None, origin="pad", pads=(_UNKNOWN_PAD,))
        return UNKNOWN

    def eval_library_call(self, qualified: str, node: cst.Call, args: List[cst.Arg],
                          kwargs: Dict[str, cst.BaseExpression], env: _Env) -> object:
        if qualified == "torch.load":
            return _Checkpoint("torch.load")
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
            elif _SHAPE_CONSTRUCTORS[qualified] != "torch" and values \
                    and isinstance(values[0], tuple):
                values = values[:1]  # np.zeros(shape, dtype): the second argument is a dtype
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
        if qualified in _PAD_LAYERS:
            return self.pad_layer(qualified, args, kwargs, env)
        if qualified in _PAD_FUNCTIONS and (args or kwargs):
            return self.eval_pad(qualified, args, kwargs, env)
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
            axes_node = kwargs.get("dims") or kwargs.get("axis")
            if not rest and axes_node is not None:
                rest = [self._eval(axes_node, env)]
            return replace(first, views=first.views + (f"flip{_fmt_tuple(tuple(rest))}",))
        if qualified in ("numpy.repeat", "jax.numpy.repeat", "torch.repeat_interleave"):
            return _repeated(first, rest, kwargs, lambda n: self._eval(n, env), short)
        if qualified in _PASS_THROUGH:
            return replace(first, framework=_PASS_THROUGH[qualified])
        return UNKNOWN

    # --- explicit pads, layer calls and output crops (padding rules, catalog P03/P07) ---
    def eval_pad(self, qualified: str, args: List[cst.Arg],
                 kwargs: Dict[str, cst.BaseExpression], env: _Env) -> object:
        """F.pad / tf.pad / np.pad: the padded tensor remembers what was padded where."""
        positional = [self._eval(a.value, env) for a in args]
        data_node = kwargs.get("input") or kwargs.get("tensor") or kwargs.get("array")
        first = positional[0] if positional else (
            self._eval(data_node, env) if data_node is not None else UNKNOWN)
        pads_node = kwargs.get("pad") or kwargs.get("paddings") or kwargs.get("pad_width")
        pads = positional[1] if len(positional) > 1 else (
            self._eval(pads_node, env) if pads_node is not None else UNKNOWN)
        mode_node = kwargs.get("mode")
        mode = positional[2] if len(positional) > 2 else (
            self._eval(mode_node, env) if mode_node is not None else "constant")
        torch_style = qualified == "torch.nn.functional.pad"
        fact = first if isinstance(first, TensorFact) else TensorFact(None, None, origin="pad")
        padded = _pad(fact, pads, torch_style) if isinstance(first, TensorFact) else fact
        if not isinstance(padded, TensorFact):
            return UNKNOWN
        return replace(padded, pads=fact.pads + _pad_facts(pads, mode, torch_style, fact.rank))

    def pad_layer(self, qualified: str, args: List[cst.Arg],
                  kwargs: Dict[str, cst.BaseExpression], env: _Env) -> object:
        node = args[0].value if args else kwargs.get("padding")
        amount = self._eval(node, env) if node is not None else (
            1 if qualified.startswith("keras.") else UNKNOWN)
        if _is_int(amount):
            amount = (amount, amount)
        pair = amount if isinstance(amount, tuple) and len(amount) == 2 else (None, None)
        left, right = (_int_or_none(v) for v in pair)
        axis = -1
        if qualified.startswith("keras."):
            data_format = self._eval(kwargs["data_format"], env) if "data_format" in kwargs \
                else None
            axis = {None: -2, "channels_last": -2, "channels_first": -1}.get(
                data_format, 0)  # type: ignore[arg-type]
        return _PadLayer(PadFact(axis, left, right, _PAD_LAYERS[qualified]))

    def call_layer(self, layer: object, args: List[cst.Arg],
                   kwargs: Dict[str, cst.BaseExpression], env: _Env,
                   call: Optional[cst.Call] = None) -> object:
        node = args[0].value if args else (
            kwargs.get("inputs") or kwargs.get("x") or kwargs.get("input"))
        value = self._eval(node, env) if node is not None else UNKNOWN
        if isinstance(layer, _PadLayer):
            fact = value if isinstance(value, TensorFact) else TensorFact(None, None, origin="pad")
            return replace(fact, pads=fact.pads + (layer.pad,), views=fact.views + ("pad",))
        assert isinstance(layer, LayerValue)
        site = self.done.get(layer.order)
        if site is not None and isinstance(value, TensorFact):
            seen = site.spec.input
            fact: Optional[TensorFact] = None
            if value.pads:
                if seen is None or not seen.pads or seen.pads == value.pads:
                    fact = value
                else:  # called on differently padded inputs: the pre-pad is not one fact
                    fact = replace(value, pads=(_UNKNOWN_PAD,))
            elif seen is None:
                fact = value  # the first application decides the data layout (CNV301)
            if fact is not None:
                site = replace(site, spec=replace(site.spec, input=fact))
                if fact is value and node is not None and call is not None:
                    site = replace(site, input_span=self.atom_span(node),
                                   call_span=self.span(call))
                self.done[layer.order] = site
        if node is not None and layer.spec.framework == "torch":
            self.mark_layout(node, NCL, env)
        data = value if isinstance(value, TensorFact) else None
        return self.conv_output(layer.spec, data, layer.site_label, layer.order)

    def conv_output(self, spec: ConvSpec, data: Optional[TensorFact], label: str,
                    order: int) -> TensorFact:
        known = self.conv_outputs.get(label, order)
        self.conv_outputs[label] = order if known == order else None
        return _conv_output(spec, data, label)

    def record_crop(self, output: TensorFact, node: cst.Subscript, env: _Env) -> None:
        crop = _crop(node, lambda e: self._eval(e, env))
        order = self.conv_outputs.get(output.origin)
        site = self.done.get(order) if order is not None else None
        if crop is None or site is None:
            return
        previous = site.spec.output_crop
        if previous is not None and previous != crop:
            crop = _UNKNOWN_CROP  # sliced differently in different places
        self.done[order] = replace(site, spec=replace(site.spec, output_crop=crop))

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

    def value_span(self, call: cst.Call, value: cst.BaseExpression) -> Optional[Span]:
        """An argument value's span including its parentheses (`(2,)`), for fix edits."""
        span = self.span(value)
        arg = next((a for a in call.args if a.value is value), None)
        outer = self.span(arg) if arg is not None else None
        if span is None or outer is None or not value.lpar or span.line != outer.end_line:
            return span
        opening = sum(len(self.module.code_for_node(p)) for p in value.lpar)
        return Span(span.line, span.column - opening, outer.end_line, outer.end_column)

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
        if method == "transpose" and (fact.framework == "numpy" or len(values) != 2):
            # torch's transpose takes exactly two dims: any other count is numpy's (or
            # jax's) axes permutation, e.g. on ``x.numpy()`` whose fact stays torch.
            perm = values[0] if len(values) == 1 and isinstance(values[0], tuple) else tuple(values)
            if not perm and fact.rank is not None:
                perm = tuple(reversed(range(fact.rank)))
            return _permute(fact, perm, f"transpose{_fmt_tuple(perm)}")
        if method in ("reshape", "view"):
            dims = values[0] if len(values) == 1 and isinstance(values[0], tuple) else tuple(values)
            return _reshape(fact, dims, f"{method}{_fmt_tuple(dims)}")
        if method == "flip":
            if not values and ("dims" in kwargs or "axis" in kwargs):
                values = [self._eval(kwargs.get("dims") or kwargs["axis"], env)]
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


@dataclass(frozen=True)
class _StateDict:
    """``layer.state_dict()``: its "weight" and "bias" entries are the layer's."""

    layer: LayerValue


@dataclass(frozen=True)
class _Checkpoint:
    """A torch state dict whose module is not in the code (``torch.load``, ``m.state_dict()``).

    Its ``...weight`` entries are torch weights of unknown shape: ``origin`` + ``[key]``.
    """

    origin: str


_KERNEL_ATTRS = ("kernel", "depthwise_kernel")
_CONSTANT_INITS = ("keras.initializers.Constant", "keras.initializers.constant",
                   "tensorflow.constant_initializer", "tensorflow.keras.initializers.Constant")


def _chain_kind(fact: TensorFact) -> Optional[str]:
    """What a chain's base is, for the idiom of a rewrite: a torch tensor or an ndarray."""
    return fact.framework if fact.framework in ("torch", "numpy") else None


def _reversing_slice(owner: object, node: cst.Subscript) -> Optional[TensorFact]:
    """``w[::-1]`` / ``w[..., ::-1]``: a flip of one axis, recorded as ``flip(axis)``."""
    if not isinstance(owner, TensorFact):
        return None
    elements = [e.slice for e in node.slice]
    ellipsis = [i for i, e in enumerate(elements)
                if isinstance(e, cst.Index) and isinstance(e.value, cst.Ellipsis)]
    reversed_axes = []
    for i, item in enumerate(elements):
        if i in ellipsis:
            continue
        if not isinstance(item, cst.Slice) or item.lower is not None or item.upper is not None:
            return None
        step = item.step
        if step is None:
            continue
        if isinstance(step, cst.UnaryOperation) and isinstance(step.operator, cst.Minus) \
                and isinstance(step.expression, cst.Integer) and step.expression.value == "1":
            reversed_axes.append(i)
        else:
            return None
    if len(reversed_axes) != 1 or len(ellipsis) > 1:
        return None
    axis = reversed_axes[0]
    if ellipsis:
        if axis < ellipsis[0] or owner.rank is None:
            return None
        axis = owner.rank - (len(elements) - axis)
    return replace(owner, views=owner.views + (f"flip({axis})",))


def _has_modulo(node: Optional[cst.CSTNode]) -> bool:
    return _modulo(node) is not None


def _modulo(node: Optional[cst.CSTNode]) -> Optional[cst.BaseExpression]:
    """The divisor of the first ``a % b`` in ``node`` (``b``), or None."""
    stack = [node] if node is not None else []
    while stack:
        current = stack.pop()
        if isinstance(current, cst.BinaryOperation) and isinstance(current.operator, cst.Modulo):
            return current.right
        stack.extend(children(current))
    return None


def _dicts_in(node: cst.CSTNode) -> Iterable[cst.Dict]:
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            continue
        if isinstance(current, cst.Dict):
            yield current
        stack.extend(children(current))


def _subscript_targets(node: cst.CSTNode) -> List[cst.Subscript]:
    out: List[cst.Subscript] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, (cst.FunctionDef, cst.ClassDef)) and current is not node:
            continue
        target = None
        if isinstance(current, cst.AssignTarget):
            target = current.target
        elif isinstance(current, (cst.AugAssign, cst.AnnAssign)):
            target = current.target
        if isinstance(target, cst.Subscript) and isinstance(target.value, cst.Name):
            out.append(target)
        stack.extend(children(current))
    return out


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
                      fact.origin, fact.views + ("[...]",),
                      pads=(_UNKNOWN_PAD,) if fact.pads else ())


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
                      fact.views + ("pad",), pads=fact.pads)


_PAD_FUNCTIONS = ("torch.nn.functional.pad", "numpy.pad", "tensorflow.pad", "jax.numpy.pad")
# Pad layers and the mode they pad with (torch's names).
_PAD_LAYERS = {
    "keras.layers.ZeroPadding1D": "constant", "torch.nn.ZeroPad1d": "constant",
    "torch.nn.ConstantPad1d": "constant", "torch.nn.ReflectionPad1d": "reflect",
    "torch.nn.ReplicationPad1d": "replicate", "torch.nn.CircularPad1d": "circular",
}
_PAD_MODES = {"constant": "constant", "reflect": "reflect", "replicate": "replicate",
              "circular": "circular", "edge": "replicate", "wrap": "circular",
              "symmetric": "symmetric"}
# Pads that exist but are not known (a non-constant amount on an unknown axis).
_UNKNOWN_PAD = PadFact(0, None, None, "unknown")
_UNKNOWN_CROP = Crop(0, None, None)


def _pad_facts(pads: object, mode: object, torch_style: bool,
               rank: Optional[int]) -> Tuple[PadFact, ...]:
    """PadFacts with axes counted from the end; one unknown PadFact when not constant."""
    mode_name = _PAD_MODES.get(mode.lower(), "unknown") if isinstance(mode, str) else "unknown"
    if not isinstance(pads, tuple):
        return (_UNKNOWN_PAD,)
    out: List[PadFact] = []
    if torch_style:
        # F.pad pairs start at the LAST axis: (left, right, left_of_previous, ...).
        if len(pads) % 2:
            return (_UNKNOWN_PAD,)
        for i in range(0, len(pads), 2):
            out.append(PadFact(-1 - i // 2, _int_or_none(pads[i]), _int_or_none(pads[i + 1]),
                               mode_name))
    else:
        if _is_int(pads) or (len(pads) == 2 and all(_is_int(p) for p in pads)):
            return (_UNKNOWN_PAD,)  # np.pad broadcast form: every axis, rank unknown
        for position, pair in enumerate(pads):
            axis = position - len(pads)
            if isinstance(pair, tuple) and len(pair) == 2:
                out.append(PadFact(axis, _int_or_none(pair[0]), _int_or_none(pair[1]), mode_name))
            else:
                out.append(PadFact(axis, None, None, mode_name))
    return tuple(p for p in out if (p.left, p.right) != (0, 0))


def _callee_name(func: cst.BaseExpression) -> str:
    if isinstance(func, cst.Name):
        return func.value
    if isinstance(func, cst.Attribute):
        return func.attr.value
    return ""


def _crop(node: cst.Subscript, evaluate) -> Optional[Crop]:
    """The one sliced axis of ``y[..., a:b]`` / ``y[:, :, a:b]`` (rank 3 assumed), or None."""
    elements = [e.slice for e in node.slice]
    ellipsis = [i for i, e in enumerate(elements)
                if isinstance(e, cst.Index) and isinstance(e.value, cst.Ellipsis)]
    cut = [i for i, e in enumerate(elements) if isinstance(e, cst.Slice) and not (
        e.lower is None and e.upper is None and e.step is None)]
    indexed = any(isinstance(e, cst.Index) and i not in ellipsis for i, e in enumerate(elements))
    if len(cut) != 1 or len(elements) > 3 or indexed:
        return None
    item = elements[cut[0]]
    assert isinstance(item, cst.Slice)
    step = evaluate(item.step) if item.step is not None else None
    if step is not None and not (_is_int(step) and step > 0):
        return None
    bounds = [evaluate(b) if b is not None else None for b in (item.lower, item.upper)]
    if any(b is not None and not _is_int(b) for b in bounds):
        # A slice by a runtime length (``y[:, 1:2 * L + 1]``) still cuts the output: the
        # conv's window is unknown, not its padding alone.
        return _UNKNOWN_CROP
    if ellipsis and ellipsis[0] < cut[0]:
        axis = cut[0] - len(elements)
    elif not ellipsis:
        axis = cut[0] - 3
    else:
        return None
    return Crop(axis, bounds[0], bounds[1], step)  # type: ignore[arg-type]


def _repeated(fact: TensorFact, rest: List[object], kwargs: Dict[str, cst.BaseExpression],
              evaluate, short: str) -> object:
    """``np.repeat(k, n, axis)``: that axis n times longer (catalog G01: a grouped kernel
    tiled over the in-dim is a dense filter)."""
    times = rest[0] if rest else (evaluate(kwargs["repeats"]) if "repeats" in kwargs else None)
    axis = rest[1] if len(rest) > 1 else (
        evaluate(kwargs.get("axis") or kwargs.get("dim")) if ("axis" in kwargs or "dim" in kwargs)
        else None)
    if fact.shape is None or not _is_int(times) or not _is_int(axis) or \
            not -len(fact.shape) <= axis < len(fact.shape):
        return UNKNOWN
    shape = list(fact.shape)
    shape[axis] = shape[axis] * times if shape[axis] is not None else None
    return replace(fact, shape=tuple(shape), views=fact.views + (f"{short}({times}, {axis})",),
                   dim_spans=None)


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
            stack.extend(children(current))


def _calls_in(node: cst.CSTNode) -> Iterable[cst.Call]:
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, (cst.FunctionDef, cst.ClassDef)) and current is not node:
            continue
        if isinstance(current, cst.Call):
            yield current
        stack.extend(children(current))


def _assigned_names(node: cst.CSTNode, whole_only: bool = False) -> List[str]:
    """Names assigned in ``node``; with ``whole_only``, not those only written
    element-wise (``w[i] = ...``)."""
    skipped = {id(t) for t in _subscript_targets(node)} if whole_only else set()
    names: List[str] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, (cst.FunctionDef, cst.ClassDef)) and current is not node:
            continue
        if isinstance(current, (cst.AssignTarget, cst.AugAssign, cst.AnnAssign, cst.For,
                                cst.NamedExpr)) and id(current.target) not in skipped:
            names.extend(_target_names(current.target))
        stack.extend(children(current))
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

def _conv_output(spec: ConvSpec, data: Optional[TensorFact], origin: str) -> TensorFact:
    """A conv's result: in the op's own data layout, (N, O, ?) or (N, ?, O)."""
    if data is None or data.rank != 3 or spec.data_layout not in (NCL, NLC):
        return TensorFact(spec.framework, None, None, origin)
    n, o = data.dim(0), spec.out_channels
    length = _output_length(spec, data.dim(2 if spec.data_layout == NCL else 1))
    shape = (n, o, length) if spec.data_layout == NCL else (n, length, o)
    return TensorFact(spec.framework, shape, spec.data_layout, origin)


def _output_length(spec: ConvSpec, length: Optional[int]) -> Optional[int]:
    """A forward conv's output length, when every number is known (else None)."""
    k, s, d, pad = spec.kernel_size, spec.stride, spec.dilation, spec.padding
    if spec.kind == "conv_transpose" or None in (length, k, s, d) or s < 1:  # type: ignore[operator]
        return None
    if pad.mode == "same":
        return -(-length // s)  # type: ignore[operator]
    if pad.mode in ("valid", "explicit") and pad.left is not None and pad.right is not None:
        span = length + pad.left + pad.right - d * (k - 1)  # type: ignore[operator]
        return (span - 1) // s + 1 if span > 0 else None
    return None


def _omits_data_format(raw: RawSite, evaluate) -> bool:
    """No data_format (or data_format=None): Keras uses the global image_data_format."""
    parameter = raw.api.roles.get("data_format")
    if parameter is None:
        return False
    node = raw.bound.args.get(parameter)
    return (node is None and not raw.bound.has_star_args) or (
        node is not None and evaluate(node) is None)


def build_spec(raw: RawSite, evaluate,
               image_data_format: Optional[str] = "channels_last") -> Optional[ConvSpec]:
    """Describe one site. Returns None when the call is known not to be 1-D.

    ``image_data_format`` is Keras' global format where the site runs (None: unknown)."""
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

    data_layout, kernel_layout = _layouts(api, role, image_data_format)
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
        padding_explicit=api.roles.get("padding") in raw.bound.args,
        input_dilation=_single(role("input_dilation"), none_means=1),
        transpose_pads_dilated_input=api.kind == "conv_transpose" and api.framework in (
            "jax", "flax") and values.get("use_consistent_padding") is not True,
        transpose_kernel=_bool_or_none(role("transpose_kernel")),
        depth_multiplier=_int_or_none(role("depth_multiplier")),
    )


def _bool_or_none(v: object) -> Optional[bool]:
    return v if isinstance(v, bool) else None


def _is_constant(v: object) -> bool:
    if isinstance(v, tuple):
        return all(_is_constant(item) for item in v)
    return v is None or isinstance(v, (bool, int, float, str))


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


def _layouts(api: ApiSpec, role, image_data_format: Optional[str] = "channels_last"
             ) -> Tuple[Optional[str], Optional[str]]:
    kernel_layout = api.kernel_layout
    if api.framework == "torch":
        return NCL, kernel_layout
    if api.framework == "flax":
        return NLC, kernel_layout
    if api.framework == "jax":
        dn = role("dimension_numbers") if "dimension_numbers" in api.roles else None
        if dn is None:
            return api.data_layout or NCL, kernel_layout
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
    if data_format is None:
        data_format = image_data_format
    if data_format == "channels_last":
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
