//! Regressions: output files, atomic commits, the CLI under faults.
