//! Loading a scenario: read, parse (RON), resolve node names, validate
//! every cross-field rule, and build the design. Each failure is a
//! `Diagnostic` naming the file, the position or field path, and what was
//! expected.

use std::collections::BTreeMap;
use std::path::Path;

use models::Design;
use ron::error::{Error as RonError, SpannedError};
use ron::extensions::Extensions;
use sim_core::{ConfigError, NodeId, SimConfig};

use crate::diagnostic::{Diagnostic, byte_offset, closest};
use crate::locate::locate_field;
use crate::schema::Scenario;

/// A scenario ready to run: parsed, validated, its design built.
pub struct Prepared {
    pub path: String,
    pub source: String,
    pub scenario: Scenario,
    pub design: Box<dyn Design>,
    /// Everything but the seed.
    pub base: SimConfig,
}

impl std::fmt::Debug for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prepared")
            .field("path", &self.path)
            .field("name", &self.scenario.name)
            .finish()
    }
}

impl Prepared {
    /// The configuration of one seed.
    pub fn config(&self, seed: u64) -> SimConfig {
        SimConfig {
            seed,
            ..self.base.clone()
        }
    }

    /// Runs as `dsim hunt` does: the nemesis draws each seed's own fault
    /// mix (swarm testing), whatever the file says. No nemesis, no change.
    pub fn swarmed(mut self) -> Prepared {
        if let Some(nemesis) = self.base.nemesis.as_mut() {
            nemesis.swarm = true;
        }
        self
    }

    /// Swarm was switched on here, not in the file: a command that
    /// replays a seed needs `--swarm` to run it the same way.
    pub fn swarm_added(&self) -> bool {
        let file = self.scenario.nemesis.as_ref().is_some_and(|n| n.swarm);
        let run = self.base.nemesis.as_ref().is_some_and(|n| n.swarm);
        run && !file
    }

    /// The command that replays `seed` as this scenario runs.
    pub fn replay_command(&self, seed: u64) -> String {
        let command = sim_core::record::replay_command(&self.path, seed);
        if self.swarm_added() {
            format!("{command} --swarm")
        } else {
            command
        }
    }
}

/// Reads and prepares a scenario file.
pub fn load(path: &Path) -> Result<Prepared, Diagnostic> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path)
        .map_err(|e| Diagnostic::new(&name, format!("cannot read the file: {e}")))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        Diagnostic::new(&name, "the file is not valid UTF-8")
            .at_offset(&String::from_utf8_lossy(e.as_bytes()), offset)
    })?;
    prepare(&name, &text)
}

/// Parses and prepares scenario text; `file` names it in diagnostics.
pub fn prepare(file: &str, text: &str) -> Result<Prepared, Diagnostic> {
    let scenario = parse(file, text)?;
    let (design, base) = resolve(&scenario).map_err(|e| config_diagnostic(file, text, e))?;
    Ok(Prepared {
        path: file.to_owned(),
        source: text.to_owned(),
        scenario,
        design,
        base,
    })
}

/// Parses the RON text into the schema (no cross-field checks).
pub fn parse(file: &str, text: &str) -> Result<Scenario, Diagnostic> {
    let options = ron::Options::default().with_default_extension(Extensions::IMPLICIT_SOME);
    options
        .from_str::<Scenario>(text)
        .map_err(|e| ron_diagnostic(file, text, e))
}

fn ron_diagnostic(file: &str, text: &str, error: SpannedError) -> Diagnostic {
    let (start, end) = (&error.span.start, &error.span.end);
    let start = byte_offset(text, start.line.max(1), start.col.max(1));
    let end = byte_offset(text, end.line.max(1), end.col.max(1)).max(start);
    // ron's span starts where the parser stood before it skipped
    // whitespace: point at the token it choked on (`"2000"` where a number
    // belongs), not at the space or line break before it.
    let span = text.get(start..end).unwrap_or("");
    let offending = start + (span.len() - span.trim_start().len());
    let mut d = Diagnostic::new(file, error.code.to_string()).at_offset(text, offending);
    let suggestion = match &error.code {
        RonError::NoSuchStructField {
            expected, found, ..
        } => closest(found, expected.iter().copied())
            .map(|c| format!("did you mean `{c}`?"))
            .or_else(|| Some(format!("expected one of: {}", expected.join(", ")))),
        RonError::NoSuchEnumVariant {
            expected, found, ..
        } => closest(found, expected.iter().copied())
            .map(|c| format!("did you mean `{c}`?"))
            .or_else(|| Some(format!("expected one of: {}", expected.join(", ")))),
        RonError::MissingStructField { field, .. } => {
            Some(format!("add `{field}: ...` (see scenarios/REFERENCE.md)"))
        }
        _ => None,
    };
    if let Some(help) = suggestion {
        d = d.with_help(help);
    }
    d
}

