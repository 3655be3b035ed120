//! The designs under test. Filled by the model issues.
