//! customer_addresses API tests (in progress).
