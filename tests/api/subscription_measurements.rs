//! subscription_measurements API tests (in progress).
