//! Black-box API tests: one binary, one module per resource, real HTTP against temp databases.

mod common;

mod api_tokens;
mod pipeline;
