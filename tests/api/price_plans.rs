//! price_plans API tests (in progress).
