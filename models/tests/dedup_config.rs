//! The dedup model section as a scenario file sees it: parsing (unknown
//! fields rejected, defaults filled), validation with field paths, sweep
//! parameters, node names.

use models::ModelConfig;
use models::dedup::{DedupConfig, ReplicaChoice, Variant};
use sim_core::NodeId;

fn parse(json: &str) -> Result<ModelConfig, serde_json::Error> {
    serde_json::from_str(json)
}

fn dedup(model: ModelConfig) -> DedupConfig {
    let ModelConfig::Dedup(config) = model else {
        panic!("not a dedup section: {model:?}")
    };
    config
}

fn error_path(config: DedupConfig) -> String {
    ModelConfig::Dedup(config).validate().unwrap_err().path
}

#[test]
fn a_partial_section_gets_defaults_and_typos_are_rejected() {
    let config = dedup(
        parse(
            r#"{"Dedup": {"variant": "BloomFilter", "replicas": 5, "workload": {"clients": 7}}}"#,
        )
        .unwrap(),
    );
    assert_eq!(config.variant, Variant::BloomFilter);
    assert_eq!((config.replicas, config.read_quorum), (5, 2));
    assert_eq!(config.workload.clients, 7);
    assert_eq!(config.workload.timeout_ms, 300);
    assert_eq!(config.replica_choice, ReplicaChoice::Random);
    let typo = parse(r#"{"Dedup": {"read_quorom": 2}}"#).unwrap_err();
    assert!(typo.to_string().contains("read_quorom"), "{typo}");
    let nested = parse(r#"{"Dedup": {"workload": {"client": 2}}}"#).unwrap_err();
    assert!(nested.to_string().contains("client"), "{nested}");
}

#[test]
fn validation_names_the_field() {
    let base = DedupConfig::default();
    assert!(ModelConfig::Dedup(base.clone()).validate().is_ok());
    let r_above_n = DedupConfig {
        variant: Variant::UncheckedQuorums,
        read_quorum: 4,
        ..base.clone()
    };
    assert_eq!(error_path(r_above_n), "read_quorum");
    let mut no_clients = base.clone();
    no_clients.workload.clients = 0;
    assert_eq!(error_path(no_clients), "workload.clients");
    let too_few_stand_ins = DedupConfig {
        variant: Variant::SloppyQuorum,
        ..base.clone()
    };
    assert_eq!(error_path(too_few_stand_ins), "replication_factor");
    let big_factor = DedupConfig {
        replication_factor: Some(4),
        ..base
    };
    assert_eq!(error_path(big_factor), "replication_factor");
}

#[test]
fn the_correct_variant_refuses_quorums_that_can_miss_and_names_the_way_out() {
    let miss = DedupConfig {
        read_quorum: 1,
        write_quorum: 2,
        ..DedupConfig::default()
    };
    let error = ModelConfig::Dedup(miss.clone()).validate().unwrap_err();
    assert_eq!(error.path, "read_quorum");
    assert!(error.message.contains("R + W > N"), "{}", error.message);
    assert!(
        error.message.contains("UncheckedQuorums"),
        "{}",
        error.message
    );
    let halves = DedupConfig {
        replicas: 4,
        read_quorum: 3,
        write_quorum: 2,
        ..DedupConfig::default()
    };
    let error = ModelConfig::Dedup(halves.clone()).validate().unwrap_err();
    assert_eq!(error.path, "write_quorum");
    assert!(
        error.message.contains("UncheckedQuorums"),
        "{}",
        error.message
    );
    for config in [miss, halves] {
        let unchecked = DedupConfig {
            variant: Variant::UncheckedQuorums,
            ..config
        };
        assert!(ModelConfig::Dedup(unchecked).validate().is_ok());
    }
}

#[test]
fn sweep_parameters_have_short_aliases_and_unknown_names_list_the_valid_ones() {
    let mut model = ModelConfig::Dedup(DedupConfig::default());
    model.set_param("n", 5).unwrap();
    model.set_param("r", 3).unwrap();
    model.set_param("write_quorum", 4).unwrap();
    let config = dedup(model.clone());
    assert_eq!(
        (config.replicas, config.read_quorum, config.write_quorum),
        (5, 3, 4)
    );
    let error = model.set_param("quorum", 2).unwrap_err();
    for name in [
        "replicas",
        "read_quorum",
        "write_quorum",
        "(n)",
        "(r)",
        "(w)",
    ] {
        assert!(error.contains(name), "{error}");
    }
    assert!(model.set_param("r", -1).is_err());
    // With a replication factor set, N is the factor, not the cluster size.
    let mut sloppy = DedupConfig {
        replication_factor: Some(3),
        ..DedupConfig::default()
    };
    sloppy.set_param("n", 2).unwrap();
    assert_eq!((sloppy.replicas, sloppy.replication_factor), (3, Some(2)));
}

#[test]
fn nodes_are_replicas_then_clients_and_faults_target_replicas() {
    let mut config = DedupConfig::default();
    config.workload.clients = 2;
    let design = ModelConfig::Dedup(config).design();
    assert_eq!(
        *design.node_names(),
        [
            "replica-0",
            "replica-1",
            "replica-2",
            "client-0",
            "client-1"
        ]
    );
    assert_eq!(
        design.default_fault_targets(),
        [NodeId(0), NodeId(1), NodeId(2)]
    );
    assert_eq!(design.checks(), ["at_most_one_false", "linearizable"]);
}
