//! payments API tests (in progress).
