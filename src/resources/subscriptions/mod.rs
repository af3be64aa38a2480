//! Subscriptions (reference 08 §1): create (draft), list, read, update, and the lifecycle
//! actions in `actions.rs`. Every state change records its `subscription.*` outbox event in the
//! request's transaction. The billing engine reads items through `store::due_items`.
//!
//! Decisions (kontor):
//! - Dates are tenant-local calendar dates; date-time inputs are reduced to their local date.
//! - `contractEnd` and an item's `endDate` are the LAST COVERED DAY (inclusive).
//! - `trialEndsOn` is the first billable day: `billingStart + trialDays` (14 days from 1 Jan
//!   gives 15 Jan; 1–14 Jan are free). `trialDays` defaults to the largest `trialDays` of the
//!   items' plans with `applyTrial`; items whose plan has `applyTrial` false get no trial.
//! - Billing is scheduled only from activation on: a draft has no `nextBillingDate`. Activation
//!   takes all items or only the ones named in `items`; the rest wait (`activate.rs`).
//! - A coupon is redeemed once per subscription and applied to every item it covers.
//! - Payment methods have no table yet: `paymentMethod` ids are stored as given.

mod actions;
mod activate;
mod contact;
/// The cancellation rules, shared with `subscription_items`.
pub(crate) mod actions_api {
    pub(crate) use super::actions::{cancel_body, cancel_item, item_end, terminate_item};
}
pub mod input;
pub mod model;
mod products;
pub mod store;
pub mod terms;
pub mod view;

use crate::domain::discount::{check_redemption, ItemAmount};
use crate::domain::{ids::new_id, numbering, outbox, settings, time};
use crate::error::{ApiError, ApiResult};
use crate::http::list::{order_by, Filter, Page};
use crate::http::{get, patch, post, put, Access, Ctx, Reply, Route};
use crate::resources::{coupons, price_plans};
use chrono::Days;
use input::Create;
use model::{fmt_day, ItemRow, SubRow, STATUSES};
use rusqlite::OptionalExtension;
use rust_decimal::Decimal;

pub(crate) const READ: Access = Access::Scope("subscription:read");
pub(crate) const WRITE: Access = Access::Scope("subscription:write");

pub fn routes() -> Vec<Route> {
    let mut r = vec![
        post(
            "/subscriptions",
            WRITE,
            "Create a draft subscription",
            create,
        ),
        get("/subscriptions", READ, "List subscriptions", list),
        get("/subscriptions/{id}", READ, "One subscription", read),
        patch(
            "/subscriptions/{id}",
            WRITE,
            "Update a subscription (merge patch)",
            update,
        ),
        put(
            "/subscriptions/{id}",
            WRITE,
            "Update a subscription's writable fields",
            update,
        ),
        post(
            "/subscriptions/{id}/products",
            WRITE,
            "Order products: add items",
            products::order,
        ),
    ];
    r.extend(actions::routes());
    r
}

fn read(ctx: &Ctx) -> ApiResult<Reply> {
    Reply::ok(&view::load(ctx.tx, ctx.tenant(), ctx.param("id"))?)
}

