//! tax_groups API tests (in progress).
