//! polycap's one integration-test binary; modules mirror src/.

mod base;
mod cli;
mod figures;
mod io;
mod spec_labels;
mod theory;
mod training;
mod verify;

/// The proptest configuration of every property test: `cases` cases, and failure seeds kept
/// beside the test file (`tests/<room>/<file>.regressions`) rather than in a top-level folder.
pub fn prop_config(cases: u32) -> proptest::test_runner::Config {
    proptest::test_runner::Config {
        cases,
        failure_persistence: Some(Box::new(
            proptest::test_runner::FileFailurePersistence::WithSource("regressions"),
        )),
        ..proptest::test_runner::Config::default()
    }
}
