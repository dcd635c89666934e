"""The calibrated decision: answer, offer choices, or decline; and the fitted parameter file."""
import json

import numpy as np
import pytest

from knowledge.decision import (
    FEATURES,
    PARAMS_PATH,
    QUESTION_FEATURES,
    TOPIC_FEATURES,
    DecisionParams,
    ModelParams,
    decide,
)
from knowledge.fusion import Candidate, fuse
from knowledge.matcher import Hit


def model(**overrides) -> ModelParams:
    """Weights on lexical score only; "none of them" at a constant; topic on the best lexical score."""
    w = [0.0] * len(FEATURES)
    w[FEATURES.index("lex")] = 10.0
    t = [0.0] * len(TOPIC_FEATURES)
    t[TOPIC_FEATURES.index("max_lex")] = 20.0
    return ModelParams(w, bias=5.0, topic_weights=t, topic_bias=-8.0, answer=0.6, topic=0.5, **overrides)


@pytest.fixture
def question(engine):
    return engine.reader.read("临平免费体检名额", None)


def candidates(*lexes):
    return [Candidate(key=i, lex=x, cov=x, lex_rank=i) for i, x in enumerate(lexes)]


def test_a_clear_winner_is_answered(question):
    d = decide(question, candidates(0.95, 0.2), ["临平区", "临平区"], ["体检", "体检"], model())
    assert d.outcome == "answer" and d.best.key == 0 and d.best.prob > 0.6


def test_two_close_candidates_on_topic_become_choices(question):
    d = decide(question, candidates(0.8, 0.79), ["临平区", "临平区"], ["体检", "体检"], model())
    assert d.outcome == "choices"
    assert d.ranked[0].prob < 0.6 and d.topical >= 0.5


def test_nothing_close_is_declined(question):
    d = decide(question, candidates(0.2, 0.1), [None, None], ["体检", "体检"], model())
    assert d.outcome == "decline" and d.topical < 0.5


def test_no_candidates_is_declined(question):
    assert decide(question, [], [], [], model()).outcome == "decline"


def test_probabilities_share_one_softmax_with_none_of_them(question):
    d = decide(question, candidates(0.9, 0.9, 0.9), [None] * 3, ["体检"] * 3, model())
    total = sum(c.prob for c in d.ranked)
    assert total < 1.0 and np.isclose(d.ranked[0].prob, d.ranked[2].prob)


def test_fusion_keeps_both_retrievers_evidence():
    lexical = {3: Hit(3, 80.0, 0.9, "a"), 5: Hit(5, 40.0, 0.5, "b")}
    cos = np.array([0.0, 0.0, 0.0, 0.85, 0.0, 0.95, 0.7])
    out = fuse(lexical, cos, cos, [3, 5, 6])
    by_key = {c.key: c for c in out}
    assert by_key[3].lex_rank == 0 and by_key[5].sem_rank == 0
    assert by_key[6].lex == 0.0 and by_key[6].cos == pytest.approx(0.7)
    assert out[0].key in (3, 5)


def test_the_shipped_parameters_load_and_name_their_features():
    params = DecisionParams.load()
    data = json.loads(PARAMS_PATH.read_text("utf-8"))
    assert data["features"] == list(FEATURES) and data["question_features"] == list(QUESTION_FEATURES)
    assert params.version >= 1 and data["meta"]["by"] == "bench/fit_decision.py"
    for m in (params.hybrid, params.lexical):
        assert len(m.weights) == len(FEATURES) and 0 < m.answer < 1 and 0 < m.topic < 1


def test_parameters_fitted_for_other_features_are_refused(tmp_path):
    data = json.loads(PARAMS_PATH.read_text("utf-8"))
    data["features"] = data["features"][:-1]
    path = tmp_path / "decision.json"
    path.write_text(json.dumps(data), "utf-8")
    with pytest.raises(ValueError, match="fit_decision"):
        DecisionParams.load(path)


def test_the_fitting_scripts_engine_answers_as_the_shipped_one(engine, vectors):
    """bench/fit_decision.py wraps the engine's retrieval (memoised); the wrapper must keep up with it."""
    if vectors is None:
        pytest.skip("the embedding model cannot load on this platform")
    from bench import fit_decision, labelled
    fitting = fit_decision.build(True, DecisionParams.load())
    cases = [c for c in labelled.load(labelled.DATA / "chat_questions.jsonl") if not c.get("history")][::15]
    for case in cases:
        mine = fitting.answer(case["q"], case.get("district"))
        assert mine.answer == engine.answer(case["q"], case.get("district")).answer, case["q"]
    assert fit_decision.simulate(fitting, {"chat": cases})["chat"]
