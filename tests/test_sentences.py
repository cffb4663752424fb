"""Sentence vectors: cut as the answer step cuts sentences, stored per index version, kept in step with the corpus."""

from pathlib import Path

import numpy as np
import pytest

from assistant.answers.decide import features as decide_features
from assistant.answers.evidence import Coverage, analyze, idf_table, score_sentences
from assistant.answers.rerank import features
from assistant.pipeline import Assistant
from assistant.search.index import read_manifest
from assistant.search.sentences import STORE_NAME, sentence_id, sentence_rows
from assistant.text.script import normalize
from assistant.text.sentences import answerable_sentences
from assistant.types import Chunk, Hit
from tests.conftest import CORPUS, make_settings

TEXT = ("第三節 建設教育強省\n\n推進大連理工大學建設世界一流大學。加快發展職業教育；二是\n"
        "到2025年,勞動年齡人口平均受教育年限達到11.2年。")


def test_answerable_sentences_leave_out_headings_and_fragments():
    sentences = answerable_sentences(TEXT, 100, ("第十八章 共享振興成果", "第三節 建設教育強省"))
    assert [TEXT[s - 100 : e - 100] for s, e, _ in sentences] == [
        "推進大連理工大學建設世界一流大學。", "加快發展職業教育；", "到2025年,勞動年齡人口平均受教育年限達到11.2年。"]
    assert sentences[0][2] == "推进大连理工大学建设世界一流大学。"  # the normal form, as the answer step reads it


def test_every_sentence_the_answer_step_scores_has_a_key_in_the_store():
    chunk = Chunk("plan:a", "plan", "规划纲要", ("第三節 建設教育強省",), TEXT, normalize(TEXT), 40, 40 + len(TEXT))
    rows, texts = sentence_rows([chunk])
    cover = Coverage(idf_table([chunk.text_norm]))
    scored = score_sentences(analyze("到2025年劳动年龄人口平均受教育年限达到多少？"), [Hit(chunk, 1.0, 1, 0.8, 1.0)], None, cover)
    assert {sentence_id("plan:a", s.sentence.start) for s in scored} <= {r.chunk_id for r in rows}
    assert len(rows) == len(texts) == 3 and all(r.doc_id == "plan" for r in rows)