/// Filters and sorting of 08 §1.2.
fn list(ctx: &Ctx) -> ApiResult<Reply> {
    let (tx, tenant, q) = (ctx.tx, ctx.tenant(), &ctx.query);
    let page = Page::from_query(q)?;
    let mut f = Filter::for_tenant("s.tenant_id", tenant);
    f.eq(q, "customer", "s.customer_id");
    f.eq(q, "id", "s.id");
    f.eq(q, "number", "s.number");
    f.eq_enum(q, "status", "s.status", STATUSES)?;
    let products = q.all("items.product.id");
    if !products.is_empty() {
        let ids = serde_json::to_string(&products)?;
        f.push(
            "EXISTS (SELECT 1 FROM subscription_items i WHERE i.subscription_id = s.id
                 AND i.product_id IN (SELECT value FROM json_each({})))",
            ids,
        );
    }
    // kontor has no partners and no payment-method records yet: nothing matches these filters
    // (an empty answer, not a silently ignored filter).
    if !q.all("partner").is_empty() || !q.all("paymentMethod.type").is_empty() {
        f.raw("0");
    }
    if let Some(text) = q.get("search").filter(|s| !s.is_empty()) {
        let like = format!(
            "%{}%",
            text.replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        );
        f.push(
            "(s.number LIKE {} ESCAPE '\\' OR s.name LIKE {} ESCAPE '\\'
              OR s.external_id LIKE {} ESCAPE '\\' OR c.customer_number LIKE {} ESCAPE '\\'
              OR c.company_name LIKE {} ESCAPE '\\'
              OR (c.first_name || ' ' || c.last_name) LIKE {} ESCAPE '\\')",
            like,
        );
    }
    let order = order_by(
        q,
        &[
            ("activatedAt", "s.activated_at"),
            ("contractDetails.contractEnd", "s.contract_end"),
            ("createdAt", "s.created_at"),
            ("status", "s.status"),
            ("trialEndsOn", "s.trial_ends_on"),
        ],
        "s.created_at, s.id",
    )?;
    let (rows, total) = f.fetch_page(
        tx,
        "subscriptions s JOIN customers c ON c.id = s.customer_id",
        store::SUB_COLUMNS,
        &order,
        &page,
        store::sub_row,
    )?;
    let items = rows
        .into_iter()
        .map(|s| view::subscription(tx, tenant, s))
        .collect::<ApiResult<Vec<_>>>()?;
    Reply::ok(&page.envelope(&items, total))
}

/// A new item row for `sub` (pending, not scheduled: scheduling happens at activation).
pub(crate) fn new_item(
    sub: &SubRow,
    it: &input::NewItem,
    start: chrono::NaiveDate,
    billing_start: chrono::NaiveDate,
    trial: Option<chrono::NaiveDate>,
) -> ItemRow {
    let trial = trial.filter(|_| it.plan.terms.apply_trial);
    let anchor = trial.map_or(billing_start, |t| t.max(billing_start));
    ItemRow {
        id: new_id(),
        subscription_id: sub.id.clone(),
        customer_id: sub.customer_id.clone(),
        parent_id: None,
        kind: "product".into(),
        product_id: it.product_id.clone(),
        product_name: String::new(),
        price_plan_id: it.plan.id.clone(),
        billing_interval: it.plan.terms.billing_interval.map(|i| i.to_string()),
        pay_in_advance: it.plan.terms.pay_in_advance,
        name: None,
        description: None,
        further_information: None,
        quantity: it.quantity.to_string(),
        status: "pending".into(),
        start_date: fmt_day(start),
        billing_start: fmt_day(billing_start),
        trial_ends_on: trial.map(fmt_day),
        billing_anchor: fmt_day(anchor),
        next_period_start: None,
        next_billing_date: None,
        last_billed_from: None,
        last_billed_to: None,
        last_billed_at: None,
        end_date: None,
        end_date_before_cancel: None,
        periods: None,
        activated_at: None,
        cancelled_at: None,
        terminated_at: None,
        created_at: time::now(),
        updated_at: time::now(),
    }
}

