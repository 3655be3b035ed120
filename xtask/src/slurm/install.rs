//! Debian's Slurm and munge packages for `cargo xtask slurm`, installed
//! with apt when any program the run needs is missing, so the run works
//! from a clean clone on a fresh machine.

use std::process::Command;

use crate::command::{is_root, show, which};

/// What the run needs, and the Debian packages that bring it.
const PROGRAMS: [&str; 11] = [
    "munged",
    "mungekey",
    "munge",
    "unmunge",
    "slurmctld",
    "slurmd",
    "sbatch",
    "squeue",
    "scontrol",
    "scancel",
    "sinfo",
];
const PACKAGES: [&str; 4] = ["munge", "slurmctld", "slurmd", "slurm-client"];

/// Installs Debian's Slurm and munge packages unless their programs are
/// all there already.
pub fn install_if_missing() -> Result<(), String> {
    let missing: Vec<&str> = PROGRAMS
        .into_iter()
        .filter(|p| which(p).is_none())
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let wanted = PACKAGES.join(" ");
    if !is_root() || which("apt-get").is_none() {
        return Err(format!(
            "{} not found; installing them needs root and apt-get (Debian): apt-get install {wanted}",
            missing.join(", ")
        ));
    }
    eprintln!("xtask slurm: installing Debian's {wanted}");
    show(Command::new("apt-get").arg("update"))?;
    show(
        Command::new("apt-get")
            .args(["install", "-y", "--no-install-recommends"])
            .args(PACKAGES)
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )?;
    match PROGRAMS.into_iter().find(|p| which(p).is_none()) {
        Some(p) => Err(format!("`{p}` is still missing after installing {wanted}")),
        None => Ok(()),
    }
}
