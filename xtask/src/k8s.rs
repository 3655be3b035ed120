//! `cargo xtask k8s`: the shipped Kubernetes Indexed Job
//! (`scenarios/examples/k8s-indexed-job.yaml`) validated against the
//! Kubernetes schema, as far as a machine without a cluster allows. The
//! validator is `kubernetes-validate` from PyPI, which bundles the JSON
//! schemas of each Kubernetes release, so it needs no cluster and no
//! network once installed; it runs strict (an unknown or misspelt field is
//! an error) for the oldest and newest Kubernetes the manifest claims. It
//! is installed, pinned, into a virtual environment under `target/`. The
//! manifest's index wiring (`JOB_COMPLETION_INDEX` to `--shard`) is run by
//! `scenarios/tests/shards.rs`.

use std::path::Path;
use std::process::Command;

use crate::command::{show, succeed, which};
use crate::workspace_root;

const MANIFEST: &str = "scenarios/examples/k8s-indexed-job.yaml";
const VALIDATOR: &str = "kubernetes-validate";
const VALIDATOR_VERSION: &str = "1.37.0";
/// The manifest says "Kubernetes 1.31+" (`podFailurePolicy` is GA there);
/// 1.37 is the newest schema the validator bundles.
const KUBERNETES: [&str; 2] = ["1.31.0", "1.37.0"];

pub fn run() -> Result<(), String> {
    let root = workspace_root();
    let venv = root.join("target/k8s-validate");
    let tool = venv.join("bin").join(VALIDATOR);
    install(&venv, &tool)?;
    for version in KUBERNETES {
        let out = succeed(
            Command::new(&tool)
                .args(["--strict", "--kubernetes-version", version, MANIFEST])
                .current_dir(&root),
        )?;
        // "INFO <file> passed for resource job/<name> against version 1.31"
        print!("{out}");
    }
    eprintln!(
        "xtask k8s: {MANIFEST} is a valid batch/v1 Job for Kubernetes {}",
        KUBERNETES.join(" and ")
    );
    Ok(())
}

/// Installs the pinned validator into `venv` unless it is there already.
fn install(venv: &Path, tool: &Path) -> Result<(), String> {
    let installed = Command::new(tool).arg("--version").output();
    if installed.is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == VALIDATOR_VERSION) {
        return Ok(());
    }
    let python =
        which("python3").ok_or("python3 not found: the schema validator is a Python package")?;
    let _ = std::fs::remove_dir_all(venv);
    show(Command::new(python).args(["-m", "venv"]).arg(venv))
        .map_err(|e| format!("{e}\n  (on Debian's own python3, apt-get install python3-venv)"))?;
    show(
        Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet", "--disable-pip-version-check"])
            .arg(format!("{VALIDATOR}=={VALIDATOR_VERSION}")),
    )
}
