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

from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import libcst as cst
from libcst.metadata import PositionProvider

from . import apis
from .apis import REQUIRED, ApiSpec
from .parse import ParsedFile
from .spec import Span

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


@dataclass(frozen=True)
class RawSite:
    node: cst.Call
    api: ApiSpec
    bound: BoundCall
    span: Span
    scope: Tuple[str, ...]
    order: int
    args_end: Optional[Tuple[int, int]] = None


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
    return BoundCall(args, positional, tuple(keywords), tuple(extra), too_many, star)


def default_of(api: ApiSpec, parameter: str) -> object:
    value = api.defaults.get(parameter, None)
    return None if value is REQUIRED else value


class _Finder(cst.CSTVisitor):
    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self) -> None:
        super().__init__()
        # One mapping per open scope: local name -> qualified name (or _AMBIGUOUS).
        self.scopes: List[Dict[str, Optional[str]]] = [{}]
        self.scope_names: List[str] = []
        self.sites: List[RawSite] = []
        self.callees: Dict[cst.Call, str] = {}
        self.conditional_depth = 0  # inside if/try/loop bodies of the current file

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
        for param in _all_params(node.params):
            self._bind(param.name.value, None)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.scopes.pop()
        self.scope_names.pop()

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.scopes.append({})
        self.scope_names.append(node.name.value)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self.scopes.pop()
        self.scope_names.pop()
        self._bind(original_node.name.value, None)

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

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if isinstance(node.target, cst.Name) and node.value is not None:
            self._bind_assigned(node.target.value, self.qualify(node.value))

    def _bind_assigned(self, name: str, qualified: Optional[str]) -> None:
        self.scopes[-1][name] = qualified

    # --- calls -------------------------------------------------------------------------
    def visit_Call(self, node: cst.Call) -> None:
        qualified = self.qualify(node.func)
        if qualified is None:
            return
        qualified = apis.canonical(qualified)
        self.callees[node] = qualified
        api = apis.lookup(qualified)
        if api is None:
            return
        pos = self.get_metadata(PositionProvider, node)
        span = Span(pos.start.line, pos.start.column, pos.end.line, pos.end.column)
        args_end = None
        if node.args:
            # The Arg, not its value: a parenthesized value's position leaves out its parens.
            last = self.get_metadata(PositionProvider, node.args[-1])
            args_end = (last.end.line, last.end.column)
        self.sites.append(RawSite(node, api, bind_arguments(api, node), span,
                                  tuple(self.scope_names), len(self.sites), args_end))


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
    finder = _Finder()
    parsed.wrapper.visit(finder)
    return FileIndex(tuple(finder.sites), finder.callees)
