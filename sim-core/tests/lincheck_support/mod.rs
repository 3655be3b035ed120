//! Builders shared by the linearizability checker's tests: a `Script` to
//! write a history by hand, and histories produced by a real sequential
//! execution (`executed`), for properties and for the search's limits.

// Each test file uses only part of this module.
#![allow(dead_code)]

pub mod executed;
pub mod hard;
pub mod script;
