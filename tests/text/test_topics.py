"""Topic labels are words a manager reads: a contraction stays whole (and is a stopword)."""

from __future__ import annotations

from safar.text.topics import discover_topics


def test_contractions_do_not_leave_fragments_in_topic_labels() -> None:
    texts = [
        f"I'll definitely order again, the parcel was completely dry {n}" for n in range(12)
    ] + [f"The courier didn't ring and it's late again, we're waiting {n}" for n in range(12)]
    topics = discover_topics(texts, n_topics=2)
    assert topics, "two themes of twelve texts each are found"
    words = {w for t in topics for term in t.terms for w in term.split()}
    assert not words & {"ll", "didn", "re", "it's", "i'll", "we're"}, words
    assert "definitely" in words or "courier" in words
