//! `dsim`: the command line. Parses arguments (each verb's argument struct
//! lives with the verb, in `scenarios::commands`), runs the verb, and
//! prints its failure, if any, in this one place.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use scenarios::Exit;
use scenarios::commands::{
    Failure, check, hunt, lincheck, math, merge, record, replay, report, run, shrink, sweep,
};

const EXIT_CODES: &str = "\
Exit codes (every command):
  0  the expected outcome (for lincheck: linearizable)
  1  an unexpected outcome: a violation a passing scenario did not expect,
     a broken variant no longer caught, non-determinism, a changed golden
     digest (lincheck: not linearizable)
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
    Run(run::RunArgs),
    Sweep(sweep::SweepArgs),
    Hunt(hunt::HuntArgs),
    Record(record::RecordArgs),
    Shrink(shrink::ShrinkArgs),
    Merge(merge::MergeArgs),
    Replay(replay::ReplayArgs),
    Report(report::ReportArgs),
    Lincheck(lincheck::LincheckArgs),
    Check(check::CheckArgs),
    Math(math::MathArgs),
}

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

/// A sweep builds and drops a whole simulation for every seed. glibc's
/// allocator hands a thread's freed memory back to the kernel whenever
/// more than 128 KiB of it sits at the top of the thread's heap, so each
/// short run faulted its pages in again: `register/correct.ron` took
/// 56,000 page faults over 4,000 seeds, an eighth of its time in the
/// kernel. Keeping up to 256 MiB of freed memory for reuse ends that, and
/// the peak, what a machine must have, barely moves. Setting the trim
/// threshold fixes the size above which a block gets its own mapping
/// too (it would otherwise adapt), so that is set to its largest value.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn keep_freed_memory() {
    // SAFETY: `mallopt` only sets the allocator's parameters, and runs
    // before any other thread exists. A refused value (it returns 0)
    // leaves glibc's default, which is correct, only slower.
    unsafe {
        libc::mallopt(libc::M_TRIM_THRESHOLD, 256 << 20);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn keep_freed_memory() {}

fn main() -> ExitCode {
    keep_freed_memory();
    let cli = Cli::parse();
    let out = &mut std::io::stdout().lock();
    let outcome = match cli.command {
        None => check::check(&library(), 0, false, out),
        Some(Command::Run(args)) => run::run(&args, out),
        Some(Command::Sweep(args)) => sweep::sweep(&args, out),
        Some(Command::Hunt(args)) => hunt::hunt(&args, out),
        Some(Command::Record(args)) => record::record(&args, out),
        Some(Command::Shrink(args)) => shrink::shrink(&args, out),
        Some(Command::Merge(args)) => merge::merge_files(&args, out),
        Some(Command::Replay(args)) => replay::replay(&args, out),
        Some(Command::Report(args)) => report::report(&args, out),
        Some(Command::Lincheck(args)) => lincheck::lincheck(&args, out),
        Some(Command::Math(args)) => math::math(&args, out),
        Some(Command::Check(args)) => {
            let dir = args.dir.clone().unwrap_or_else(library);
            if dir.extension().is_some_and(|e| e == "jsonl") {
                scenarios::corpus::replay_corpus(&dir, out)
            } else {
                check::check(&dir, args.jobs, args.bless, out)
            }
        }
    };
    match outcome {
        Ok(exit) => ExitCode::from(exit.code()),
        // A closed pipe (`dsim replay ... | head`) is not an error.
        Err(Failure::Output(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(Failure::Scenario(diagnostic)) => {
            eprintln!("{}", diagnostic.render());
            ExitCode::from(Exit::BadInput.code())
        }
        Err(failure) => {
            eprintln!("error: {failure}");
            ExitCode::from(Exit::BadInput.code())
        }
    }
}
