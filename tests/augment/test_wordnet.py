"""thresher.augment.wordnet: the offline NLTK folder, lexnames, the cached synonym table."""

from __future__ import annotations

import gzip
import pickle
import re
from pathlib import Path

import pytest

from thresher.augment import wordnet as wn
from thresher.errors import ModelError

DEBIAN = Path("/usr/share/wordnet")
HAS_DEBIAN = all((DEBIAN / name).is_file() for name in wn._DB_FILES)
needs_wordnet = pytest.mark.skipif(not HAS_DEBIAN, reason="WordNet 3.0 files absent: "
                                   "apt-get install wordnet-base wordnet-sense-index")
MAN_PAGE = Path("/usr/share/man/man5/lexnames.5WN.gz")


def test_lexnames_has_the_45_files_in_number_order() -> None:
    lines = wn.lexnames_text().splitlines()
    assert len(lines) == 45
    assert lines[0] == "00\tadj.all\t3"
    assert lines[2] == "02\tadv.all\t4"
    assert lines[3] == "03\tnoun.Tops\t1"
    assert lines[29] == "29\tverb.body\t2"
    assert lines[44] == "44\tadj.ppl\t3"


@pytest.mark.skipif(not MAN_PAGE.is_file(), reason="man page lexnames(5WN) absent (wordnet-base)")
def test_lexnames_matches_the_debian_man_page() -> None:
    page = gzip.decompress(MAN_PAGE.read_bytes()).decode("utf-8")
    table = re.findall(r"^(\d\d)\t(\S+)\s*\t", page, flags=re.M)
    assert len(table) == 45
    assert [line.split("\t")[:2] for line in wn.lexnames_text().splitlines()] == [
        [number, name] for number, name in table]


def test_missing_database_says_which_packages_to_install(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("THRESHER_CACHE", str(tmp_path / "cache"))
    with pytest.raises(ModelError) as err:
        wn.prepare_wordnet(tmp_path / "nowhere")
    assert str(err.value) == (
        f"augment: English synonyms: WordNet 3.0 database files not found (index.noun, "
        f"index.verb, index.adj, ... missing in {tmp_path / 'nowhere'}). install the Debian "
        "packages: apt-get install wordnet-base wordnet-sense-index; or, when online, run "
        "python -c \"import nltk; nltk.download('wordnet')\".")


def test_prepare_assembles_the_folder_once(tmp_path, monkeypatch) -> None:
    source = tmp_path / "debian"
    source.mkdir()
    for name in wn._DB_FILES:
        (source / name).write_text(f"{name}\n", encoding="utf-8")
    monkeypatch.setenv("THRESHER_CACHE", str(tmp_path / "cache"))
    folder = wn.prepare_wordnet(source)
    assert folder == tmp_path / "cache" / "nltk_data" / "corpora" / "wordnet"
    assert (folder / "lexnames").read_text(encoding="utf-8") == wn.lexnames_text()
    assert (folder / "data.noun").read_text(encoding="utf-8") == "data.noun\n"
    assert not (folder / "data.noun").is_symlink()  # NLTK refuses links out of its folder
    (source / "data.noun").unlink()  # a second call reuses the folder, the source is not read
    assert wn.prepare_wordnet(source) == folder


def test_table_is_pickled_and_a_damaged_pickle_rebuilt(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("THRESHER_CACHE", str(tmp_path))
    monkeypatch.setattr(wn, "_TABLES", {})
    tiny = ({"n": {"film": ("movie",), "movie": ("film",)}, "v": {}, "a": {}, "r": {}},
            {"n": {}, "v": {}, "a": {}, "r": {}})
    calls = []
    monkeypatch.setattr(wn, "_build_table", lambda: calls.append(1) or tiny)
    assert wn.synonym_table() == tiny
    path = tmp_path / "wordnet" / f"synonyms-v{wn._TABLE_VERSION}.pkl"
    assert pickle.loads(path.read_bytes()) == tiny
    monkeypatch.setattr(wn, "_TABLES", {})
    assert wn.synonym_table() == tiny and calls == [1]  # read back, not rebuilt
    path.write_bytes(b"not a pickle")
    monkeypatch.setattr(wn, "_TABLES", {})
    assert wn.synonym_table() == tiny and calls == [1, 1]


def test_base_forms_follow_morphy() -> None:
    tables = ({"n": {"film": (), "belief": (), "glass": (), "comic strip": ()},
               "v": {"go": (), "believe": (), "film": ()}, "a": {"good": ()}, "r": {}},
              {"n": {"comics": ("comic strip", "comic")}, "v": {"went": ("go",)},
               "a": {"better": ("good", "well")}, "r": {}})
    assert wn.base_forms("films", "n", tables) == ["film"]
    assert wn.base_forms("films", "v", tables) == ["film"]
    assert wn.base_forms("believes", "n", tables) == ["belief"]  # NLTK's extra ves -> f
    assert wn.base_forms("glasses", "n", tables) == ["glass"]
    assert wn.base_forms("went", "v", tables) == ["go"]
    assert wn.base_forms("better", "a", tables) == ["good"]
    assert wn.base_forms("comics", "n", tables) == ["comic strip"]  # exceptions win over rules


@needs_wordnet
def test_synonyms_of_everyday_words() -> None:
    assert {"film", "picture", "moving picture"} <= set(wn.wordnet_synonyms("movie"))
    assert {"film", "movie"} <= set(wn.wordnet_synonyms("films"))
    assert "go" in wn.wordnet_synonyms("went")
    assert "movie" not in wn.wordnet_synonyms("movie")
    assert wn.wordnet_synonyms("the") == ()


@needs_wordnet
@pytest.mark.slow
def test_synonyms_equal_nltk_synsets_lemmas() -> None:
    """The table gives exactly what the EDA paper's lookup gives through NLTK's reader."""
    reader = wn.load_wordnet()
    words = ("movie films went believes comics better running geese was quickly dogs happier "
             "bed gave the of unlikeable fantastic charming boring").split()
    for word in words:
        expected = {n.replace("_", " ").lower() for s in reader.synsets(word)
                    for n in s.lemma_names()} - {word}
        assert set(wn.wordnet_synonyms(word)) == expected, word
    assert reader.get_version() == "3.0"
