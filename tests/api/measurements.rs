//! measurements API tests (in progress).
