//! Regressions: the simulation core (stack, network, workloads, counters).
