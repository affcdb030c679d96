"""WordNet 3.0 offline, through NLTK's own reader, and a fast word -> synonyms table.

``nltk.corpus.wordnet`` downloads its data on first use, which fails on a machine without
network. The same WordNet 3.0 database ships in Debian (``wordnet-base``: data, index and
exception files; ``wordnet-sense-index``: ``index.sense``); NLTK's reader only lacks the
``lexnames`` file, a fixed list of the 45 lexicographer files (``man 5 lexnames``). This module
assembles those files into an NLTK data folder under the thresher cache (copies: NLTK's path
guard refuses symbolic and hard links out of its data folders) and opens it with
``WordNetCorpusReader``. A folder left by ``nltk.download("wordnet")`` is used when the Debian
files are absent.

Walking WordNet for every word of every sentence is slow, so the synonyms of every lemma are
collected once (all 117,659 synsets, about ten seconds) and pickled next to the data folder;
later runs load the table in well under a second. Inflected words ("films", "went") are
resolved like WordNet's morphy: the exception lists first, then its suffix rules.
"""

from __future__ import annotations

import os
import pickle
import shutil
import tempfile
import warnings
from functools import lru_cache
from pathlib import Path
from typing import Any

from thresher._files import write_bytes
from thresher.errors import ModelError
from thresher.train.gguf_cache import cache_root

__all__ = [
    "WORDNET_PACKAGES",
    "base_forms",
    "lexnames_text",
    "load_wordnet",
    "nltk_data_dir",
    "prepare_wordnet",
    "synonym_table",
    "wordnet_synonyms",
]

WORDNET_PACKAGES = ("wordnet-base", "wordnet-sense-index")
_DEBIAN_DIR = Path("/usr/share/wordnet")
_TABLE_VERSION = 2  # bump when the table's layout or content rules change

# The lexicographer files in number order (man 5 lexnames); the category number (1 noun,
# 2 verb, 3 adjective, 4 adverb) follows from the prefix.
_LEXNAMES = (
    "adj.all adj.pert adv.all noun.Tops noun.act noun.animal noun.artifact noun.attribute "
    "noun.body noun.cognition noun.communication noun.event noun.feeling noun.food noun.group "
    "noun.location noun.motive noun.object noun.person noun.phenomenon noun.plant "
    "noun.possession noun.process noun.quantity noun.relation noun.shape noun.state "
    "noun.substance noun.time verb.body verb.change verb.cognition verb.communication "
    "verb.competition verb.consumption verb.contact verb.creation verb.emotion verb.motion "
    "verb.perception verb.possession verb.social verb.stative verb.weather adj.ppl"
).split()
_CATEGORY = {"noun": 1, "verb": 2, "adj": 3, "adv": 4}
# What NLTK's reader opens (cntlist.rev only for lemma counts).
_DB_FILES = tuple(f"{kind}.{pos}" for kind in ("index", "data") for pos in
                  ("noun", "verb", "adj", "adv")) + tuple(
    f"{pos}.exc" for pos in ("noun", "verb", "adj", "adv")) + ("index.sense", "cntlist.rev")
# WordNet's morphy detachment rules per part of speech (man 7 morphy), plus the noun rule
# "ves" -> "f" that NLTK adds (the EDA paper looked words up through NLTK).
_SUFFIX_RULES = {
    "n": (("s", ""), ("ses", "s"), ("ves", "f"), ("xes", "x"), ("zes", "z"), ("ches", "ch"),
          ("shes", "sh"), ("men", "man"), ("ies", "y")),
    "v": (("s", ""), ("ies", "y"), ("es", "e"), ("es", ""), ("ed", "e"), ("ed", ""),
          ("ing", "e"), ("ing", "")),
    "a": (("er", ""), ("est", ""), ("er", "e"), ("est", "e")),
    "r": (),
}
_RULES_BY_SUFFIX = {pos: {suffix: tuple(e for s, e in rules if s == suffix) for suffix, _ in rules}
                    for pos, rules in _SUFFIX_RULES.items()}
# ({pos: {lemma: synonyms}}, {pos: {inflected form: lemmas}}), pos in n, v, a, r.
Tables = tuple[dict[str, dict[str, tuple[str, ...]]], dict[str, dict[str, tuple[str, ...]]]]


def nltk_data_dir() -> Path:
    """The NLTK data folder thresher manages: ``<cache>/nltk_data``."""
    return cache_root() / "nltk_data"


def lexnames_text() -> str:
    """The ``lexnames`` file: number, name and category, tab-separated, one line each."""
    return "".join(f"{i:02d}\t{name}\t{_CATEGORY[name.split('.')[0]]}\n"
                   for i, name in enumerate(_LEXNAMES))


def _missing_error(source: Path) -> ModelError:
    missing = [f for f in _DB_FILES if not (source / f).is_file()]
    return ModelError(
        f"WordNet 3.0 database files not found ({', '.join(missing[:3])}"
        f"{', ...' if len(missing) > 3 else ''} missing in {source})",
        where="augment: English synonyms",
        fix=f"install the Debian packages: apt-get install {' '.join(WORDNET_PACKAGES)}; "
            "or, when online, run python -c \"import nltk; nltk.download('wordnet')\"")


