//! Pure business rules shared by resources: time, validation, numbering, settings, permissions.

pub mod custom_fields;
pub mod discount;
pub mod exact;
pub mod ids;
pub mod money;
pub mod numbering;
pub mod outbox;
pub mod period;
pub mod permissions;
pub mod pricing;
pub mod settings;
pub mod tax;
pub mod time;
pub mod validate;