/// A validation error, pointed at its field in the text when we can find it.
fn config_diagnostic(file: &str, text: &str, error: ConfigError) -> Diagnostic {
    let mut d = Diagnostic::new(file, error.message.clone()).with_field(error.path.clone());
    if let Some(offset) = locate_field(text, &error.path) {
        d = d.at_offset(text, offset);
    }
    d
}

/// Resolves node names and checks every cross-field rule.
pub fn resolve(scenario: &Scenario) -> Result<(Box<dyn Design>, SimConfig), ConfigError> {
    if scenario.duration_ms == 0 {
        return Err(ConfigError::new("duration_ms", "must be positive"));
    }
    if scenario.seeds.count == 0 {
        return Err(ConfigError::new("seeds.count", "must be at least 1"));
    }
    scenario.model.validate().map_err(|e| e.within("model"))?;
    let design = scenario.model.design();
    check_expect(&scenario.expect, &design.checks())?;
    check_reach(scenario, &design.labels())?;
    let names = design.node_names();
    let ids: BTreeMap<&str, NodeId> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), NodeId(i as u32)))
        .collect();
    let lookup = |field: &'static str| {
        let ids = &ids;
        move |name: &String| -> Result<NodeId, ConfigError> {
            ids.get(name.as_str())
                .copied()
                .ok_or_else(|| unknown_node(field, name, ids))
        }
    };

    let network = expand_links(&scenario.network, &names)?
        .resolve(&mut lookup("links"))
        .map_err(|e| e.within("network"))?;
    let mut clocks = vec![sim_core::ClockConfig::default(); names.len()];
    for (pattern, clock) in &scenario.clocks {
        let field = format!("clocks[{pattern:?}]");
        for name in expand(&field, std::slice::from_ref(pattern), &names)? {
            let id = ids
                .get(name.as_str())
                .ok_or_else(|| unknown_node(&field, &name, &ids))?;
            clocks[id.index()] = *clock;
        }
    }
    let mut faults = Vec::with_capacity(scenario.faults.len());
    for (i, f) in scenario.faults.iter().enumerate() {
        let at = format!("faults[{i}]");
        let fault = f
            .fault
            .resolve(&mut lookup("fault"))
            .map_err(|e| e.within(&at))?;
        faults.push(sim_core::TimedFault {
            at_ms: f.at_ms,
            fault,
            duration_ms: f.duration_ms,
        });
    }
    let mut disks = design.default_disks();
    for (pattern, disk) in &scenario.disks {
        let field = format!("disks[{pattern:?}]");
        for name in expand(&field, std::slice::from_ref(pattern), &names)? {
            let id = ids
                .get(name.as_str())
                .ok_or_else(|| unknown_node(&field, &name, &ids))?;
            disks[id.index()] = *disk;
        }
    }
    let nemesis = match &scenario.nemesis {
        None => None,
        Some(n) => {
            let mut n = n.clone();
            n.targets = expand("nemesis.targets", &n.targets, &names)?;
            for (kind, targets) in &mut n.targets_per_kind {
                let field = format!("nemesis.targets_per_kind[{kind:?}]");
                *targets = expand(&field, targets, &names)?;
            }
            let mut n = n
                .resolve(&mut lookup("targets"))
                .map_err(|e| e.within("nemesis"))?;
            if n.targets.is_empty() {
                n.targets = design.default_fault_targets();
            }
            Some(n)
        }
    };
    let config = SimConfig {
        seed: scenario.seeds.start,
        topology: None,
        network,
        clocks,
        disks,
        faults,
        nemesis,
        liveness: scenario.liveness,
        duration: std::time::Duration::from_millis(scenario.duration_ms),
        limits: scenario.limits,
        record_trace: false,
        node_names: names.clone(),
    };
    config
        .validate(names.len())
        .map_err(|e| node_by_name(e, &names))?;
    Ok((design, config))
}

/// sim-core numbers clocks and disks by node index (`clocks[2]`), but the
/// file keys them by name, in any order: say `clocks["replica-2"]`, so the
/// path means what the user wrote and `locate_field` finds the right
/// entry. (A disk set by a role pattern is named by the node it reached.)
fn node_by_name(mut error: ConfigError, names: &[String]) -> ConfigError {
    for field in ["clocks", "disks"] {
        if let Some(rest) = error.path.strip_prefix(&format!("{field}["))
            && let Some((index, tail)) = rest.split_once(']')
            && let Some(name) = index.parse::<usize>().ok().and_then(|i| names.get(i))
        {
            error.path = format!("{field}[{name:?}]{tail}");
        }
    }
    error
}

