//! Shared by the report tests: a tiny design to run (`counter`,
//! `checks`), a harness that runs it into sim-core's result types
//! (`harness`), the inputs tests render (`fixtures`), compact views of
//! rendered pages for snapshots (`summary`), and headless Chromium
//! (`browser`).

#![allow(dead_code)] // each test file uses a different part

pub mod browser;
pub mod checks;
pub mod counter;
pub mod fixtures;
pub mod harness;
pub mod summary;
