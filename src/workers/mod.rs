//! Background work in the server process: the daily billing scheduler (webhook and mail delivery
//! come with their capabilities).

pub mod scheduler;