def prepare_wordnet(source: Path | None = None) -> Path:
    """The NLTK WordNet folder under the cache, assembled from ``source`` on first use.

    ``source`` defaults to ``$WNSEARCHDIR`` (WordNet's own variable), else the Debian folder.
    """
    source = Path(source or os.environ.get("WNSEARCHDIR") or _DEBIAN_DIR)
    target = nltk_data_dir() / "corpora" / "wordnet"
    if _complete(target):
        return target
    if not all((source / f).is_file() for f in _DB_FILES):
        raise _missing_error(source)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".wordnet-", dir=target.parent))
    try:
        for name in _DB_FILES:  # copies (34 MB): NLTK refuses symlinks and hard links
            shutil.copyfile(source / name, staging / name)
        (staging / "lexnames").write_text(lexnames_text(), encoding="utf-8")
        staging.chmod(0o755)
        if not _complete(target):  # else another process finished first: keep its folder
            shutil.rmtree(target, ignore_errors=True)  # a half-built one from an older crash
            os.replace(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _complete(folder: Path) -> bool:
    return (folder / "lexnames").is_file() and all((folder / f).is_file() for f in _DB_FILES)


def _nltk_downloaded() -> Path | None:
    """A WordNet folder from ``nltk.download("wordnet")``, if one is on NLTK's path."""
    import nltk

    try:
        found = nltk.data.find("corpora/wordnet")
    except LookupError:
        return None
    path = Path(str(found))
    return path if path.is_dir() and (path / "lexnames").is_file() else None


@lru_cache(maxsize=1)
def load_wordnet() -> Any:
    """NLTK's ``WordNetCorpusReader`` on the offline folder (opened once per process)."""
    try:
        import nltk
        from nltk.corpus.reader import WordNetCorpusReader
    except ImportError:
        raise ModelError("English synonyms need the package 'nltk', which is not installed",
                         where="augment: English synonyms", fix="pip install nltk") from None
    try:
        folder = prepare_wordnet()
    except ModelError:
        folder = _nltk_downloaded()
        if folder is None:
            raise
    root = str(folder.parent.parent)
    if root not in nltk.data.path:  # NLTK only opens files below a folder on its data path
        nltk.data.path.append(root)
    with warnings.catch_warnings():  # "multilingual functions are not available": not needed
        warnings.simplefilter("ignore")
        return WordNetCorpusReader(str(folder), None)


def _build_table() -> Tables:
    """Per part of speech: lemma -> synonyms over its synsets, inflected form -> lemmas."""
    wordnet = load_wordnet()
    groups: dict[str, dict[str, set[str]]] = {pos: {} for pos in _SUFFIX_RULES}
    for synset in wordnet.all_synsets():
        pos = "a" if synset.pos() == "s" else synset.pos()  # satellites index as adjectives
        names = [n.replace("_", " ").lower() for n in synset.lemma_names()]
        for name in names:  # phrases too: an exception may lead to one ("comics": comic strip)
            groups[pos].setdefault(name, set()).update(names)
    table = {pos: {w: tuple(sorted(g - {w})) for w, g in words.items()}
             for pos, words in groups.items()}
    exceptions = {pos: {form.lower(): tuple(b.replace("_", " ").lower() for b in bases)
                        for form, bases in wordnet._exception_map[pos].items()}
                  for pos in _SUFFIX_RULES}
    return table, exceptions


_TABLES: dict[str, Tables] = {}
_SYNONYMS: dict[str, tuple[str, ...]] = {}


def synonym_table() -> Tables:
    """The per-POS lemma tables and exception maps, from the pickle (built and pickled once)."""
    if "wordnet" in _TABLES:
        return _TABLES["wordnet"]
    path = cache_root() / "wordnet" / f"synonyms-v{_TABLE_VERSION}.pkl"
    tables = None
    if path.is_file():
        try:
            with open(path, "rb") as f:
                tables = pickle.load(f)
        except (OSError, pickle.UnpicklingError, EOFError):
            tables = None  # a damaged cache is rebuilt, not trusted
    if tables is None:
        tables = _build_table()
        write_bytes(path, pickle.dumps(tables, protocol=pickle.HIGHEST_PROTOCOL))
    _TABLES["wordnet"] = tables
    return tables


def base_forms(word: str, pos: str, tables: Tables) -> list[str]:
    """The lemmas of part of speech ``pos`` that ``word`` may be (morphy's first round).

    As in morphy, an exception-list entry wins over the suffix rules; otherwise the word
    itself and every rule result that is a lemma of ``pos``.
    """
    lemmas, exceptions = tables[0][pos], tables[1][pos]
    if word in exceptions:
        return [f for f in dict.fromkeys((word, *exceptions[word])) if f in lemmas]
    found = [word] if word in lemmas else []
    rules = _RULES_BY_SUFFIX[pos]
    for n in range(1, min(len(word), 4) + 1):  # one lookup per suffix length, not per rule
        for ending in rules.get(word[-n:], ()):
            base = word[:-n] + ending
            if base in lemmas and base not in found:
                found.append(base)
    return found


def wordnet_synonyms(word: str) -> tuple[str, ...]:
    """Lemma names of every synset of ``word`` (lowercase, ``_`` as space), minus the word.

    The same set as the EDA paper's lookup (``wordnet.synsets(word)`` over all parts of
    speech), read from the cached table; memoised per process.
    """
    found = _SYNONYMS.get(word)
    if found is None:
        tables = synonym_table()
        key = word.lower()
        group: set[str] = set()
        for pos in _SUFFIX_RULES:
            for base in base_forms(key, pos, tables):
                group.update(tables[0][pos][base])
                group.add(base)  # a lemma is a synonym of its inflected form
        group.discard(key)
        found = _SYNONYMS[word] = tuple(sorted(group))  # sorted: the same in every process
    return found
