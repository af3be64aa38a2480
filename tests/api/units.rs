//! units API tests (in progress).
