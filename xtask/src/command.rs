//! Running other programs for the tasks that drive real tools (Slurm,
//! munge, apt, pip): every failure says which program, with what, and what
//! it printed, so a broken environment reads as a sentence.

use std::path::PathBuf;
use std::process::{Command, Output};

/// Runs `command` to completion, capturing its output. Only a program that
/// cannot be started is an error here; the caller judges the exit status.
pub fn output(command: &mut Command) -> Result<Output, String> {
    command
        .output()
        .map_err(|e| format!("cannot run `{}`: {e}", describe(command)))
}

/// Runs `command`; its standard output if it exits 0, else an error with
/// its standard error.
pub fn succeed(command: &mut Command) -> Result<String, String> {
    let out = output(command)?;
    if out.status.success() {
        return Ok(String::from_utf8_lossy(&out.stdout).into_owned());
    }
    Err(format!(
        "`{}` failed ({}): {}{}",
        describe(command),
        out.status,
        String::from_utf8_lossy(&out.stderr).trim(),
        String::from_utf8_lossy(&out.stdout).trim()
    ))
}

/// Runs `command` with its output shown (long installs), failing unless it
/// exits 0.
pub fn show(command: &mut Command) -> Result<(), String> {
    eprintln!("$ {}", describe(command));
    let status = command
        .status()
        .map_err(|e| format!("cannot run `{}`: {e}", describe(command)))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{}` failed ({status})", describe(command)))
    }
}

/// The program's path on `PATH`, or in the sbin folders where Debian puts
/// daemons (not always on a non-login `PATH`).
pub fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin"].map(PathBuf::from))
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

/// Is this process root? Slurm's daemons and apt need it.
pub fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|status| {
        status
            .lines()
            .find_map(|l| l.strip_prefix("Uid:"))
            .and_then(|ids| ids.split_whitespace().next().map(|uid| uid == "0"))
            .unwrap_or(false)
    })
}

/// `program arg...`, for messages.
pub fn describe(command: &Command) -> String {
    let mut words = vec![command.get_program().to_string_lossy().into_owned()];
    words.extend(command.get_args().map(|a| a.to_string_lossy().into_owned()));
    words.join(" ")
}