fn create(ctx: &Ctx) -> ApiResult<Reply> {
    let (tx, tenant) = (ctx.tx, ctx.tenant());
    let tz = settings::time_zone(tx, tenant)?;
    let today = settings::today(tx, tenant)?;
    let c = Create::parse(tx, tenant, ctx.input()?, tz)?;
    let contract_start = c.contract_start.unwrap_or(today);
    let billing_start = c.billing_start.unwrap_or(contract_start);
    let plan_days = c
        .items
        .iter()
        .filter(|i| i.plan.terms.apply_trial)
        .map(|i| i64::from(i.plan.terms.trial_days))
        .max();
    // Ignored when no item's plan applies trials (08 §1.5 `trialDays`).
    let trial_days = plan_days.map(|d| c.trial_days.unwrap_or(d)).unwrap_or(0);
    let trial_ends_on = match u64::try_from(trial_days) {
        Ok(days) if days > 0 => Some(billing_start.checked_add_days(Days::new(days)).ok_or_else(
            || ApiError::invalid("trialDays", "The trial ends too late.", "out_of_range"),
        )?),
        _ => None,
    };
    let coupon = match &c.coupon_code {
        Some(code) => {
            let coupon = coupons::store::find_by_code(tx, tenant, code)?.ok_or_else(|| {
                ApiError::invalid(
                    "couponCode",
                    "This coupon code does not exist.",
                    "coupon_not_found",
                )
            })?;
            let terms = coupon.terms()?;
            let usage = coupons::store::usage(tx, tenant, &coupon.id, &c.customer_id)?;
            let amounts: Vec<ItemAmount> = c
                .items
                .iter()
                .map(|i| ItemAmount {
                    product_id: &i.product_id,
                    amount: Decimal::ZERO,
                    currency: i.plan.terms.currency.code,
                })
                .collect();
            check_redemption(
                &coupon.rules(),
                &terms,
                chrono::Utc::now(),
                usage,
                Some(&amounts),
            )
            .map_err(|r| ApiError::invalid("couponCode", r.message(), r.code()))?;
            Some((coupon, terms))
        }
        None => None,
    };
    let number = numbering::next(tx, tenant, "subscription", today, Some(&c.customer_number))?;
    let now = time::now();
    let sub = SubRow {
        id: new_id(),
        customer_id: c.customer_id.clone(),
        number,
        external_id: c.external_id,
        name: c.name,
        status: "draft".into(),
        billing_group_id: c.billing_group,
        currency_code: c
            .items
            .first()
            .map(|i| i.plan.terms.currency.code.to_string())
            .unwrap_or_default(),
        contract_start: fmt_day(contract_start),
        billing_start: fmt_day(billing_start),
        contract_end: c.contract_end.map(fmt_day),
        contract_end_before_cancel: None,
        trial_ends_on: trial_ends_on.map(fmt_day),
        terms: c.terms,
        payment_method_id: c.payment_method,
        invoice_address_id: c.invoice_address,
        po_number: c.po_number,
        custom_fields: serde_json::to_string(&c.custom_fields)?,
        activated_at: None,
        activation_date: None,
        cancelled_at: None,
        cancellation_date_type: None,
        cancellation_reason: None,
        terminated_at: None,
        paused_at: None,
        resumed_at: None,
        resume_mode: None,
        resume_next_billing_date: None,
        next_billing_date: None,
        last_billing_at: None,
        created_at: now.clone(),
        updated_at: now,
    };
    store::insert(tx, tenant, &sub)?;
    let mut rows = Vec::new();
    for it in &c.items {
        let mut row = new_item(
            &sub,
            it,
            it.start_date.unwrap_or(contract_start),
            it.billing_start.unwrap_or(billing_start),
            trial_ends_on,
        );
        row.end_date = sub.contract_end.clone();
        store::insert_item(tx, tenant, &row)?;
        price_plans::store::mark_in_use(tx, tenant, &it.plan.id)?;
        rows.push((row, it));
    }
    if let Some((coupon, terms)) = coupon {
        coupons::store::record_redemption(tx, tenant, &coupon.id, &sub.customer_id, Some(&sub.id))?;
        let remaining = terms.frequency.remaining(0);
        for (row, it) in &rows {
            let amount = ItemAmount {
                product_id: &it.product_id,
                amount: Decimal::ZERO,
                currency: it.plan.terms.currency.code,
            };
            if terms.matches(&amount) {
                store::insert_discount(tx, tenant, row, &coupon.id, remaining)?;
            }
        }
    }
    let view = view::load(tx, tenant, &sub.id)?;
    outbox::record(tx, tenant, "subscription.created", &sub.id, &view)?;
    Reply::created(&view)
}

const UPDATE_FIELDS: &[&str] = &[
    "name",
    "externalId",
    "poNumber",
    "customFields",
    "periods",
    "paymentMethod",
    "billingGroup",
    "contractStart",
    "billingStart",
    "contractEnd",
];

