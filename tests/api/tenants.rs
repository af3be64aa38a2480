//! tenants API tests (in progress).
