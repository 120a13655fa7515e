"""One contract for every vector store: Qdrant local (both layouts, ``:memory:``) and pgvector in a
scratch PostgreSQL database (exact search, and HNSW with iterative scan)."""

from __future__ import annotations

import dataclasses
import math
import random

import pytest

from ai_engine.ports import IndexedChunk
from ai_engine.rag import PgVectorStore, QdrantStore

from .rag_helpers import scratch_database

A, B = 1, 2  # companies
KB1, KB2, KB3 = 11, 12, 13


def unit(vector):
    norm = math.sqrt(sum(value * value for value in vector)) or 1.0
    return [value / norm for value in vector]


def random_vector(rng: random.Random, dim: int):
    return unit([rng.gauss(0, 1) for _ in range(dim)])


def chunk(company, base, document, index, vector, text=None):
    return IndexedChunk(
        company_id=company,
        knowledge_base_id=base,
        document_id=document,
        chunk_index=index,
        text=text or f"c{company} kb{base} d{document} #{index}",
        vector=vector,
        document_name=f"doc-{document}.pdf",
        page=index + 1,
        start_offset=index * 100,
        end_offset=index * 100 + 90,
        headings=("Policies",),
    )


@pytest.fixture(params=["qdrant-per-base", "qdrant-shared", "pgvector-exact", "pgvector-hnsw"])
def store(request):
    kind = request.param
    if kind.startswith("qdrant"):
        yield QdrantStore(path=":memory:", layout=kind.removeprefix("qdrant-").replace("-", "_"))
        return
    with scratch_database() as connection:
        with connection.cursor() as cursor:
            if kind.endswith("hnsw"):
                # Small tables are ranked exactly by the planner; make it walk the HNSW index as
                # it does on large ones, so the iterative scan is what these tests exercise.
                cursor.execute("SET enable_sort = off")
            yield PgVectorStore(cursor, hnsw=kind.endswith("hnsw"))
        connection.rollback()


def seed(store, dim=16):
    rng = random.Random(7)
    query = random_vector(rng, dim)
    rows = []
    # Company A's chunks are all very close to the query; company B's a bit less.
    for index in range(5):
        near = unit([q + rng.gauss(0, 0.05) for q in query])
        rows.append(chunk(A, KB1, 100, index, near))
    for index in range(5):
        rows.append(chunk(B, KB2, 200, index, unit([q + rng.gauss(0, 0.3) for q in query])))
    rows.append(chunk(B, KB3, 300, 0, random_vector(rng, dim)))
    store.upsert(rows)
    return query


def test_a_company_never_gets_another_companys_chunks(store):
    query = seed(store)
    found = store.search(query, company_id=B, knowledge_base_ids=[KB2, KB3, KB1], top_k=20)
    assert found
    assert {hit.knowledge_base_id for hit in found} <= {KB2, KB3}
    assert all(hit.document_id in (200, 300) for hit in found)
    # Company A asking with company B's base ids gets nothing of B.
    assert store.search(query, company_id=A, knowledge_base_ids=[KB2, KB3], top_k=20) == []


def test_results_are_ranked_with_citation_fields(store):
    query = seed(store)
    found = store.search(query, company_id=A, knowledge_base_ids=[KB1], top_k=3)
    assert len(found) == 3
    assert [hit.score for hit in found] == sorted((hit.score for hit in found), reverse=True)
    assert found[0].score > 0.9
    top = found[0]
    assert (top.document_id, top.document_name, top.knowledge_base_id) == (100, "doc-100.pdf", KB1)
    index = int(top.chunk_id.split("-")[1])
    assert top.chunk_id == f"100-{index}"
    assert (top.page, top.start_offset, top.end_offset) == (index + 1, index * 100, index * 100 + 90)
    assert top.metadata["headings"] == ["Policies"]
    assert top.text == f"c1 kb{KB1} d100 #{index}"


def test_score_threshold(store):
    query = seed(store)
    assert store.search(query, company_id=B, knowledge_base_ids=[KB3], top_k=5, score_threshold=0.99) == []


def test_scope_is_mandatory(store):
    query = seed(store)
    for company, bases in ((0, [KB1]), (None, [KB1]), (A, []), (A, None), (A, [0]), (True, [KB1])):
        with pytest.raises(ValueError):
            store.search(query, company_id=company, knowledge_base_ids=bases, top_k=3)


def test_upsert_replaces_a_chunk_and_delete_document(store):
    query = seed(store)
    store.upsert([chunk(A, KB1, 100, 0, query, text="replaced")])
    assert store.count(company_id=A, knowledge_base_id=KB1) == 5
    assert store.search(query, company_id=A, knowledge_base_ids=[KB1], top_k=1)[0].text == "replaced"
    store.delete_document(company_id=A, knowledge_base_id=KB1, document_id=100)
    assert store.count(company_id=A, knowledge_base_id=KB1) == 0
    assert store.search(query, company_id=A, knowledge_base_ids=[KB1], top_k=5) == []
    # Another company's document with the same scope shape is untouched.
    assert store.count(company_id=B, knowledge_base_id=KB2) == 5
    # Deleting with the wrong company deletes nothing.
    store.delete_document(company_id=A, knowledge_base_id=KB2, document_id=200)
    assert store.count(company_id=B, knowledge_base_id=KB2, document_id=200) == 5


