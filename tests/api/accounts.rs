//! accounts API tests (in progress).