/// PATCH (merge patch) and PUT: the keys sent change. Terminated: 409. Contract dates and the
/// billing group shape the billing schedule, so they change only before activation (409).
fn update(ctx: &Ctx) -> ApiResult<Reply> {
    let (tx, tenant) = (ctx.tx, ctx.tenant());
    let mut sub = store::get(tx, tenant, ctx.param("id"))?;
    if sub.status == "terminated" {
        return Err(ApiError::Conflict(
            "A terminated subscription cannot be changed.".into(),
        ));
    }
    let tz = settings::time_zone(tx, tenant)?;
    let mut input = ctx.input()?;
    input.reject_unknown(UPDATE_FIELDS);
    let scheduling = [
        "billingGroup",
        "contractStart",
        "billingStart",
        "contractEnd",
    ];
    let draft = matches!(sub.status.as_str(), "draft" | "offer");
    if !draft && scheduling.iter().any(|k| input.has(k)) {
        return Err(ApiError::Conflict(
            "Contract dates and the billing group can only change before activation.".into(),
        ));
    }
    if let Some(v) = input::text(&mut input, "name", 255).patch() {
        sub.name = v;
    }
    if let Some(v) = input::text(&mut input, "externalId", 255).patch() {
        sub.external_id = v;
    }
    if let Some(v) = input::text(&mut input, "poNumber", 255).patch() {
        sub.po_number = v;
    }
    if let Some(v) = input::text(&mut input, "paymentMethod", 255).patch() {
        sub.payment_method_id = v;
    }
    if let Some(t) = input::terms(&mut input, "periods").patch() {
        sub.terms = t.unwrap_or_default();
    }
    if let Some(custom) = input.object("customFields").patch() {
        let custom = custom.unwrap_or_default();
        for v in crate::domain::custom_fields::validate(
            tx,
            tenant,
            crate::domain::custom_fields::Entity::Subscription,
            &custom,
        )? {
            let key = v.property_path.clone();
            input.violation(&key, &v.message, &v.code);
        }
        sub.custom_fields = serde_json::to_string(&custom)?;
    }
    if let Some(g) = input::text(&mut input, "billingGroup", 255).patch() {
        if let Some(group) = &g {
            let owner: Option<String> = tx
                .prepare_cached(
                    "SELECT customer_id FROM billing_groups WHERE tenant_id = ?1 AND id = ?2",
                )?
                .query_row([tenant, group.as_str()], |r| r.get(0))
                .optional()?;
            if owner.as_deref() != Some(sub.customer_id.as_str()) {
                input.violation(
                    "billingGroup",
                    "This billing group does not exist for the customer.",
                    "not_found",
                );
            }
        }
        sub.billing_group_id = g;
    }
    let dates = [
        input::date(&mut input, "contractStart", tz),
        input::date(&mut input, "billingStart", tz),
        input::date(&mut input, "contractEnd", tz),
    ];
    input.finish()?;
    let [cs, bs, ce] = dates;
    if let Some(d) = cs.value() {
        sub.contract_start = fmt_day(d);
    }
    if let Some(d) = bs.value() {
        // The trial keeps its length when the billing start moves.
        let shift = d - model::day(&sub.billing_start)?;
        if let Some(t) = &sub.trial_ends_on {
            sub.trial_ends_on = Some(fmt_day(model::day(t)? + shift));
        }
        sub.billing_start = fmt_day(d);
    }
    if let Some(d) = ce.patch() {
        sub.contract_end = d.map(fmt_day);
    }
    if sub
        .contract_end
        .as_ref()
        .is_some_and(|e| *e < sub.contract_start)
    {
        return Err(ApiError::invalid(
            "contractEnd",
            "The contract end must not lie before the contract start.",
            "before_start",
        ));
    }
    store::save(tx, tenant, &sub)?;
    if draft {
        contact::realign_draft_items(tx, tenant, &sub)?;
    }
    let view = view::load(tx, tenant, &sub.id)?;
    outbox::record(tx, tenant, "subscription.updated", &sub.id, &view)?;
    Reply::ok(&view)
}
