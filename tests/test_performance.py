"""Workers, the per-file cache, sharding and SARIF merging (correctness, not timing)."""

import json
import os
import shutil
import subprocess
import sys

import pytest

from conftest import EXAMPLES, FIXTURES, ROOT
from convlint import engine, parallel, shard
from convlint.config import Config
from convlint.filecache import FileCache
from convlint.quickscan import may_have_sites
from convlint.report import sarif

ALL = Config(select=("CNV",), probe=False)


def _tree(tmp_path):
    """A small tree with findings, pairs across files, a parse error and clean files."""
    root = tmp_path / "tree"
    shutil.copytree(FIXTURES, root / "fixtures")
    shutil.copytree(EXAMPLES, root / "examples")
    for i in range(12):  # enough files for the worker pool to start
        (root / f"clean_{i}.py").write_text(f"x = {i}\n")
    return root


def _json(report):
    return [f.to_json() for f in report.findings]


def _check(paths, config=ALL, jobs=1, cache=None):
    return engine.check_files(paths, config, analyze=lambda p: parallel.analyze_all(
        p, config, jobs=jobs, cache=cache))


def test_jobs_do_not_change_the_report(tmp_path):
    files, _ = engine.collect_files([str(_tree(tmp_path))])
    serial = engine.check_files(files, ALL)
    assert serial.findings and any(f.code == "CNV900" for f in serial.findings)
    assert _json(_check(files, jobs=1)) == _json(serial)
    assert _json(_check(files, jobs=2)) == _json(serial)
    assert _check(files, jobs=2).pairs  # cross-file pairs survive the workers


def test_cache_hit_miss_and_invalidation(tmp_path):
    files, _ = engine.collect_files([str(_tree(tmp_path))])
    expected = _json(engine.check_files(files, ALL))
    directory = tmp_path / "cache"

    cold = FileCache(ALL, directory, build="b1")
    assert _json(_check(files, cache=cold)) == expected
    assert (cold.hits, cold.misses) == (0, len(files))

    warm = FileCache(ALL, directory, build="b1")
    assert _json(_check(files, cache=warm)) == expected
    assert (warm.hits, warm.misses) == (len(files), 0)

    # Same content, new mtime: re-read and hashed, still a hit.
    port = str(tmp_path / "tree" / "examples" / "seed_tf.py")
    os.utime(port, ns=(1, 1))
    touched = FileCache(ALL, directory, build="b1")
    assert _json(_check(files, cache=touched)) == expected
    assert (touched.hits, touched.misses) == (len(files), 0)

    # New content: a miss for that file only, and the findings follow the content.
    with open(port, "a", encoding="utf-8") as handle:
        handle.write("\n# trailing comment\n")
    edited = FileCache(ALL, directory, build="b1")
    assert _json(_check(files, cache=edited)) == _json(engine.check_files(files, ALL))
    assert (edited.hits, edited.misses) == (len(files) - 1, 1)

    # Another configuration or another convlint build: nothing is reused.
    other_config = Config(select=("CNV1",), probe=False)
    assert FileCache(other_config, directory, build="b1").key != warm.key
    assert not FileCache(other_config, directory, build="b1").entries
    assert not FileCache(ALL, directory, build="b2").entries
    # Probing is applied after the cache: it does not split it.
    assert FileCache(Config(select=("CNV",), probe=True), directory, build="b1").key == warm.key


def test_a_torn_cache_file_counts_as_empty(tmp_path):
    cache = FileCache(ALL, tmp_path, build="b")
    cache.path.parent.mkdir(parents=True)
    cache.path.write_bytes(b"\x80\x04not a pickle")
    assert FileCache(ALL, tmp_path, build="b").entries == {}


