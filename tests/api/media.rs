//! media API tests (in progress).
