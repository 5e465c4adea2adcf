"""The project's text searched as one buffer answers as the files searched one by one would."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from flake8_fastapi_antipatterns.analysis.project_text import ProjectTexts

# What the searches meant, written file by file (the definitions the buffer must agree with).
_DEF = re.compile(rb"^[ \t]*(?:async[ \t]+)?def[ \t]+([^\s(:\[]+)", re.MULTILINE)
_CLASS = re.compile(rb"^[ \t]*class[ \t]+([^\s(:\[]+)", re.MULTILINE)


def _mentions(text: bytes, word: str) -> bool:
    return re.search(rb"(?<![A-Za-z0-9_])" + re.escape(word.encode()) + rb"(?![A-Za-z0-9_])", text) is not None


# Pieces that make the edge cases likely: keywords glued to names, indentation, line ends of
# every kind, ``async``, brackets that end a name, non-ASCII names, words inside longer words.
PIECES = st.sampled_from(
    [b"def", b"class", b"async", b" ", b"\t", b"\n", b"\r\n", b"\r", b"load", b"_load", b"load2", b"(", b":",
     b"[", b"x", b"\xc3\xa9", b".mount(", b"Mount(", b"#", b"undef", b"subclass"]
)
FILES = st.lists(st.lists(PIECES, max_size=30).map(b"".join), min_size=1, max_size=5)
WORDS = ("load", "_load", "x", "def", "\u00e9", "class")


@settings(max_examples=300, deadline=None)
@given(FILES)
def test_the_buffer_agrees_with_a_file_by_file_search(texts: list[bytes]) -> None:
    files = {f"/p/m{number}.py": text for number, text in enumerate(texts)}
    project = ProjectTexts(files)
    defined = project.defined_names()
    assert defined.functions == {n.decode("utf-8", "replace") for t in texts for n in _DEF.findall(t)}
    assert defined.classes == {n.decode("utf-8", "replace") for t in texts for n in _CLASS.findall(t)}
    for word in WORDS:
        assert project.mentioning(word) == sorted(p for p, t in files.items() if _mentions(t, word))
    markers = (b".mount(", b"Mount(")
    assert project.containing(markers) == [p for p, t in files.items() if any(m in t for m in markers)]
    assert [project.get(p) for p in files] == texts
    assert list(project.items()) == list(files.items())


def test_each_file_holding_a_word_is_named_once_and_an_unknown_path_holds_nothing() -> None:
    project = ProjectTexts({"/p/a.py": b"def a(): pass\n", "/p/b.py": b"class B: pass\n"})
    assert project.get("/p/missing.py") is None
    assert "/p/a.py" in project and "/p/missing.py" not in project
    assert project.mentioning("a") == ["/p/a.py"]
    assert project.mentioning("B") == ["/p/b.py"]
    assert project.mentioning("pass") == ["/p/a.py", "/p/b.py"]


def test_the_fingerprint_changes_with_any_path_or_byte() -> None:
    base = ProjectTexts({"/p/a.py": b"x = 1\n", "/p/b.py": b"y = 2\n"}).fingerprint()
    assert ProjectTexts({"/p/a.py": b"x = 1\n", "/p/b.py": b"y = 2\n"}).fingerprint() == base
    assert ProjectTexts({"/p/a.py": b"x = 1\n", "/p/b.py": b"y = 3\n"}).fingerprint() != base
    assert ProjectTexts({"/p/a.py": b"x = 1\n", "/p/c.py": b"y = 2\n"}).fingerprint() != base
    # The same bytes split otherwise between the files are another project.
    assert ProjectTexts({"/p/a.py": b"x = 1\ny", "/p/b.py": b" = 2\n"}).fingerprint() != base


def test_deriving_finds_class_statements_naming_the_base_and_aliases_only() -> None:
    texts = ProjectTexts(
        {
            "direct.py": b"class PostgresDb(BaseDb):\n    pass\n",
            "annotated.py": b"def get(db: BaseDb) -> BaseDb:\n    return db\n",
            "multiline.py": b"class SqliteDb(\n    Mixin,\n    BaseDb,\n):\n    pass\n",
            "aliased.py": b"from app.db import BaseDb as Base\n",
            "longer.py": b"class Other(MyBaseDb):\n    pass\n",
            "dotted.py": b"class Remote(db.BaseDb, metaclass=Meta):\n    pass\n",
            "later.py": b"class Plain(Thing):\n    pass\nstore = BaseDb()\n",
        }
    )
    assert texts.deriving("BaseDb") == ["aliased.py", "direct.py", "dotted.py", "multiline.py"]
    assert texts.deriving("") == []


# ``deriving``'s meaning, one file at a time: a ``class`` statement naming the word among its bases,
# or an import renaming it.
def _derives(text: bytes, word: str) -> bool:
    encoded = re.escape(word.encode())
    pattern = (
        rb"class[ \t]+[^\s(:\[]+[ \t]*\((?:[^)]*?[^)A-Za-z0-9_])?" + encoded + rb"(?![A-Za-z0-9_])"
        + rb"|" + encoded + rb"(?<![A-Za-z0-9_]" + encoded + rb")[ \t]+as[ \t]"
    )  # fmt: skip
    return re.search(pattern, text) is not None


_FRAGMENTS = st.sampled_from(
    [
        b"class A(Base):\n", b"class B(\n    Mixin,\n    Base,\n):\n", b"class C(db.Base, metaclass=M):\n",
        b"class D(MyBase):\n", b"class E(Base2)", b"from x import Base as B\n", b"import Base as B\n",
        b"x: Base = Base()\n", b"class F:\n", b"class G(Other):\n    y = Base\n", b"(Base)", b"class H(",
        b")", b"\n", b"    pass\n", b"Base", b"class", b" ", b"as ", b"subclass K(Base)\n",
    ]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(_FRAGMENTS, max_size=8).map(b"".join), min_size=1, max_size=5), st.sampled_from(["Base", "Mixin", "Other", "B"]))
def test_deriving_answers_as_each_file_searched_alone(contents: list[bytes], word: str) -> None:
    files = {f"/p/m{number}.py": text for number, text in enumerate(contents)}
    expected = sorted(path for path, text in files.items() if _derives(text, word))
    assert ProjectTexts(files).deriving(word) == expected
