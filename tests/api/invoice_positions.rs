//! invoice_positions API tests (in progress).
