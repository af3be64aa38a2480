//! products API tests (in progress).
