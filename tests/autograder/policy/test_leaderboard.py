"""The optional Gradescope leaderboard: off by default, Gradescope's top-level format when on."""
import json

from autograder.policy.leaderboard import leaderboard_extra
from autograder.results import schema as gradescope
from autograder.results.model import GradeResult, ItemResult
from autograder.spec import LeaderboardPolicy, load_spec

ACCURACY = "cnn.ThreeLayerConvNet.accuracy"


def test_off_in_the_kit_spec():
    spec = load_spec()
    assert spec.leaderboard.enabled is False
    assert leaderboard_extra(spec.leaderboard, spec.ids(), {"accuracy": {"val": 0.7}}) == {}


def test_on_it_reports_the_validation_accuracy_in_percent():
    policy = LeaderboardPolicy(enabled=True)
    extra = leaderboard_extra(policy, [ACCURACY], {"accuracy": {"val": 0.6734, "heldout": 0.6}})
    assert extra == {"leaderboard": [{"name": "Validation accuracy", "value": 67.34}]}
    assert leaderboard_extra(policy, [ACCURACY], {}) == {}          # nothing measured
    assert leaderboard_extra(policy, ["other.item"], {"accuracy": {"val": 0.7}}) == {}


def test_results_json_puts_it_at_the_top_level():
    result = GradeResult(submission="s", items=[ItemResult(ACCURACY, ACCURACY, 20, 20, True, "")])
    result.extra.update(leaderboard_extra(LeaderboardPolicy(enabled=True), [ACCURACY],
                                          {"accuracy": {"val": 0.7}}))
    data = json.loads(gradescope.dumps(result))
    assert data["leaderboard"] == [{"name": "Validation accuracy", "value": 70.0}]
    assert "leaderboard" not in data["extra_data"]
    assert gradescope.validate(data) == []
    plain = json.loads(gradescope.dumps(GradeResult(submission="s")))
    assert "leaderboard" not in plain
