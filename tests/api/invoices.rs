//! invoices API tests (in progress).
