//! coupons API tests (in progress).
