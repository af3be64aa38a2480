//! invoice_corrections API tests (in progress).
