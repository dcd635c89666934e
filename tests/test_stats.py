"""`kb stats`: the share of fact-bearing source sentences that no entry cites stays under 10%."""
from knowledge.stats import coverage_report, uncited_fact_sentences


def test_most_fact_sentences_are_cited(engine):
    uncited, total = uncited_fact_sentences(engine)
    assert total > 100
    assert len(uncited) / total < 0.10, [s for _, s in uncited]


def test_report_lists_districts_and_categories(engine):
    report = coverage_report(engine)
    for name in ("拱墅区", "富阳区", "临平区", "上虞区", "建德市", "医疗互助", "驿站"):
        assert name in report
