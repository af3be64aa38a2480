//! subscriptions API tests (in progress).
