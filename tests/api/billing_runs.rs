//! billing_runs API tests (in progress).