def test_the_index_keeps_one_vector_per_sentence_and_follows_the_corpus(hash_assistant: Assistant, small_corpus: Path):
    report = hash_assistant.build()
    snapshot = hash_assistant.open_index()
    rows, texts = sentence_rows(snapshot.chunks)
    assert snapshot.sentences is not None and snapshot.sentences.count() == len(rows) > len(snapshot.chunks)
    assert report.sentences_embedded == len(rows)
    sample = rows[:: max(1, len(rows) // 7)]
    stored = snapshot.sentences.get([r.chunk_id for r in sample])
    expected = hash_assistant.embedder.embed_passages([texts[rows.index(r)] for r in sample])
    assert np.allclose(np.stack([stored[r.chunk_id].vector for r in sample]), expected, atol=1e-6)

    (small_corpus / "000_a44cb53fb1e7b1bd.txt").write_text((CORPUS / "000_a44cb53fb1e7b1bd.txt").read_text("utf-8"))
    hash_assistant.build()
    added = hash_assistant.open_index()
    assert added.sentences.count() == len(sentence_rows(added.chunks)[0]) > snapshot.sentences.count()
    (small_corpus / "000_a44cb53fb1e7b1bd.txt").unlink()
    hash_assistant.build()
    removed = hash_assistant.open_index()
    assert removed.sentences.count() == snapshot.sentences.count()
    assert not [k for k in removed.sentences.get([r.chunk_id for r in sentence_rows(added.chunks)[0]])
                if k.startswith("lnwb-2021-plan-briefing:")]


def test_a_damaged_sentence_segment_is_detected_and_rebuilt(hash_assistant: Assistant):
    hash_assistant.build()
    count = hash_assistant.open_index().sentences.count()
    segment = read_manifest(hash_assistant.store_dir)["stores"][STORE_NAME]["segments"][0]["name"]
    vectors = hash_assistant.store_dir / "segments" / segment / "vectors.npy"
    vectors.write_bytes(vectors.read_bytes()[:-64])
    fresh = Assistant(hash_assistant.settings)
    assert fresh.index_problem() is not None
    fresh.build()
    assert fresh.index_problem() is None and fresh.open_index().sentences.count() == count


def test_settings_without_sentence_vectors_keep_none(tmp_path: Path, small_corpus: Path):
    assistant = Assistant(make_settings(tmp_path, small_corpus, retrieval={"sentence_vectors": False}))
    assistant.build()
    assert assistant.open_index().sentences is None
    assert STORE_NAME not in read_manifest(assistant.store_dir)["stores"]
    assert assistant.search("建设教育强省", k=3)
    # the reranker uses the weights fitted without the sentence cosine
    assert assistant.retriever.reranker.weights == assistant.settings.retrieval.rerank_weights_without_sentences
    assert Assistant(assistant.settings).retriever.reranker.weights != assistant.settings.retrieval.rerank_weights


@pytest.mark.parametrize("known", [True, False])
def test_the_sentence_cosine_is_the_best_of_the_best_sentences_or_the_chunk_cosine(known: bool):
    chunk = Chunk("plan:a", "plan", "规划纲要", ("第三節 建設教育強省",), TEXT, normalize(TEXT), 0, len(TEXT))
    cover = Coverage(idf_table([chunk.text_norm]))
    question = analyze("到2025年劳动年龄人口平均受教育年限达到多少？")
    starts = [s.sentence.start for s in score_sentences(question, [Hit(chunk, 1.0, 1, 0.8, 1.0)], None, cover)]
    asked: list[str] = []

    def lookup(keys: list[str]) -> dict[str, float]:
        asked.extend(keys)
        return {key: 0.5 + 0.1 * i for i, key in enumerate(keys)} if known else {}

    row = features(question, [Hit(chunk, 1.0, 1, 0.8, 1.0)], 10.0, cover, lookup)[0]
    assert asked == [sentence_id("plan:a", s) for s in starts[:2]]  # the two best-scoring sentences only
    assert row["sentence_cosine"] == pytest.approx(0.6 if known else 0.8)  # else the chunk's cosine
    without = features(question, [Hit(chunk, 1.0, 1, 0.8, 1.0)], 10.0, cover, None)[0]
    assert without["sentence_cosine"] == 0.0  # an index without sentence vectors: the same for every hit


def test_support_reads_the_best_sentences_cosine_or_the_chunks():
    chunk = Chunk("plan:a", "plan", "规划纲要", ("第三節 建設教育強省",), TEXT, normalize(TEXT), 0, len(TEXT))
    idf = idf_table([chunk.text_norm])
    cover = Coverage(idf)
    question = analyze("到2025年劳动年龄人口平均受教育年限达到多少？").known(idf)
    hits = [Hit(chunk, 1.0, 1, 0.7, 1.0)]
    scored = score_sentences(question, hits, None, cover)
    keys = [sentence_id("plan:a", s.sentence.start) for s in scored[:3]]
    values = decide_features(question, scored, hits, cover, idf, lambda ks: {k: 0.9 - 0.1 * i for i, k in enumerate(ks)})
    assert values["sentence_dense"] == pytest.approx(0.9) and len(keys) == 3
    assert decide_features(question, scored, hits, cover, idf, None)["sentence_dense"] == pytest.approx(0.7)


def test_hybrid_search_adds_the_chunks_of_the_closest_sentences_as_candidates(built: Assistant):
    retriever = built.retriever
    snapshot = built.open_index()
    target = next(c for c in snapshot.chunks if len(sentence_rows([c])[0]) >= 4)
    sentence = sentence_rows([target])[1][2]  # one sentence of a long chunk, asked word for word
    others = [h for h in retriever.search("数字经济", k=5, mode="hybrid") if h.chunk.chunk_id != target.chunk_id][:3]
    extra = retriever.sentence_candidates(sentence, others)
    assert extra and extra[0].chunk.chunk_id == target.chunk_id
    assert len(extra) <= built.settings.retrieval.sentence_candidates
    assert [h.rank for h in extra] == list(range(len(others) + 1, len(others) + len(extra) + 1))
    assert not {h.chunk.chunk_id for h in extra} & {h.chunk.chunk_id for h in others}
    stored = snapshot.vectors.get([target.chunk_id])[target.chunk_id].vector  # the chunk's own cosine, not the sentence's
    assert extra[0].dense_score == pytest.approx(float(np.dot(stored, retriever.query_vector(normalize(sentence)))))


def test_no_sentence_candidates_without_sentence_vectors_or_when_set_to_none(tmp_path: Path, small_corpus: Path):
    for retrieval in ({"sentence_vectors": False}, {"sentence_candidates": 0}):
        assistant = Assistant(make_settings(tmp_path / str(len(retrieval)) / next(iter(retrieval)), small_corpus,
                                            retrieval=retrieval))
        assistant.build()
        hits = assistant.retriever.search("建设教育强省", k=3, mode="hybrid")
        assert assistant.retriever.sentence_candidates("建设教育强省", hits) == []


def test_an_edited_document_embeds_only_its_new_sentences(hash_assistant: Assistant, small_corpus: Path):
    hash_assistant.build()
    before = hash_assistant.open_index().sentences.count()
    with (small_corpus / "003_6a6d947e374aa1af.txt").open("a", encoding="utf-8") as handle:
        handle.write("\n全省新建5G基站1万个以上。\n")
    report = hash_assistant.build()
    assert report.sentences_embedded == 1  # the other sentences of the document are reused by their text
    assert hash_assistant.open_index().sentences.count() == before + 1


def test_support_looks_for_the_rarest_words_of_the_topic_in_the_best_sentence():
    forest_text = "到2025年,森林覆蓋率達到42%。"
    school = Chunk("plan:a", "plan", "规划纲要", ("第三節 建設教育強省",), TEXT, normalize(TEXT), 0, len(TEXT))
    forest = Chunk("plan:b", "plan", "规划纲要", ("第九節 生態",), forest_text, normalize(forest_text), 0, len(forest_text))
    idf = idf_table([school.text_norm, forest.text_norm])
    cover = Coverage(idf)
    question = analyze("到2025年森林覆盖率达到多少？").known(idf)

    def rarest(chunk: Chunk) -> float:
        hits = [Hit(chunk, 1.0, 1, 0.7, 1.0)]
        return decide_features(question, score_sentences(question, hits, None, cover), hits, cover, idf)["rarest"]

    assert rarest(forest) == 1.0
    assert rarest(school) == 0.0  # 到2025年 … 达到 is shared; 森林覆盖率 is not
