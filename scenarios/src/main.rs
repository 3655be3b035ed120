//! The `dsim` command line. Filled by the scenarios issue.

fn main() {
    println!("dsim: the command line arrives with scenario files");
}
