//! `dsim`: the command line. Parses arguments and hands each verb to
//! `scenarios::commands`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use scenarios::Exit;
use scenarios::commands::{check, grid, lincheck, merge, replay, report, run, sweep};
use scenarios::sweep::{Shard, parse_seed_range};

const EXIT_CODES: &str = "\
Exit codes (every command):
  0  the expected outcome (for lincheck: linearizable)
  1  an unexpected outcome: a violation a passing scenario did not expect,
     a broken variant no longer caught, non-determinism (lincheck: not linearizable)
  2  bad input: a malformed or invalid file or argument (with file, line and column)
  3  lincheck only: no verdict within --time-limit or --memory-limit

With no command, dsim checks the built-in scenario library.";

#[derive(Parser)]
#[command(name = "dsim", version, about = "A deterministic simulator for distributed-system designs", after_help = EXIT_CODES)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run one seed and explain the result.
    Run {
        file: PathBuf,
        /// The seed (default: the scenario's first).
        #[arg(long)]
        seed: Option<u64>,
        /// Print the seed's JSON line instead of the summary.
        #[arg(long)]
        json: bool,
        /// Also write the run's HTML report into this folder.
        #[arg(long)]
        report: Option<PathBuf>,
    },
    /// Run many seeds on every core; JSON lines out, failures grouped.
    Sweep {
        file: PathBuf,
        /// Seed range A..B, B exclusive (default: the scenario's seeds).
        #[arg(long, value_parser = parse_seed_range)]
        seeds: Option<std::ops::Range<u64>>,
        /// Worker threads (default: every core).
        #[arg(long, default_value_t = 0)]
        jobs: usize,
        /// Run only shard K of N (0-based), for fan-out over machines.
        #[arg(long, value_parser = Shard::parse, default_value = "0/1")]
        shard: Shard,
        /// Write one JSON line per seed (and a trailer) here.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Also write the sweep's HTML report into this folder.
        #[arg(long)]
        report: Option<PathBuf>,
        /// Design-space sweep: name=a..=b,... over model parameters (e.g. replicas=3..=5,read_quorum=1..=3).
        #[arg(long, value_parser = grid::parse_grid)]
        grid: Option<grid::Grid>,
    },
    /// Merge sweep shard files into the unsharded output; failures summarised as by sweep.
    Merge {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Write here instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Also write the sweep's HTML report into this folder.
        #[arg(long)]
        report: Option<PathBuf>,
    },
    /// Re-run one seed and print its trace.
    Replay {
        file: PathBuf,
        #[arg(long)]
        seed: u64,
        /// First engine event to show.
        #[arg(long)]
        from: Option<u64>,
        /// Last engine event to show.
        #[arg(long)]
        to: Option<u64>,
        /// JSON lines instead of readable lines.
        #[arg(long)]
        json: bool,
        /// Write here instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Write an HTML report: of one seed (FILE.ron) or of a sweep's output (RESULTS.jsonl).
    Report {
        input: PathBuf,
        /// For a scenario: the seed (default: its first).
        #[arg(long)]
        seed: Option<u64>,
        /// For a sweep output: the scenario it came from (default: the one its trailer names).
        #[arg(long)]
        scenario: Option<PathBuf>,
        /// The HTML file to write (default: named after the scenario).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Check a history file (JSON lines) for linearizability.
    Lincheck {
        file: PathBuf,
        /// The sequential specification.
        #[arg(long, value_enum)]
        model: lincheck::LinModel,
        /// The register's initial value, as JSON (default: null, absent).
        #[arg(long)]
        initial: Option<String>,
        /// Give up with exit code 3 after this many seconds.
        #[arg(long, default_value_t = 60.0, value_parser = parse_seconds)]
        time_limit: f64,
        /// Give up with exit code 3 once the search holds this many MB
        /// (2^20 bytes), by its own count.
        #[arg(long, value_name = "MB", default_value_t = 1024, value_parser = parse_megabytes)]
        memory_limit: u64,
    },
    /// Check every scenario under DIR against its expected outcome (each seed run twice) and its golden digests.
    Check {
        /// Default: the built-in scenario library.
        dir: Option<PathBuf>,
        /// Worker threads (default: every core).
        #[arg(long, default_value_t = 0)]
        jobs: usize,
        /// Pin the digests seen as each folder's golden digests (after an intended change of runs).
        #[arg(long)]
        bless: bool,
    },
}

fn parse_seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(s) if s.is_finite() && s > 0.0 && s < 1e9 => Ok(s),
        _ => Err(format!("`{text}` is not a positive number of seconds")),
    }
}

