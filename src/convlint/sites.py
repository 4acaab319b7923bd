"""Stage 2: find every convolution call and bind its arguments to parameter names.

Callees are resolved through the file's own imports, scope by scope, in source order:
``import torch.nn.functional as F``, ``from tensorflow import nn as tfnn``,
``from flax import linen as nn``, ``conv = F.conv1d``, a class deriving from a Keras
conv layer. A name is a convolution only if it resolves to an API in ``convlint.apis``;
a project function called ``conv1d`` or transformers' ``Conv1D`` linear layer never
resolves, and neither does text in strings.

Why not LibCST's QualifiedNameProvider: it returns a *set* of names under conditional
imports (``if backend == "torch"``), which mixed codebases are full of, and costs ~3x a
plain walk. This resolver is ordered and deterministic: a name bound to two different
modules on two branches resolves to neither.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Dict, List, Optional, Sequence, Set, Tuple

import libcst as cst
from libcst.metadata import PositionProvider

from . import apis
from .apis import REQUIRED, ApiSpec
from .parse import ParsedFile
from .positions import positions_of
from .spec import CallFacts, Span

_AMBIGUOUS = "<ambiguous>"


@dataclass(frozen=True)
class BoundCall:
    """Arguments of one call matched to the API's parameter names.

    ``args`` maps a parameter name to the argument expression; absent parameters are
    missing (their defaults live in the ApiSpec). ``extra`` lists keyword names the API
    does not have and ``too_many_positional`` counts positionals beyond its table.
    """

    args: Dict[str, cst.BaseExpression]
    positional_count: int
    keywords: Tuple[str, ...]
    extra: Tuple[str, ...]
    too_many_positional: int
    has_star_args: bool
    positional_names: Tuple[str, ...] = ()  # parameters bound positionally, in order


@dataclass(frozen=True)
class RawSite:
    node: cst.Call
    api: ApiSpec
    bound: BoundCall
    span: Span
    scope: Tuple[str, ...]
    order: int
    args_end: Optional[Tuple[int, int]] = None
    call: CallFacts = CallFacts()


@dataclass(frozen=True)
class FileIndex:
    """What the finder learned about a file: its sites and every resolved callee."""

    sites: Tuple[RawSite, ...]
    callees: Dict[cst.Call, str]  # call node -> canonical qualified name of its callee


def bind_arguments(api: ApiSpec, call: cst.Call, parameters: Sequence[str] = ()) -> BoundCall:
    params = tuple(parameters) or api.positional
    args: Dict[str, cst.BaseExpression] = {}
    keywords: List[str] = []
    extra: List[str] = []
    positional = 0
    too_many = 0
    star = False
    for arg in call.args:
        if arg.star:
            star = True
            continue
        if arg.keyword is None:
            if positional < len(params):
                args[params[positional]] = arg.value
            else:
                too_many += 1
            positional += 1
        else:
            name = arg.keyword.value
            keywords.append(name)
            if name in api.parameters or name in params:
                args[name] = arg.value
            else:
                extra.append(name)
    names = tuple(params[:min(positional, len(params))])
    return BoundCall(args, positional, tuple(keywords), tuple(extra), too_many, star, names)


def default_of(api: ApiSpec, parameter: str) -> object:
    value = api.defaults.get(parameter, None)
    return None if value is REQUIRED else value


# `# convlint: port-of models/foo.py::Foo` names the source this code was ported from.
PORT_OF = re.compile(r"#\s*convlint:\s*port-of\s+(\S+)")
# Calls that add a bias to a functional conv's result (catalog B01's correct port).
_BIAS_ADDERS = frozenset({"tensorflow.nn.bias_add", "tensorflow.add", "tensorflow.math.add",
                          "keras.ops.add", "jax.numpy.add", "numpy.add", "torch.add"})
_MATMULS = frozenset({"matmul", "einsum", "dot", "tensordot", "mm"})
_REVERSES = re.compile(r"\[\s*::\s*-\s*1\s*\]|flip|reverse|\[\s*::\s*-1")


class _Frame:
    """What one function body (or the module) does with call results: which are added
    to a bias, directly or through the name they were assigned to."""

    def __init__(self) -> None:
        self.biased_names: Set[str] = set()
        self.returned_names: Set[str] = set()  # the caller may add the bias
        self.biased_calls: Set[int] = set()
        self.assigned: Dict[int, List[str]] = {}
        self.sites: List[Tuple[int, cst.Call]] = []  # (index in Finder.sites, node)


class _Finder(cst.CSTVisitor):
    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self, module: Optional[cst.Module] = None, source: str = "") -> None:
        super().__init__()
        self.module = module
        self.markers: Dict[int, str] = {}
        if "convlint:" in source:
            for number, line in enumerate(source.splitlines(), start=1):
                match = PORT_OF.search(line)
                if match:
                    self.markers[number] = match.group(1)
        self.marker_stack: List[Optional[str]] = []
        # Innermost-last (class name, conv API it derives from or None).
        self.class_stack: List[Tuple[str, Optional[ApiSpec]]] = []
        self.site_class: Dict[int, str] = {}  # site order -> outermost enclosing class
        self.instantiations: Dict[str, List[Tuple[str, ...]]] = {}
        self.assigned_values: Dict[str, List[cst.BaseExpression]] = {}
        self.frames: List[_Frame] = [_Frame()]
        self.has_matmul = False
        # One mapping per open scope: local name -> qualified name (or _AMBIGUOUS).
        self.scopes: List[Dict[str, Optional[str]]] = [{}]
        self.scope_names: List[str] = []
        self.sites: List[RawSite] = []
        self.callees: Dict[cst.Call, str] = {}
        self.conditional_depth = 0  # inside if/try/loop bodies of the current file
        # Filled for convlint.positions.LazyPositions: node -> its top-level statement.
        self.owner: Optional[Dict[cst.CSTNode, int]] = None
        self.tops: Dict[cst.CSTNode, int] = {}
        self.top = -1

    def on_visit(self, node: cst.CSTNode) -> bool:
        owner = self.owner
        if owner is not None:
            top = self.tops.get(node)
            if top is not None:
                self.top = top
            owner[node] = self.top
        return super().on_visit(node)

    # --- name resolution -------------------------------------------------------------
    def _lookup(self, name: str) -> Optional[str]:
        for scope in reversed(self.scopes):
            if name in scope:
                found = scope[name]
                return None if found == _AMBIGUOUS else found
        return None

    def _bind(self, name: str, qualified: Optional[str]) -> None:
        scope = self.scopes[-1]
        previous = scope.get(name)
        if (self.conditional_depth and previous is not None and qualified is not None
                and apis.canonical(previous) != apis.canonical(qualified)):
            # Bound to different modules on different paths (`if backend == "torch"`).
            scope[name] = _AMBIGUOUS
            return
        scope[name] = qualified

    def _enter_conditional(self, node: cst.CSTNode) -> None:
        self.conditional_depth += 1

    def _leave_conditional(self, original_node: cst.CSTNode) -> None:
        self.conditional_depth -= 1

    visit_If = visit_Try = visit_For = visit_While = _enter_conditional
    leave_If = leave_Try = leave_For = leave_While = _leave_conditional

    def qualify(self, node: cst.BaseExpression) -> Optional[str]:
        if isinstance(node, cst.Name):
            return self._lookup(node.value)
        if isinstance(node, cst.Attribute):
            base = self.qualify(node.value)
            return None if base is None else f"{base}.{node.attr.value}"
        return None

    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            dotted = _dotted(alias.name)
            if alias.asname is not None:
                self._bind(_asname(alias), dotted)
            else:
                root = dotted.split(".")[0]
                self._bind(root, root)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if isinstance(node.names, cst.ImportStar):
            return
        module = _dotted(node.module) if node.module is not None else ""
        relative = len(node.relative) > 0
        for alias in node.names:
            name = _dotted(alias.name)
            local = _asname(alias) if alias.asname is not None else name
            if relative:
                # A project module re-exporting a framework (transformers does
                # `from ...modeling_tf_utils import keras`): only the framework's own
                # name is trusted, anything else stays a project name.
                qualified = name if name in ("keras", "tf_keras") else None
            else:
                qualified = f"{module}.{name}" if module else name
            self._bind(local, qualified)

    # --- scopes and shadowing ----------------------------------------------------------
    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._bind(node.name.value, None)
        self.scopes.append({})
        self.scope_names.append(node.name.value)
        self.marker_stack.append(self._marker_of(node))
        self.frames.append(_Frame())
        for param in _all_params(node.params):
            self._bind(param.name.value, None)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.scopes.pop()
        self.scope_names.pop()
        self.marker_stack.pop()
        self._resolve_frame(self.frames.pop())

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        base_api = None
        for base in node.bases:
            qualified = self.qualify(base.value) if base.keyword is None else None
            api = apis.lookup(qualified) if qualified is not None else None
            if api is not None and api.form == "layer":
                base_api = api
        self.class_stack.append((node.name.value, base_api))
        self.scopes.append({})
        self.scope_names.append(node.name.value)
        self.marker_stack.append(self._marker_of(node))

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self.scopes.pop()
        self.scope_names.pop()
        self.marker_stack.pop()
        self.class_stack.pop()
        self._bind(original_node.name.value, None)

    def _marker_of(self, node) -> Optional[str]:
        """A port-of marker on the def/class line, its decorators, or the line before."""
        if not self.markers:
            return None
        start = self.get_metadata(PositionProvider, node).start.line
        if node.decorators:
            start = min(start, self.get_metadata(PositionProvider, node.decorators[0]).start.line)
        name_line = self.get_metadata(PositionProvider, node.name).start.line
        for line in range(start - 1, name_line + 1):
            if line in self.markers:
                return self.markers[line]
        return None

    # --- what happens to call results (bias added?) -------------------------------------
    def visit_BinaryOperation(self, node: cst.BinaryOperation) -> None:
        if isinstance(node.operator, cst.MatrixMultiply):
            self.has_matmul = True
        if isinstance(node.operator, cst.Add):
            for operand in (node.left, node.right):
                self._mark_biased(operand)

    def visit_Return(self, node: cst.Return) -> None:
        value = node.value
        items = [e.value for e in value.elements] if isinstance(value, (cst.Tuple, cst.List)) \
            else [value]
        for item in items:
            if isinstance(item, cst.Name):
                self.frames[-1].returned_names.add(item.value)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        if isinstance(node.operator, cst.AddAssign):
            self._mark_biased(node.target)

    def _mark_biased(self, node: cst.BaseExpression) -> None:
        frame = self.frames[-1]
        if isinstance(node, cst.Call):
            frame.biased_calls.add(id(node))
        elif isinstance(node, cst.Name):
            frame.biased_names.add(node.value)

    def _resolve_frame(self, frame: _Frame) -> None:
        for index, node in frame.sites:
            raw = self.sites[index]
            if raw.api.form != "functional":
                continue
            biased: Optional[bool] = None
            if id(node) in frame.biased_calls:
                biased = True
            elif id(node) in frame.assigned:
                names = frame.assigned[id(node)]
                if any(n in frame.biased_names for n in names):
                    biased = True
                elif not any(n in frame.returned_names for n in names):
                    biased = False
            self.sites[index] = replace(raw, call=replace(raw.call, result_biased=biased))

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self.scopes.append({p.name.value: None for p in _all_params(node.params)})

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        self.scopes.pop()

    def visit_Assign(self, node: cst.Assign) -> None:
        # `conv = F.conv1d` keeps the API; any other value shadows an import.
        qualified = self.qualify(node.value)
        for target in node.targets:
            if isinstance(target.target, cst.Name):
                self._bind_assigned(target.target.value, qualified)
                self.assigned_values.setdefault(target.target.value, []).append(node.value)
        if isinstance(node.value, cst.Call):
            self.frames[-1].assigned[id(node.value)] = [
                t.target.value for t in node.targets if isinstance(t.target, cst.Name)]

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if isinstance(node.target, cst.Name) and node.value is not None:
            self._bind_assigned(node.target.value, self.qualify(node.value))

    def _bind_assigned(self, name: str, qualified: Optional[str]) -> None:
        self.scopes[-1][name] = qualified

    # --- calls -------------------------------------------------------------------------
    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Attribute) and node.func.attr.value in _MATMULS:
            self.has_matmul = True
        qualified = self.qualify(node.func)
        if qualified is None:
            api = self._conv_superclass(node)
            if api is None:
                if isinstance(node.func, cst.Name):
                    self.instantiations.setdefault(node.func.value, []).append(
                        tuple(self.scope_names))
                return
            super_init = True
        else:
            qualified = apis.canonical(qualified)
            self.callees[node] = qualified
            if qualified in _BIAS_ADDERS:
                for arg in node.args[:2]:
                    self._mark_biased(arg.value)
            api = apis.lookup(qualified)
            if api is None:
                return
            super_init = False
        pos = self.get_metadata(PositionProvider, node)
        span = Span(pos.start.line, pos.start.column, pos.end.line, pos.end.column)
        args_end = None
        if node.args:
            # The Arg, not its value: a parenthesized value's position leaves out its parens.
            last = self.get_metadata(PositionProvider, node.args[-1])
            args_end = (last.end.line, last.end.column)
        bound = bind_arguments(api, node)
        facts = CallFacts(
            positional=bound.positional_names, extra_positional=bound.too_many_positional,
            unknown=bound.extra, texts=self._texts(bound, node), port_of=self._call_marker(span),
            super_init=super_init, star_args=bound.has_star_args)
        classes = [name for name, _ in self.class_stack]
        if classes:
            self.site_class[len(self.sites)] = classes[0]
        self.frames[-1].sites.append((len(self.sites), node))
        self.sites.append(RawSite(node, api, bound, span, tuple(self.scope_names),
                                  len(self.sites), args_end, facts))

    def _conv_superclass(self, node: cst.Call) -> Optional[ApiSpec]:
        """``super().__init__(...)`` in ``__init__`` of a class deriving from a conv layer
        (transformers' TFWav2Vec2WeightNormConv1D) constructs that layer."""
        func = node.func
        if not (isinstance(func, cst.Attribute) and func.attr.value == "__init__"
                and isinstance(func.value, cst.Call) and isinstance(func.value.func, cst.Name)
                and func.value.func.value == "super"):
            return None
        if not self.class_stack or not self.scope_names or self.scope_names[-1] != "__init__":
            return None
        return self.class_stack[-1][1]

    def _texts(self, bound: BoundCall, node: cst.Call) -> Tuple[Tuple[str, str], ...]:
        if self.module is None:
            return ()
        code = self.module.code_for_node
        unknown = tuple((a.keyword.value, code(a.value)) for a in node.args
                        if a.keyword is not None and a.keyword.value in bound.extra)
        return tuple((name, code(expr)) for name, expr in bound.args.items()) + unknown

    def _call_marker(self, span: Span) -> Optional[str]:
        for line in range(span.line, span.end_line + 1):
            if line in self.markers:
                return self.markers[line]
        return next((m for m in reversed(self.marker_stack) if m is not None), None)

    def finish(self) -> None:
        """Facts that need the whole file: bias use at module level, instantiating
        scopes of each site's class, and kernels reversed before the call."""
        self._resolve_frame(self.frames[0])
        for index, raw in enumerate(self.sites):
            facts = raw.call
            owner = self.site_class.get(raw.order)
            if owner is not None:
                scopes = [s for s in self.instantiations.get(owner, ()) if owner not in s]
                facts = replace(facts, used_in=tuple(dict.fromkeys(scopes))[:4])
            flipped = tuple(name for name, text in facts.texts if self._reverses(text))
            if flipped or facts is not raw.call or self.has_matmul:
                self.sites[index] = replace(raw, call=replace(
                    facts, flipped=flipped, file_has_matmul=self.has_matmul))

    def _reverses(self, text: str) -> bool:
        if _REVERSES.search(text):
            return True
        values = self.assigned_values.get(text.strip(), ())
        return self.module is not None and any(
            _REVERSES.search(self.module.code_for_node(v)) for v in values)


def _dotted(node: cst.BaseExpression) -> str:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return f"{_dotted(node.value)}.{node.attr.value}"
    return ""


def _asname(alias: cst.ImportAlias) -> str:
    assert alias.asname is not None
    target = alias.asname.name
    return target.value if isinstance(target, cst.Name) else _dotted(target)


def _all_params(params: cst.Parameters) -> List[cst.Param]:
    out = list(params.posonly_params) + list(params.params) + list(params.kwonly_params)
    for star in (params.star_arg, params.star_kwarg):
        if isinstance(star, cst.Param):
            out.append(star)
    return out


def find_sites(parsed: ParsedFile) -> FileIndex:
    finder = _Finder(parsed.module, parsed.source)
    lazy = positions_of(parsed.wrapper)
    if lazy is not None:
        finder.owner, finder.tops = lazy.owner, lazy.tops
    parsed.wrapper.visit(finder)
    finder.finish()
    return FileIndex(tuple(finder.sites), finder.callees)