def test_warm_cli_run_does_not_import_libcst(tmp_path):
    tree = _tree(tmp_path)
    env = {**os.environ, "CONVLINT_CACHE_DIR": str(tmp_path / "cache"),
           "PYTHONPATH": str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")}
    code = ("import sys; from convlint import cli; rc = cli.main(['check', '--no-probe', "
            "'--format', 'json', '-j', '1', sys.argv[1]]); "
            "print('LIBCST' if 'libcst' in sys.modules else 'NOLIBCST', file=sys.stderr)")
    runs = [subprocess.run([sys.executable, "-c", code, str(tree)], capture_output=True,
                           text=True, env=env, timeout=300) for _ in range(2)]
    assert runs[0].stdout == runs[1].stdout and json.loads(runs[1].stdout)
    assert "NOLIBCST" not in runs[0].stderr
    assert "NOLIBCST" in runs[1].stderr


def test_quickscan_keeps_every_file_with_a_site():
    import ast

    files, _ = engine.collect_files([str(FIXTURES), str(EXAMPLES)])
    for path in files:
        analysis = engine.read_and_analyze(path, ALL)
        if analysis.sites:
            source = open(path, encoding="utf-8").read()
            assert may_have_sites(ast.parse(source)), path
    assert not may_have_sites(ast.parse("from .pytorch_utils import Conv1D\nConv1D(3, 4)\n"))
    assert not may_have_sites(ast.parse("self.convolution = make()\nx = x.y\n"))
    assert may_have_sites(ast.parse("import torch as t\nc = t.nn\nd = c.functional\n"
                                    "f = d.conv1d\n"))
    assert may_have_sites(ast.parse("from torch.nn import functional as F\ny = F.conv1d\n"))
    assert may_have_sites(ast.parse("from ...utils import keras\nkeras.layers.Conv1D(2, 3)\n"))


# --- sharding ----------------------------------------------------------------------------------

PAIRS = [
    ("m/bert/modeling_bert.py", "m/bert/modeling_tf_bert.py", "m/bert/modeling_flax_bert.py"),
    ("lib/block_torch.py", "lib/block_tf.py", "lib/block_keras.py"),
    ("lib/block_pt.py", "lib/block_jax.py"),
    ("pkg/torch/layer.py", "pkg/tf/layer.py", "pkg/jax/layer.py"),
]


def test_shards_partition_the_files_and_keep_pairs_together():
    files = [f"src/d{i % 7}/file_{i}.py" for i in range(300)] + [p for g in PAIRS for p in g]
    for n in (1, 2, 3, 5, 8):
        chosen = [shard.select(files, k, n) for k in range(1, n + 1)]
        flat = [p for part in chosen for p in part]
        assert sorted(flat) == sorted(files)  # every file in exactly one shard
        assert all(part == [p for p in files if p in set(part)] for part in chosen)  # order kept
        assignment = dict(zip(files, shard.assign(files, n)))
        for group in PAIRS:
            assert len({assignment[p] for p in group}) == 1, (n, group)
    if len(set(shard.assign(files, 4))) < 4:
        pytest.fail("300 files should reach all 4 shards")


def test_shard_hash_is_stable_and_port_map_links_files():
    # A fixed value: sha256, not Python's per-process salted hash().
    assert shard.shard_of("src/d1/file", 4) == shard.shard_of("src/d1/file", 4)
    out = subprocess.run([sys.executable, "-c", "from convlint import shard; "
                          "print(shard.shard_of('src/d1/file', 97))"],
                         capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONHASHSEED": "123",
                              "PYTHONPATH": str(ROOT / "src")})
    assert int(out.stdout) == shard.shard_of("src/d1/file", 97)
    files = [f"a/x{i}.py" for i in range(40)]
    linked = shard.assign(files, 5, links=[("a/x1.py", "a/x2.py"), ("a/x2.py", "a/x3.py")])
    assert linked[1] == linked[2] == linked[3]
    with pytest.raises(ValueError):
        shard.parse_spec("0/3")
    assert shard.parse_spec("2/3") == (2, 3)


def test_merged_shard_sarif_is_valid_and_equals_the_unsharded_log(tmp_path, monkeypatch):
    from test_reports import _validate_sarif

    tree = _tree(tmp_path)
    monkeypatch.chdir(tmp_path)
    files, _ = engine.collect_files(["tree"])
    whole = engine.check_files(files, ALL)
    logs = []
    for k in (1, 2, 3):
        part = shard.select(files, k, 3)
        report = engine.check_files(part, ALL)
        logs.append(json.loads(sarif.render(report.findings, report.files_checked)))
    merged = shard.merge_sarif(logs)
    _validate_sarif(merged)
    single = json.loads(sarif.render(whole.findings, whole.files_checked))
    assert merged["runs"][0]["properties"]["filesChecked"] == len(files)
    key = shard._result_order
    assert sorted(merged["runs"][0]["results"], key=key) == sorted(single["runs"][0]["results"], key=key)
    rules = merged["runs"][0]["tool"]["driver"]["rules"]
    assert all(rules[r["ruleIndex"]]["id"] == r["ruleId"] for r in merged["runs"][0]["results"])
    del tree


def test_merge_sarif_cli(tmp_path, convlint_cli):
    a, b = tmp_path / "a.sarif", tmp_path / "b.sarif"
    for path, fixture in ((a, "CNV102"), (b, "CNV101")):
        out = convlint_cli("check", "--no-probe", "--format", "sarif", "--no-cache",
                           str(FIXTURES / fixture))
        path.write_text(out.stdout)
    merged = convlint_cli("merge-sarif", str(a), str(b))
    assert merged.returncode == 0, merged.stderr
    log = json.loads(merged.stdout)
    codes = {r["ruleId"] for r in log["runs"][0]["results"]}
    assert {"CNV101", "CNV102"} <= codes
    bad = convlint_cli("merge-sarif", str(tmp_path / "missing.sarif"))
    assert bad.returncode == 2


def test_fast_positions_equal_libcsts():
    import libcst as cst
    from libcst.metadata import MetadataWrapper, PositionProvider

    from convlint.positions import resolve_positions

    files, _ = engine.collect_files([str(FIXTURES), str(EXAMPLES)])
    texts = [open(p, encoding="utf-8").read() for p in files if "CNV900" not in p]
    texts.append("import torch\r\nx = (1,\r  2)\r\ny = '''a\r\nb'''; z = torch.conv1d(\n x, w)\n")
    for text in texts:
        module = cst.parse_module(text)
        reference = dict(MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider))
        wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
        resolve_positions(wrapper)
        assert dict(wrapper.resolve(PositionProvider)) == reference


