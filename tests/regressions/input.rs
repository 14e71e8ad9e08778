//! Regressions: scenario input, validation and error locations.
