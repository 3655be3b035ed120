//! HTML reports from run and sweep results. Filled by the reports issue.
