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

fn main() -> ExitCode {
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