def test_dimension_change_moves_a_base_without_a_mismatch(store):
    seed(store, dim=16)
    store.delete_knowledge_base(company_id=B, knowledge_base_id=KB2)
    assert store.count(company_id=B, knowledge_base_id=KB2) == 0
    rng = random.Random(3)
    query = random_vector(rng, 24)
    store.upsert(
        [chunk(B, KB2, 200, index, unit([q + rng.gauss(0, 0.1) for q in query])) for index in range(3)]
    )
    found = store.search(query, company_id=B, knowledge_base_ids=[KB2, KB3], top_k=5)
    assert [hit.knowledge_base_id for hit in found] == [KB2] * 3
    # Base KB3 still answers 16-dimensional queries; the other company is untouched.
    assert store.count(company_id=B, knowledge_base_id=KB3) == 1
    assert store.count(company_id=A, knowledge_base_id=KB1) == 5


def test_full_top_k_under_a_selective_filter(store):
    """Most rows belong to another company: the filter must not starve the result (HNSW)."""
    rng = random.Random(11)
    dim = 16
    query = random_vector(rng, dim)
    rows = [
        chunk(B, KB2, 200 + index // 50, index % 50, unit([q + rng.gauss(0, 0.2) for q in query]))
        for index in range(600)
    ]
    rows += [chunk(A, KB1, 100, index, random_vector(rng, dim)) for index in range(12)]
    store.upsert(rows)
    found = store.search(query, company_id=A, knowledge_base_ids=[KB1], top_k=10)
    assert len(found) == 10
    assert {hit.document_id for hit in found} == {100}


def test_pgvector_vectors_follow_the_transaction():
    with scratch_database() as connection:
        cursor = connection.cursor()
        store = PgVectorStore(cursor)
        store.upsert([chunk(A, KB1, 100, 0, unit([1.0, 0.0, 0.0]))])
        connection.rollback()
        assert store.count(company_id=A, knowledge_base_id=KB1) == 0
        store.upsert([chunk(A, KB1, 100, 0, unit([1.0, 0.0, 0.0]))])
        connection.commit()
        assert store.count(company_id=A, knowledge_base_id=KB1) == 1
        assert store.tables() == ["aia_kb_vector_3"]


def test_generations_of_a_document_are_deleted_apart(store):
    """A re-index writes a new generation beside the served one; each can be dropped on its own."""
    vector = unit([1.0] * 16)
    old = [dataclasses.replace(chunk(A, KB1, 100, index, vector), generation="g1") for index in range(3)]
    new = [dataclasses.replace(chunk(A, KB1, 100, index, vector), generation="g2") for index in range(2)]
    store.upsert(old + new)
    assert store.count(company_id=A, knowledge_base_id=KB1, document_id=100) == 5
    found = store.search(vector, company_id=A, knowledge_base_ids=[KB1], top_k=10)
    assert sorted(hit.metadata["generation"] for hit in found) == ["g1", "g1", "g1", "g2", "g2"]
    store.delete_document(company_id=A, knowledge_base_id=KB1, document_id=100, keep_generation="g2")
    assert store.count(company_id=A, knowledge_base_id=KB1, document_id=100) == 2
    store.delete_document(company_id=A, knowledge_base_id=KB1, document_id=100, generation="g2")
    assert store.count(company_id=A, knowledge_base_id=KB1, document_id=100) == 0


def test_drop_all_empties_the_namespace_only(store):
    seed(store)
    other = (
        PgVectorStore(store.cr, table_prefix="aia_kb_other")
        if isinstance(store, PgVectorStore)
        else QdrantStore(store.client, prefix="other", layout=store.layout)
    )
    other.upsert([chunk(A, KB1, 100, 0, unit([1.0] * 16))])
    store.drop_all()
    assert store.count(company_id=A, knowledge_base_id=KB1) == 0
    assert other.count(company_id=A, knowledge_base_id=KB1) == 1


def test_pgvector_adds_the_hnsw_index_to_a_table_made_without_it():
    with scratch_database() as connection, connection.cursor() as cursor:
        PgVectorStore(cursor).upsert([chunk(A, KB1, 100, 0, unit([1.0, 0.0, 0.0]))])
        cursor.execute("SELECT to_regclass('aia_kb_vector_3_hnsw_idx')")
        assert cursor.fetchone()[0] is None
        PgVectorStore(cursor, hnsw=True).upsert([chunk(A, KB1, 100, 1, unit([0.0, 1.0, 0.0]))])
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'aia_kb_vector_3_hnsw_idx'")
        assert "hnsw" in cursor.fetchone()[0]
