//! custom_fields API tests (in progress).
