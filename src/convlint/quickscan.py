"""A cheap, conservative "can this file hold a site?" test on Python's own ``ast``.

The regex prefilter lets through any file that mentions ``Conv1D`` or ``.convolution``;
in transformers two thirds of those (93 of 138 files) hold no convolution API at all
(its ``Conv1D`` is a linear layer, ``self.convolution`` an attribute). LibCST costs
~25x Python's parser there, so before parsing with LibCST we resolve names the way
:mod:`convlint.sites` does, but flow-insensitively: every name may hold *any* value any
import or assignment in the file gives it, whatever the scope or order. That is a
superset of what the ordered resolver can conclude, so a file this test rejects cannot
produce a site; a file it accepts is analyzed in full.

Not only calls count: a bare reference (``y = torch.conv1d``) is enough, which keeps a
file the ordered resolver would look at in the LibCST path (and its CNV900 if LibCST
cannot parse it).
"""

from __future__ import annotations

import ast
import re
from typing import Dict, List, Optional, Set, Tuple

from . import apis

_RELATIVE_TRUSTED = ("keras", "tf_keras")  # see sites._Finder.visit_ImportFrom
_MAX_ROUNDS = 8


# Text that can name a convolution API. A file without any of it cannot hold a site,
# so it is never parsed (LibCST parses ~20k lines/s; this regex reads ~100 MB/s).
PREFILTER = re.compile(
    rb"conv1d|Conv1d|Conv1D|conv_transpose|ConvTranspose|Convolution1D|conv_general"
    rb"|conv_with_general|\.convolution\b|\bConv\b|lax\.conv\b|ops\.conv|depthwise_conv"
    rb"|separable_conv|DepthwiseConv1D|SeparableConv1D"
)


def decode(data: bytes) -> str:
    """Decode per PEP 263 (BOM, coding cookie), falling back to UTF-8 errors."""
    import io
    import tokenize

    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    text = data.decode(encoding)
    return text[1:] if text.startswith("\ufeff") else text


def might_contain_conv(data: bytes) -> bool:
    return PREFILTER.search(data) is not None


def prefilter_text() -> "re.Pattern[str]":
    """PREFILTER for decoded text (flake8 hands plugins lines, not bytes)."""
    return re.compile(PREFILTER.pattern.decode("ascii"))


def _chain(node: ast.expr) -> Optional[Tuple[str, ...]]:
    """``a.b.c`` -> ("a", "b", "c"); anything not a plain dotted name -> None."""
    parts: List[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return tuple(reversed(parts))


def may_have_sites(tree: ast.AST) -> bool:
    bindings: Dict[str, Set[str]] = {}
    assigns: List[Tuple[str, Tuple[str, ...]]] = []
    chains: List[Tuple[str, ...]] = []
    for node in ast.walk(tree):
        kind = type(node)
        if kind is ast.Attribute:
            # Only the outermost attribute of a chain matters, but inner ones are
            # cheap to check too and finding them "too" never loses a site.
            chain = _chain(node)
            if chain is not None:
                chains.append(chain)
        elif kind is ast.Import:
            for alias in node.names:
                if alias.asname is not None:
                    bindings.setdefault(alias.asname, set()).add(alias.name)
                else:
                    root = alias.name.split(".")[0]
                    bindings.setdefault(root, set()).add(root)
        elif kind is ast.ImportFrom:
            module = node.module or ""
            for alias in node.names:
                if alias.name == "*":
                    continue
                local = alias.asname or alias.name
                if node.level:
                    if alias.name in _RELATIVE_TRUSTED:
                        bindings.setdefault(local, set()).add(alias.name)
                else:
                    bindings.setdefault(local, set()).add(f"{module}.{alias.name}" if module else alias.name)
        elif kind is ast.Assign or kind is ast.AnnAssign:
            value = node.value
            chain = _chain(value) if value is not None else None
            if chain is None:
                continue
            targets = node.targets if kind is ast.Assign else [node.target]
            for target in targets:
                if isinstance(target, ast.Name):
                    assigns.append((target.id, chain))
        elif kind is ast.Name:
            chains.append((node.id,))
    if not bindings:
        return False  # every qualified name starts at an import
    # Propagate `conv = F.conv1d` (in any order, any scope) to a fixed point.
    changed = True
    rounds = 0
    while changed and assigns:
        rounds += 1
        if rounds > _MAX_ROUNDS:
            return True  # `x = x.y` grows forever: give up, conservatively
        changed = False
        for name, chain in assigns:
            for qualified in _qualify(chain, bindings):
                known = bindings.setdefault(name, set())
                if qualified not in known:
                    known.add(qualified)
                    changed = True
    for chain in chains:
        if chain[0] not in bindings:
            continue
        for qualified in _qualify(chain, bindings):
            if apis.lookup(qualified) is not None:
                return True
    return False


def _qualify(chain: Tuple[str, ...], bindings: Dict[str, Set[str]]) -> List[str]:
    roots = bindings.get(chain[0])
    if not roots:
        return []
    rest = ".".join(chain[1:])
    return [f"{root}.{rest}" if rest else root for root in roots]