TRICKY_POSITIONS = [
    # decorators with comments and blank lines around them, semicolons, tabs, CRLF
    "import torch\r\n\r\n# c\r\n@dec\r\n\r\n# d\r\n@dec2(1,\r\n 2)\r\ndef f(x): return torch.conv1d(x, w); y = 1\r\n",
    "class M:\n\t'''doc'''\n\n\t# comment\n\t@property\n\tdef w(self):\n\t\treturn 1\n\n\n\tx = 1; y = 2\n# tail\n",
    "class A(B,\n        C):\n    pass\nclass E: x = 1\nif x:\n    class F:\n        def g(self): pass\n",
    "async def f():\n    await g()\nclass K:\n    async def h(self):\n        pass\n    # footer\n",
]


def test_lazy_positions_equal_libcsts():
    """Every unit's ranges are LibCST's; a misplaced guess falls back, never misleads."""
    import ast

    import libcst as cst
    from libcst.metadata import MetadataWrapper, PositionProvider

    from convlint.positions import LazyPositions

    files, _ = engine.collect_files([str(FIXTURES), str(EXAMPLES)])
    texts = [open(p, encoding="utf-8").read() for p in files if "CNV900" not in p]
    texts += TRICKY_POSITIONS
    member_units = 0
    for text in texts:
        module = cst.parse_module(text)
        reference = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
        lazy = LazyPositions(module, ast.parse(text), text)
        assert lazy.units, text
        for index, (node, indents, _) in enumerate(lazy.units):
            assert lazy._statement(index), (text, index)
            assert lazy.computed[node] == reference[node]
            member_units += bool(indents)
        assert not lazy.complete
        assert {n: r for n, r in lazy.computed.items()} == {n: reference[n] for n in lazy.computed}
    assert member_units > 20

    # The ast puts this decorator on line 3 (after the backslash); its `@` is on line 2.
    text = "import torch\n@\\\ndec\ndef f(x): return torch.conv1d(x, w)\n"
    module = cst.parse_module(text)
    reference = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    lazy = LazyPositions(module, ast.parse(text), text)
    call = module.body[1].body.body[0].value
    lazy.owner[call] = 1
    assert lazy[call] == reference[call]
    assert lazy.complete and lazy.done == {1}


def test_sites_compute_few_positions():
    """A model file pays code generation for the methods with convolutions, not all."""
    from convlint.parse import parse_text
    from convlint.positions import positions_of
    from convlint.sites import find_sites
    from convlint.infer import infer_sites

    methods = "\n".join(f"    def m{i}(self, x):\n        return x * {i}\n" for i in range(40))
    text = ("import torch\n\nclass Net(torch.nn.Module):\n"
            "    def __init__(self):\n        super().__init__()\n"
            "        self.conv = torch.nn.Conv1d(4, 8, 3)\n" + methods)
    parsed = parse_text("net.py", text)
    sites = infer_sites(parsed, find_sites(parsed))
    assert [s.span.line for s in sites] == [6]
    lazy = positions_of(parsed.wrapper)
    assert lazy is not None and not lazy.complete
    assert len(lazy.done) <= 2 < len(lazy.units)


def test_fast_children_are_libcsts():
    """cstwalk.children gives LibCST's children, same nodes, same order, for every node
    of every fixture (and of a file with every kind of statement)."""
    import libcst as cst

    from convlint.cstwalk import _ORDER, children

    files, _ = engine.collect_files([str(FIXTURES), str(EXAMPLES)])
    texts = [open(p, encoding="utf-8").read() for p in files if "CNV900" not in p]
    texts += TRICKY_POSITIONS + [
        "x = a if b else c\ny = [i for i in z if i]\nz = {k: v for k, v in w}\n"
        "def f(a, /, b=1, *c, d: int = 2, **e) -> None: ...\n"
        "async def g():\n    async with a as b, c:\n        await d\n    async for i in j: pass\n"
        "match p:\n    case [1, *rest] if rest: pass\n    case {'k': v, **kw}: pass\n"
        "    case Point(x=0) | None: pass\n"
        "try:\n    pass\nexcept* (A, B) as e:\n    raise C from e\nelse:\n    pass\nfinally:\n    del x\n"
        "lambda a, *b, c=1: (yield a)\nglobal q\nf'{a!r:>{w}}' 'b'\nx[1:2, ::3] = ~y ** -z\n"
        "@d\nclass K(B, metaclass=M):\n    x: int = 1\n    def m(self): return (a := 1)\n"
    ]
    checked = 0
    for text in texts:
        stack = [cst.parse_module(text)]
        while stack:
            node = stack.pop()
            mine = list(children(node))
            theirs = list(node.children)
            assert len(mine) == len(theirs) and all(a is b for a, b in zip(mine, theirs)), node
            stack.extend(theirs)
            checked += 1
    assert checked > 10_000
    assert sum(order is None for order in _ORDER.values()) == 0  # every shape learned
