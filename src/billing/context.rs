//! What a billing run reads once instead of once per customer: the tenant's invoice facts
//! (tax settings, time zone, seller, tax groups, the customer settings it reads), its locale
//! and zero-invoice setting, and the price plans and billing groups its items use. A run bills
//! with the catalogue and settings as they stood when it started; a change made during a run
//! applies from the next run.

use super::events::Events;
use crate::domain::settings;
use crate::error::{ApiError, ApiResult};
use crate::resources::billing_groups::align::Rule;
use crate::resources::invoices::facts::Facts;
use crate::resources::price_plans::model::Terms;
use crate::resources::units::model::Locale;
use crate::resources::{billing_groups, price_plans, units};
use chrono::NaiveDate;
use rusqlite::Connection;
use std::collections::HashMap;
use std::path::Path;

/// One run's identity and its reads, filled as customers need them.
pub struct RunContext {
    pub tenant: String,
    /// The billing date: everything due up to it is billed.
    pub date: NaiveDate,
    /// `date` as stored (YYYY-MM-DD), formatted once.
    pub day: String,
    /// The `billing_runs` row.
    pub id: String,
    pub facts: Facts,
    pub locale: Locale,
    /// `billing.generateZeroInvoices`.
    pub zero_invoices: bool,
    /// The outbox events of the batch being billed.
    pub events: Events,
    pub catalogue: Catalogue,
}

/// The price plans and billing groups a run's items use, each read once.
#[derive(Default)]
pub struct Catalogue {
    plans: HashMap<String, Terms>,
    groups: HashMap<String, Rule>,
}

impl RunContext {
    pub fn new(
        (db_path, conn): (&Path, &Connection),
        tenant: &str,
        date: NaiveDate,
        id: &str,
        dry_run: bool,
    ) -> ApiResult<RunContext> {
        let locale = units::store::locale(conn, tenant, None)?;
        Ok(RunContext {
            tenant: tenant.to_string(),
            date,
            day: date.to_string(),
            id: id.to_string(),
            facts: Facts::for_run(),
            events: Events::new(db_path, tenant, locale.clone(), !dry_run)?,
            locale,
            zero_invoices: settings::get(conn, tenant, "billing", "generateZeroInvoices")?
                .as_bool()
                .unwrap_or(false),
            catalogue: Catalogue::default(),
        })
    }
}

impl Catalogue {
    /// The terms of a price plan.
    pub fn terms(&mut self, conn: &Connection, tenant: &str, plan: &str) -> ApiResult<&Terms> {
        if !self.plans.contains_key(plan) {
            let terms = price_plans::store::get(conn, tenant, plan)?.terms;
            self.plans.insert(plan.to_string(), terms);
        }
        Ok(&self.plans[plan])
    }

    /// The alignment rule of a billing group.
    pub fn group_rule(&mut self, conn: &Connection, tenant: &str, group: &str) -> ApiResult<Rule> {
        if let Some(r) = self.groups.get(group) {
            return Ok(*r);
        }
        let rule = billing_groups::store::get(conn, tenant, group)?
            .rule()
            .ok_or_else(|| ApiError::Internal(format!("billing group {group}: bad rule")))?;
        self.groups.insert(group.to_string(), rule);
        Ok(rule)
    }
}
