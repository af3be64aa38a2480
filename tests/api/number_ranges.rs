//! number_ranges API tests (in progress).
