//! customer_settings API tests (in progress).
