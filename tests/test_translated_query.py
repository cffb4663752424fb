"""An English question is also embedded in its Chinese translation (``retrieval.translated_query``)."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.answers.service import sentence_cosines
from assistant.pipeline import Assistant
from assistant.search.sentences import cosines
from assistant.text.script import normalize
from tests.conftest import make_settings

ENGLISH = "How many 5G base stations will Shenyang build?"


def _recording(assistant: Assistant) -> list[str]:
    """The texts the retriever's embedder is asked to embed as queries, from now on."""
    texts: list[str] = []
    embedder = assistant.retriever.embedder
    embed = embedder.embed_queries

    def record(batch: list[str]) -> np.ndarray:
        texts.extend(batch)
        return embed(batch)

    embedder.embed_queries = record  # type: ignore[method-assign]
    return texts


def test_an_english_question_is_embedded_again_as_its_chinese_terms(built: Assistant):
    retriever = built.retriever
    texts = _recording(built)
    query = normalize(ENGLISH)
    translated = retriever.translated_vector(query)
    assert translated is not None and len(texts) == 1
    words = texts[0].split()
    assert {"沈阳", "基站"} <= set(words) and "5G" in words
    assert not {"how", "many", "will"} & {w.lower() for w in words}  # untranslated function words are left out
    assert np.allclose(translated, retriever.embedder.embed_queries([texts[0]])[0])
    mean = retriever.sentence_query(query)
    assert np.allclose(mean, (retriever.query_vector(query) + translated) / 2)
    retriever.translated_vector(query)
    assert len(texts) == 3  # the translation was embedded once; the two others are this test's own calls


@pytest.mark.parametrize("question", ["沈阳要建多少个5G基站？", "瀋陽要建多少個5G基站？"])
def test_a_chinese_question_keeps_its_own_vector(built: Assistant, question: str):
    query = normalize(question)
    assert built.retriever.translated_vector(query) is None
    assert np.array_equal(built.retriever.sentence_query(query), built.retriever.query_vector(query))


def test_no_translation_when_the_setting_is_off(tmp_path, small_corpus):
    assistant = Assistant(make_settings(tmp_path, small_corpus, retrieval={"translated_query": "off"}))
    assistant.build()
    assistant.open_index()
    query = normalize(ENGLISH)
    assert assistant.retriever.translated_vector(query) is None
    assert np.array_equal(assistant.retriever.sentence_query(query), assistant.retriever.query_vector(query))


@pytest.mark.parametrize("mode", ["search", "rerank"])
def test_sentence_candidates_are_searched_with_the_mean_vector_only_in_search_mode(tmp_path, small_corpus, mode):
    assistant = Assistant(make_settings(tmp_path, small_corpus, retrieval={"translated_query": mode}))
    assistant.build()
    retriever = assistant.retriever
    store = assistant.open_index().sentences
    searched: list[np.ndarray] = []
    search = store.search
    store.search = lambda vector, n, filters=None: searched.append(vector) or search(vector, n, filters)
    retriever.sentence_candidates(ENGLISH, [])
    query = normalize(ENGLISH)
    expected = retriever.sentence_query(query) if mode == "search" else retriever.query_vector(query)
    assert len(searched) == 1 and np.allclose(searched[0], expected)
    # In both modes the reranker and the support model read the mean of the two cosines.
    keys = [key for key, _ in store.search(retriever.query_vector(query), 5)]
    lookup = sentence_cosines(retriever, ENGLISH)
    both = [cosines(store, vector, keys) for vector in (retriever.query_vector(query), retriever.translated_vector(query))]
    assert lookup(keys) == pytest.approx({k: (both[0][k] + both[1][k]) / 2 for k in keys})


def test_the_translation_brings_an_english_question_closer_to_its_chinese_answer(real_assistant: Assistant):
    """With the real model: the answer sentence ranks higher among all sentences by the mean vector."""
    retriever = real_assistant.retriever
    store = real_assistant.open_index().sentences
    query = normalize(ENGLISH)
    answer = next(c for c in real_assistant.open_index().chunks if "新建5G基站6000个以上" in c.text_norm)

    def rank(vector: np.ndarray) -> int:
        keys = [key for key, _ in store.search(vector, 200)]
        return next((i for i, key in enumerate(keys, start=1) if key.startswith(answer.chunk_id + "@")), 201)

    assert rank(retriever.sentence_query(query)) < rank(retriever.query_vector(query))
