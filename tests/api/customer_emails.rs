//! customer_emails API tests (in progress).
