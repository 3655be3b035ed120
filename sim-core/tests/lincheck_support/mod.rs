//! Builders shared by the linearizability checker's tests: a `Script` to
//! write a history by hand, histories produced by a real sequential
//! execution (`executed`), for properties and for the search's limits,
//! and issue #8's history whose key 0 makes the search explode (`hard`).

// Each test file uses only part of this module.
#![allow(dead_code)]

pub mod executed;
pub mod hard;
pub mod script;
