//! `dsim math birthday --bits B --p P [--rate R]`: the birthday math of
//! random IDs (`models::kgs::birthday`). For a space of 2^B values and a
//! target chance P of at least one collision: the exact smallest number of
//! random draws that reaches P, the two approximations the guide weighs,
//! and how long each lasts at R IDs per second.

use std::io::Write;

use models::kgs::birthday::{Birthday, EXACT_BITS_MAX, collision_probability, lasting};

use crate::Exit;
use crate::commands::Outcome;

/// The math behind a design's numbers.
#[derive(Debug, clap::Args)]
pub struct MathArgs {
    #[command(subcommand)]
    pub question: Question,
}

#[derive(Debug, clap::Subcommand)]
pub enum Question {
    /// How many random IDs from 2^BITS values reach a chance P of a collision.
    Birthday {
        /// The space: 2^bits values (1 to 128; exact up to 64).
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=128))]
        bits: u32,
        /// The chance of at least one collision, in (0, 1).
        #[arg(long, value_parser = parse_probability)]
        p: f64,
        /// IDs drawn per second, to say how long the draws last.
        #[arg(long, default_value_t = 1_000.0, value_parser = parse_rate)]
        rate: f64,
    },
}

fn parse_probability(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(p) if p > 0.0 && p < 1.0 => Ok(p),
        _ => Err(format!(
            "`{text}` is not a probability strictly between 0 and 1"
        )),
    }
}

fn parse_rate(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(r) if r.is_finite() && r > 0.0 => Ok(r),
        _ => Err(format!("`{text}` is not a positive rate")),
    }
}

pub fn math(args: &MathArgs, out: &mut dyn Write) -> Outcome {
    let Question::Birthday { bits, p, rate } = args.question;
    let b = Birthday::new(bits, p);
    writeln!(
        out,
        "space     2^{bits} values; target chance of a collision {p}"
    )?;
    match b.exact {
        Some(k) => {
            let reached = collision_probability(bits, k);
            let before = collision_probability(bits, k - 1);
            writeln!(
                out,
                "exact     {k} draws (chance {reached:.10e}; {} draws: {before:.10e}), lasting {} at {rate} IDs/s",
                k - 1,
                lasting(k as f64, rate)
            )?;
        }
        None => writeln!(
            out,
            "exact     not computed beyond 2^{EXACT_BITS_MAX} values (it needs more than double precision)"
        )?,
    }
    for (name, draws) in [
        ("√(2·d·ln(1/(1−p)))", b.approx_log),
        ("√(2·d·p)", b.approx_linear),
    ] {
        let off = b
            .exact
            .map(|k| {
                format!(
                    ", {:+.4}% from exact",
                    100.0 * (draws - k as f64) / k as f64
                )
            })
            .unwrap_or_default();
        writeln!(
            out,
            "approx    {name} = {draws:.1} draws{off}, lasting {}",
            lasting(draws, rate)
        )?;
    }
    Ok(Exit::Expected)
}
