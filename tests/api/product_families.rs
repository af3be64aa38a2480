//! product_families API tests (in progress).