/// Whole megabytes, up to 16 TiB: far beyond any machine, yet the byte
/// count cannot overflow.
fn parse_megabytes(text: &str) -> Result<u64, String> {
    match text.parse::<u64>() {
        Ok(mb) if (1..=MEGABYTES_MAX).contains(&mb) => Ok(mb),
        _ => Err(format!(
            "`{text}` is not a whole number of megabytes from 1 to {MEGABYTES_MAX}"
        )),
    }
}

const MEGABYTES_MAX: u64 = 1 << 24;

/// The scenario library shipped in this repository, relative to the
/// current folder when it is inside it (shorter lines, copyable commands).
fn library() -> PathBuf {
    let library = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let relative = std::env::current_dir()
        .ok()
        .and_then(|cwd| library.strip_prefix(cwd).ok().map(PathBuf::from));
    match relative {
        Some(path) if !path.as_os_str().is_empty() => path,
        _ => library,
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut stdout = std::io::stdout().lock();
    let result = match cli.command {
        None => check::check(&library(), 0, false, &mut stdout),
        Some(Command::Run {
            file,
            seed,
            json,
            report,
        }) => {
            let args = run::RunArgs {
                file: &file,
                seed,
                json,
                report,
            };
            run::run(&args, &mut stdout)
        }
        Some(Command::Sweep {
            file,
            seeds,
            jobs,
            shard,
            out,
            report,
            grid,
        }) => {
            let args = sweep::SweepArgs {
                file: &file,
                seeds,
                jobs,
                shard,
                out,
                report,
                grid,
            };
            sweep::sweep(&args, &mut stdout)
        }
        Some(Command::Merge { files, out, report }) => {
            let args = merge::MergeArgs {
                files: &files,
                out: out.as_deref(),
                report: report.as_deref(),
            };
            merge::merge_files(&args, &mut stdout)
        }
        Some(Command::Replay {
            file,
            seed,
            from,
            to,
            json,
            out,
        }) => {
            let args = replay::ReplayArgs {
                file: &file,
                seed,
                from,
                to,
                json,
                out,
            };
            replay::replay(&args, &mut stdout)
        }
        Some(Command::Report {
            input,
            seed,
            scenario,
            out,
        }) => {
            let args = report::ReportArgs {
                input: &input,
                seed,
                scenario,
                out,
            };
            report::report(&args, &mut stdout)
        }
        Some(Command::Lincheck {
            file,
            model,
            initial,
            time_limit,
            memory_limit,
        }) => {
            let time_limit = std::time::Duration::from_secs_f64(time_limit);
            let args = lincheck::LincheckArgs {
                file: &file,
                model,
                initial,
                time_limit,
                memory_limit_mb: memory_limit,
            };
            lincheck::lincheck(&args, &mut stdout)
        }
        Some(Command::Check { dir, jobs, bless }) => {
            check::check(&dir.unwrap_or_else(library), jobs, bless, &mut stdout)
        }
    };
    match result {
        Ok(exit) => ExitCode::from(exit.code()),
        // A closed pipe (`dsim replay ... | head`) is not an error worth a panic.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(Exit::BadInput.code())
        }
    }
}
