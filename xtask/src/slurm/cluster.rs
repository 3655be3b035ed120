//! A one-node Slurm on this machine for `cargo xtask slurm`: a
//! configuration written for this host
//! (its name, its CPUs, two free ports), and munged, slurmctld and slurmd
//! started in the foreground as children of the xtask. Their key, socket,
//! state, pids and logs live in one folder; nothing else is read or
//! written (no /etc/slurm, no system munge socket), so a Slurm or munge the
//! machine already runs is left alone. `Cluster` stops exactly the daemons
//! it started, by pid, when stopped or dropped; a run that died leaves its
//! pids on record, and the next start stops those first.

// Waiting for daemons to come up is wall-clock time, outside any simulation.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::command::{describe, succeed, which};

/// The daemons' pids, one `name pid` a line, for a later run to clean up.
const PID_RECORD: &str = "daemons.pids";

/// A running one-node cluster.
#[derive(Debug)]
pub struct Cluster {
    dir: PathBuf,
    conf: PathBuf,
    daemons: Vec<Daemon>,
}

#[derive(Debug)]
struct Daemon {
    name: &'static str,
    child: Child,
    log: PathBuf,
}

impl Cluster {
    /// Starts munged, slurmctld and slurmd with their state in `dir`
    /// (emptied first), and waits until the node takes jobs.
    pub fn start(dir: &Path) -> Result<Cluster, String> {
        lay_folder(dir)?;
        let munge = dir.join("munge");
        let socket = munge.join("munge.socket");
        let key = munge.join("munge.key");
        succeed(
            Command::new(which("mungekey").unwrap_or_default())
                .arg("--create")
                .arg("--keyfile")
                .arg(&key),
        )?;
        let conf = dir.join("slurm.conf");
        std::fs::write(&conf, configuration(dir, &socket)?)
            .map_err(|e| format!("cannot write {}: {e}", conf.display()))?;
        let mut cluster = Cluster {
            dir: dir.to_path_buf(),
            conf,
            daemons: Vec::new(),
        };
        cluster.spawn("munged", |c| {
            c.arg("--foreground")
                .arg(format!("--socket={}", socket.display()))
                .arg(format!("--key-file={}", key.display()))
                .arg(format!("--pid-file={}", munge.join("munged.pid").display()))
                .arg(format!(
                    "--seed-file={}",
                    munge.join("munged.seed").display()
                ))
                .arg(format!("--log-file={}", munge.join("munged.log").display()));
        })?;
        cluster.wait_for("munged to answer", Duration::from_secs(20), || {
            credential_round_trip(&socket)
        })?;
        let conf = cluster.conf.clone();
        cluster.spawn("slurmctld", |c| {
            c.arg("-D").arg("-f").arg(&conf);
        })?;
        cluster.spawn("slurmd", |c| {
            c.arg("-D").arg("-f").arg(&conf);
        })?;
        let mut sinfo = cluster.command("sinfo");
        sinfo.args(["-h", "-N", "-o", "%T"]);
        cluster.wait_for("the node to be idle", Duration::from_secs(60), || {
            let out = sinfo.output();
            out.is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "idle")
        })?;
        Ok(cluster)
    }

    /// A Slurm client command (`sbatch`, `squeue`, ...) for this cluster.
    pub fn command(&self, program: &str) -> Command {
        let mut command = Command::new(which(program).unwrap_or_else(|| program.into()));
        command.env("SLURM_CONF", &self.conf);
        command
    }

    /// The daemons' log files, for error messages.
    pub fn logs(&self) -> Vec<PathBuf> {
        let mut logs: Vec<PathBuf> = self.daemons.iter().map(|d| d.log.clone()).collect();
        logs.push(self.dir.join("munge/munged.log"));
        logs
    }

    /// Stops the daemons it started, newest first, by pid.
    pub fn stop(mut self) -> Result<(), String> {
        self.cancel_all_jobs();
        let mut errors = Vec::new();
        while let Some(mut daemon) = self.daemons.pop() {
            if let Err(e) = stop_child(&mut daemon.child) {
                errors.push(format!("{}: {e}", daemon.name));
            }
        }
        let _ = std::fs::remove_file(self.dir.join(PID_RECORD));
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors.join("; "))
        }
    }

    /// A run that failed half-way may leave tasks running; stopping
    /// slurmd alone would orphan them. Every job here is this run's: the
    /// cluster is private to it.
    fn cancel_all_jobs(&self) {
        let mut squeue = self.command("squeue");
        squeue.args(["-h", "-o", "%i"]);
        let pending = |squeue: &mut Command| {
            squeue
                .output()
                .is_ok_and(|o| !String::from_utf8_lossy(&o.stdout).trim().is_empty())
        };
        if !pending(&mut squeue) {
            return;
        }
        let _ = self.command("scancel").args(["--user", "root"]).output();
        // KillWait is 5 s: by then every task has had its SIGKILL.
        let started = Instant::now();
        while pending(&mut squeue) && started.elapsed() < Duration::from_secs(20) {
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    fn spawn(&mut self, name: &'static str, args: impl FnOnce(&mut Command)) -> Result<(), String> {
        let program = which(name).ok_or_else(|| format!("`{name}` is not installed"))?;
        let log = self.dir.join(format!("{name}.out"));
        let file =
            File::create(&log).map_err(|e| format!("cannot create {}: {e}", log.display()))?;
        let mut command = Command::new(program);
        args(&mut command);
        command
            .env("SLURM_CONF", &self.conf)
            .stdin(Stdio::null())
            .stdout(file.try_clone().map_err(|e| e.to_string())?)
            .stderr(file);
        let child = command
            .spawn()
            .map_err(|e| format!("cannot start `{}`: {e}", describe(&command)))?;
        let record = self.dir.join(PID_RECORD);
        let line = format!("{name} {}\n", child.id());
        let recorded = std::fs::read_to_string(&record).unwrap_or_default() + &line;
        self.daemons.push(Daemon { name, child, log });
        std::fs::write(&record, recorded)
            .map_err(|e| format!("cannot write {}: {e}", record.display()))
    }

    /// Polls `ready` until it holds; fails early, with the logs, if a
    /// daemon has exited.
    fn wait_for(
        &mut self,
        what: &str,
        limit: Duration,
        mut ready: impl FnMut() -> bool,
    ) -> Result<(), String> {
        let started = Instant::now();
        while !ready() {
            for daemon in &mut self.daemons {
                if let Ok(Some(status)) = daemon.child.try_wait() {
                    return Err(format!(
                        "{} exited ({status}) while waiting for {what}; see {}",
                        daemon.name,
                        self.dir.display()
                    ));
                }
            }
            if started.elapsed() > limit {
                return Err(format!(
                    "gave up waiting for {what} after {} s; logs: {:?}",
                    limit.as_secs(),
                    self.logs()
                ));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        Ok(())
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        while let Some(mut daemon) = self.daemons.pop() {
            let _ = stop_child(&mut daemon.child);
        }
    }
}

/// Empties `dir` (after stopping what an earlier run left running in it)
/// and makes the folders the daemons need.
fn lay_folder(dir: &Path) -> Result<(), String> {
    stop_recorded_daemons(dir)?;
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(|e| format!("cannot empty {}: {e}", dir.display()))?;
    }
    let socket = dir.join("munge/munge.socket");
    if socket.as_os_str().len() > 100 {
        return Err(format!(
            "{} is too long for a Unix socket: clone the repository to a shorter path",
            socket.display()
        ));
    }
    // munged refuses a socket folder others cannot enter, and a key
    // folder others can write.
    for folder in ["", "munge", "state", "spool"].map(|f| dir.join(f)) {
        std::fs::create_dir_all(&folder)
            .map_err(|e| format!("cannot create {}: {e}", folder.display()))?;
        set_mode(&folder, 0o755)?;
    }
    Ok(())
}

/// slurm.conf for one node: this host, its CPUs as slurmd counts them,
/// two free ports, everything under `dir`.
fn configuration(dir: &Path, socket: &Path) -> Result<String, String> {
    let host = succeed(Command::new("hostname").arg("-s"))?
        .trim()
        .to_owned();
    // `slurmd -C` prints this node's line of slurm.conf, as slurmd sees it.
    let hardware = succeed(Command::new(which("slurmd").unwrap_or_default()).arg("-C"))?;
    let node = hardware
        .lines()
        .next()
        .and_then(|l| l.split_once(' '))
        .map(|(_, rest)| rest.to_owned())
        .ok_or_else(|| format!("unexpected `slurmd -C` output: {hardware}"))?;
    let (controller_port, node_port) = (free_port()?, free_port()?);
    let d = dir.display();
    Ok(format!(
        "# Written by cargo xtask slurm; removed when it finishes.
ClusterName=dsim-xtask
SlurmctldHost={host}(127.0.0.1)
SlurmctldPort={controller_port}
SlurmdPort={node_port}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={socket}
StateSaveLocation={d}/state
SlurmdSpoolDir={d}/spool
SlurmctldPidFile={d}/slurmctld.pid
SlurmdPidFile={d}/slurmd.pid
SlurmctldLogFile={d}/slurmctld.log
SlurmdLogFile={d}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MailProg=/bin/true
ReturnToService=2
# A cancelled task gets SIGKILL 5 s after SIGTERM; finished jobs stay
# visible to scontrol for 10 minutes, long enough to check their states.
KillWait=5
MinJobAge=600
NodeName={host} NodeAddr=127.0.0.1 {node} State=UNKNOWN
PartitionName=dsim Nodes=ALL Default=YES MaxTime=INFINITE State=UP
",
        socket = socket.display()
    ))
}

fn free_port() -> Result<u16, String> {
    let listener =
        std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free port: {e}"))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| e.to_string())
}

/// Does munged encode a credential and decode it again?
fn credential_round_trip(socket: &Path) -> bool {
    let credential = Command::new(which("munge").unwrap_or_default())
        .arg("-n")
        .arg("-S")
        .arg(socket)
        .output()
        .map(|o| o.stdout)
        .unwrap_or_default();
    if credential.is_empty() {
        return false;
    }
    let mut decode = Command::new(which("unmunge").unwrap_or_default());
    decode
        .arg("-S")
        .arg(socket)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let Ok(mut child) = decode.spawn() else {
        return false;
    };
    if let Some(mut stdin) = child.stdin.take() {
        let _ = std::io::Write::write_all(&mut stdin, &credential);
    }
    child.wait().is_ok_and(|s| s.success())
}

/// SIGTERM, then SIGKILL if the daemon is still there after 15 s.
fn stop_child(child: &mut Child) -> Result<(), String> {
    if child.try_wait().map_err(|e| e.to_string())?.is_some() {
        return Ok(());
    }
    signal(child.id(), "TERM")?;
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(15) {
        if child.try_wait().map_err(|e| e.to_string())?.is_some() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    child.kill().map_err(|e| e.to_string())?;
    child.wait().map(|_| ()).map_err(|e| e.to_string())
}

fn signal(pid: u32, name: &str) -> Result<(), String> {
    succeed(
        Command::new("kill")
            .arg(format!("-{name}"))
            .arg(pid.to_string()),
    )
    .map(|_| ())
}

/// Stops the daemons an earlier run recorded in `dir` and left running:
/// only a live pid whose command line names `dir`, so a recycled pid is
/// never touched.
fn stop_recorded_daemons(dir: &Path) -> Result<(), String> {
    let Ok(record) = std::fs::read_to_string(dir.join(PID_RECORD)) else {
        return Ok(());
    };
    let mark = dir.display().to_string();
    for pid in record.lines().filter_map(|l| l.split_whitespace().nth(1)) {
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        if String::from_utf8_lossy(&cmdline).contains(&mark) {
            eprintln!("xtask slurm: stopping pid {pid}, left running by an earlier run");
            signal(
                pid.parse()
                    .map_err(|_| format!("bad pid `{pid}` in {PID_RECORD}"))?,
                "TERM",
            )?;
            let started = Instant::now();
            while Path::new(&format!("/proc/{pid}")).exists()
                && started.elapsed() < Duration::from_secs(15)
            {
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
    Ok(())
}

fn set_mode(path: &Path, mode: u32) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|e| format!("cannot chmod {}: {e}", path.display()))
}
