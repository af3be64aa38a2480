//! subscription_items API tests (in progress).