/// Every check an `expect` names must be one the design has: a misspelt
/// name would otherwise run and report "unexpected".
fn check_expect(expect: &crate::schema::Expect, checks: &[String]) -> Result<(), ConfigError> {
    for name in expect.checks() {
        if checks.contains(name) {
            continue;
        }
        let hint = match closest(name, checks.iter().map(String::as_str)) {
            Some(c) => format!("did you mean `{c}`? "),
            None => String::new(),
        };
        return Err(ConfigError::new(
            "expect",
            format!(
                "`{name}` is not a check of this design ({hint}its checks: {})",
                checks.join(", ")
            ),
        ));
    }
    Ok(())
}

/// Every label `reach` names must be one the design marks, and only a
/// scenario that must pass can require them (a broken one stops at its
/// first failing seed).
fn check_reach(scenario: &Scenario, labels: &[(String, String)]) -> Result<(), ConfigError> {
    if !scenario.reach.is_empty() && scenario.expect != crate::schema::Expect::Pass {
        return Err(ConfigError::new(
            "reach",
            "only a scenario that expects Pass can require labels: a broken variant's check stops at its first failing seed",
        ));
    }
    for name in &scenario.reach {
        if labels.iter().any(|(l, _)| l == name) {
            continue;
        }
        let names: Vec<&str> = labels.iter().map(|(l, _)| l.as_str()).collect();
        let hint = match closest(name, names.iter().copied()) {
            Some(c) => format!("did you mean `{c}`? "),
            None => String::new(),
        };
        let known = if names.is_empty() {
            "it marks none".to_owned()
        } else {
            format!("its labels: {}", names.join(", "))
        };
        return Err(ConfigError::new(
            "reach",
            format!("`{name}` is not a label this design marks ({hint}{known})"),
        ));
    }
    Ok(())
}

/// Expands role patterns (`"replica-*"`: every node whose name starts with
/// `replica-`) into node names; other names pass through, to be checked
/// when they are resolved. A pattern that matches nothing is an error.
fn expand(field: &str, names: &[String], all: &[String]) -> Result<Vec<String>, ConfigError> {
    let mut expanded = Vec::new();
    for name in names {
        let Some(prefix) = name.strip_suffix('*') else {
            expanded.push(name.clone());
            continue;
        };
        let before = expanded.len();
        expanded.extend(all.iter().filter(|n| n.starts_with(prefix)).cloned());
        if expanded.len() == before {
            let roles: std::collections::BTreeSet<String> = all
                .iter()
                .map(|n| format!("{}*", n.trim_end_matches(|c: char| c.is_ascii_digit())))
                .collect();
            let roles: Vec<String> = roles.into_iter().collect();
            return Err(ConfigError::new(
                field,
                format!("`{name}` matches no node (roles: {})", roles.join(", ")),
            ));
        }
    }
    Ok(expanded)
}

/// The network with each link override's role patterns expanded: one
/// override per pair of matching ends, in order.
fn expand_links(
    network: &sim_core::NetworkConfig<String>,
    all: &[String],
) -> Result<sim_core::NetworkConfig<String>, ConfigError> {
    let ends = |field: String, end: &Option<String>| match end {
        None => Ok(vec![None]),
        Some(name) => Ok(expand(&field, std::slice::from_ref(name), all)?
            .into_iter()
            .map(Some)
            .collect()),
    };
    let mut links = Vec::with_capacity(network.links.len());
    for (i, rule) in network.links.iter().enumerate() {
        let froms = ends(format!("network.links[{i}].from"), &rule.from)?;
        let tos = ends(format!("network.links[{i}].to"), &rule.to)?;
        for from in &froms {
            for to in &tos {
                links.push(sim_core::LinkOverride {
                    from: from.clone(),
                    to: to.clone(),
                    link: rule.link,
                });
            }
        }
    }
    Ok(sim_core::NetworkConfig {
        links,
        ..network.clone()
    })
}

fn unknown_node(field: &str, name: &str, ids: &BTreeMap<&str, NodeId>) -> ConfigError {
    let known: Vec<&str> = ids.keys().copied().collect();
    let hint = match closest(name, known.iter().copied()) {
        Some(c) => format!("did you mean `{c}`?"),
        None => format!("the nodes are: {}", known.join(", ")),
    };
    ConfigError::new(
        field,
        format!("no node named `{name}` in this design ({hint})"),
    )
}

impl Prepared {
    /// The same file with other settings (a grid sweep's cell), validated
    /// like a file.
    pub fn with_scenario(&self, scenario: Scenario) -> Result<Prepared, ConfigError> {
        let (design, base) = resolve(&scenario)?;
        Ok(Prepared {
            path: self.path.clone(),
            source: self.source.clone(),
            scenario,
            design,
            base,
        })
    }
}
