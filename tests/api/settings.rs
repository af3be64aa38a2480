//! settings API tests (in progress).
