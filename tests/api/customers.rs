//! customers API tests (in progress).
