//! billing_groups API tests (in progress).
