//! Verdicts in words: the colour a verdict is shown in, whether it is
//! what the scenario expected, and what each check concluded. The verdict's
//! own sentence is sim-core's (`Verdict::sentence`), the same one the
//! terminal prints; whether a label is expected is `record::accepts`, the
//! rule the runner applies.

use sim_core::check::Verdict;
use sim_core::record::accepts;

/// How something reads, and the colour class it is shown in.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Sentence {
    pub text: String,
    /// `pass`, `fail` or `warn` (a CSS class).
    pub class: &'static str,
}

/// The CSS class a verdict is shown in: a pass is green, a wrong answer
/// or a run that did not finish red, a run that could not tell amber.
pub fn verdict_class(verdict: &Verdict) -> &'static str {
    match verdict {
        Verdict::Pass => "pass",
        Verdict::Violated(_) | Verdict::NotLive(_) => "fail",
        Verdict::Unknown { .. } | Verdict::LimitReached { .. } => "warn",
    }
}

/// What `expected` (a verdict label: `pass`, a check's name, `liveness`,
/// or several failure labels joined by `|`) asks of a scenario, as a noun
/// phrase.
pub fn describe_expected(expected: &str) -> String {
    let one = |label: &str| match label {
        "liveness" => {
            "a liveness failure (operations that do not finish after the heal)".to_owned()
        }
        name => format!("a violation of `{name}`"),
    };
    match expected {
        "pass" => "every seed passing".to_owned(),
        single if !single.contains('|') => one(single),
        several => {
            let labels: Vec<String> = several.split('|').map(one).collect();
            labels.join(" or ")
        }
    }
}

/// Whether a seed's verdict label is what the scenario expected. A seed
/// that passes where a violation is expected is not wrong by itself (the
/// scenario runs seeds until one fails), so it is a warning, not a failure.
pub fn expectation(label: &str, expected: &str) -> Sentence {
    let wanted = describe_expected(expected);
    if accepts(expected, label) {
        Sentence {
            text: format!("as expected: the scenario expects {wanted}"),
            class: "pass",
        }
    } else if label == "pass" {
        Sentence {
            text: format!("passed; the scenario expects {wanted}"),
            class: "warn",
        }
    } else {
        Sentence {
            text: format!("NOT as expected: the scenario expects {wanted}"),
            class: "fail",
        }
    }
}

/// What one check concluded in a run.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum CheckStatus {
    Passed,
    Violated,
    /// The run stopped before this check had its say.
    NotReached,
    /// The check ran out of budget.
    Unknown,
    /// Held until the run stopped at a limit.
    PassedUntilLimit,
    /// Liveness failed: operations did not finish after the heal.
    NotLive,
}

impl CheckStatus {
    pub fn words(self) -> (&'static str, &'static str) {
        match self {
            CheckStatus::Passed => ("passed", "pass"),
            CheckStatus::Violated => ("violated", "fail"),
            CheckStatus::NotReached => ("not reached", "muted"),
            CheckStatus::Unknown => ("unknown", "warn"),
            CheckStatus::PassedUntilLimit => ("held until the limit", "warn"),
            CheckStatus::NotLive => ("not live", "fail"),
        }
    }
}

/// Each check's status, in `checks` order, plus a `liveness` row when the
/// run had a liveness phase.
///
/// The engine checks invariants after every event, in order, and stops
/// at the first violation; history checks run, in order, on the finished
/// history, and the first violation ends them too; liveness is judged
/// last. `RunRecord::checks` lists checks in that order (invariants, then
/// history checks), so: every check before the violated one held, and
/// every check after it never had its say (a history check never ran; an
/// invariant listed later was not evaluated on the violating step). With
/// no violation every check held; a run stopped by a limit held its checks
/// only up to the limit (history checks then judged a partial history).
pub fn check_statuses(
    checks: &[String],
    verdict: &Verdict,
    had_liveness_phase: bool,
) -> Vec<(String, CheckStatus)> {
    let violated_at = match verdict {
        Verdict::Violated(v) => Some(checks.iter().position(|c| *c == v.invariant)),
        _ => None,
    };
    let mut statuses: Vec<(String, CheckStatus)> = checks
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let status = match (verdict, violated_at) {
                (Verdict::Violated(_), Some(Some(at))) if i < at => CheckStatus::Passed,
                (Verdict::Violated(_), Some(Some(at))) if i == at => CheckStatus::Violated,
                (Verdict::Violated(_), _) => CheckStatus::NotReached,
                (Verdict::Unknown { check, .. }, _) if check == name => CheckStatus::Unknown,
                (Verdict::LimitReached { .. }, _) => CheckStatus::PassedUntilLimit,
                _ => CheckStatus::Passed,
            };
            (name.clone(), status)
        })
        .collect();
    if let (Verdict::Violated(v), Some(None)) = (verdict, violated_at) {
        // A violation by a check the record does not list: show it anyway.
        statuses.push((v.invariant.clone(), CheckStatus::Violated));
    }
    if had_liveness_phase || matches!(verdict, Verdict::NotLive(_)) {
        let status = match verdict {
            Verdict::NotLive(_) => CheckStatus::NotLive,
            Verdict::Pass | Verdict::Unknown { .. } => CheckStatus::Passed,
            _ => CheckStatus::NotReached,
        };
        statuses.push(("liveness (after the heal)".to_owned(), status));
    }
    statuses
}

#[cfg(test)]
mod tests {
    use sim_core::{SimTime, Violation};

    use super::*;

    fn violated(name: &str) -> Verdict {
        Verdict::Violated(Violation {
            invariant: name.to_owned(),
            event: 7,
            time: SimTime::from_millis(3),
            message: "bad".to_owned(),
            ops: Vec::new(),
        })
    }

    #[test]
    fn checks_after_the_violated_one_are_not_reached() {
        let checks: Vec<String> = ["a", "b", "history"].map(str::to_owned).to_vec();
        let statuses: Vec<_> = check_statuses(&checks, &violated("b"), true)
            .into_iter()
            .map(|(_, s)| s)
            .collect();
        assert_eq!(
            statuses,
            vec![
                CheckStatus::Passed,
                CheckStatus::Violated,
                CheckStatus::NotReached,
                CheckStatus::NotReached
            ]
        );
    }

    #[test]
    fn expectation_tells_surprises_from_seeds_that_simply_passed() {
        assert_eq!(expectation("b", "b").class, "pass");
        assert_eq!(expectation("pass", "b").class, "warn");
        assert_eq!(expectation("liveness", "pass").class, "fail");
        assert_eq!(verdict_class(&violated("b")), "fail");
        assert_eq!(verdict_class(&Verdict::Pass), "pass");
    }

    #[test]
    fn an_expectation_of_several_checks_accepts_each_of_them() {
        assert_eq!(expectation("b", "a|b").class, "pass");
        assert_eq!(expectation("a", "a|b").class, "pass");
        assert_eq!(expectation("c", "a|b").class, "fail");
        assert_eq!(expectation("a|b", "a").class, "fail");
        assert_eq!(
            describe_expected("a|liveness"),
            "a violation of `a` or a liveness failure (operations that do not finish after the heal)"
        );
    }
}
