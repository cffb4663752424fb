from pathlib import Path

import pytest

from assistant.errors import ConfigError
from assistant.settings import Settings, load_settings


def test_defaults_are_sane():
    s = Settings()
    assert s.ui.host == "127.0.0.1"
    assert s.retrieval.mode in {"hybrid", "dense", "bm25"}
    assert s.chunking.min_chars < s.chunking.max_chars


def test_env_overrides_toml_and_flags_override_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "assistant.toml").write_text('[retrieval]\nmode = "dense"\nk = 7\n')
    assert Settings().retrieval.mode == "dense"
    monkeypatch.setenv("ASSISTANT_RETRIEVAL__MODE", "bm25")
    s = load_settings()
    assert (s.retrieval.mode, s.retrieval.k) == ("bm25", 7)
    assert load_settings(overrides={"retrieval": {"mode": "hybrid"}}).retrieval.mode == "hybrid"


@pytest.mark.parametrize(
    "overrides",
    [{"retrieval": {"mode": "magic"}}, {"chunking": {"max_chars": 1}}, {"retrieval": {"nonsense": 1}}, {"bogus": {}}],
)
def test_invalid_values_raise_config_error(overrides):
    with pytest.raises(ConfigError):
        load_settings(overrides=overrides)


def test_config_file_applies_and_bad_file_is_reported(tmp_path: Path):
    good = tmp_path / "a.toml"
    good.write_text("[answer]\nrefusal_threshold = 0.7\n")
    assert load_settings(good).answer.refusal_threshold == 0.7
    bad = tmp_path / "b.toml"
    bad.write_text("[answer\n")
    with pytest.raises(ConfigError, match=r"b\.toml"):
        load_settings(bad)


def test_index_fingerprint_tracks_only_index_shaping_settings():
    base = Settings()
    assert load_settings(overrides={"answer": {"refusal_threshold": 0.9}}).index_fingerprint() == base.index_fingerprint()
    assert load_settings(overrides={"chunking": {"max_chars": 400}}).index_fingerprint() != base.index_fingerprint()
    assert load_settings(overrides={"embedding": {"model": "hash:64"}}).index_fingerprint() != base.index_fingerprint()


def test_getenv_only_in_settings():
    root = Path(__file__).resolve().parents[1] / "assistant"
    offenders = [p.name for p in root.rglob("*.py") if p.name != "settings.py" and "os.environ" in p.read_text()]
    assert offenders == []
