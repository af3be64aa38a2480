//! roles API tests (in progress).
