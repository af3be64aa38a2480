//! Invoice position items (reference 06 §2): add positions to a draft (a JSON array, or one
//! object), read one, replace one's data, delete one with its children. Writes answer the whole
//! invoice (as Fynn does), recompute its amounts and append to its history; any write on a
//! position of a finalized document is a 409.

pub mod fields;
pub mod input;
pub mod model;
pub mod store;
pub mod view;

use crate::error::{ApiError, ApiResult};
use crate::http::input::Input;
use crate::http::{delete, get, post, put, Ctx, Reply, Route};
use crate::resources::invoices::{self, READ, WRITE};
use crate::resources::units;
use input::{Mode, Reader};
use model::{PositionData, PositionRow};
use serde_json::{json, Map, Value};
use store::DbLookup;

pub fn routes() -> Vec<Route> {
    vec![
        post(
            "/invoices/{id}/position-items",
            WRITE,
            "Add position items to a draft; returns the invoice",
            add,
        ),
        get(
            "/invoice-position-items/{id}",
            READ,
            "One invoice position item",
            read,
        ),
        put(
            "/invoice-position-items/{id}",
            WRITE,
            "Replace a draft position's data; returns the invoice",
            replace,
        ),
        delete(
            "/invoice-position-items/{id}",
            WRITE,
            "Remove a draft position and its children",
            remove,
        ),
    ]
}

/// A parent named by an added position must be a top-level position of the same invoice.
fn check_parent(
    ctx: &Ctx,
    invoice: &str,
    input: &mut Input,
    key: &str,
    d: &PositionData,
) -> ApiResult<()> {
    if let Some(parent) = &d.parent {
        if !store::is_top_level_of(ctx.tx, invoice, parent)? {
            input.violation(
                key,
                "The parent must be a top-level position of this invoice.",
                "invalid_parent",
            );
        }
    }
    Ok(())
}

fn add(ctx: &Ctx) -> ApiResult<Reply> {
    let (tx, tenant) = (ctx.tx, ctx.tenant());
    let inv = invoices::store::get(tx, tenant, ctx.param("id"))?;
    inv.ensure_draft()?;
    let body = if ctx.body.iter().all(u8::is_ascii_whitespace) {
        Value::Object(Map::new())
    } else {
        serde_json::from_slice(ctx.body)
            .map_err(|e| ApiError::BadRequest(format!("Malformed JSON body: {e}.")))?
    };
    let lookup = DbLookup::new(tx, tenant);
    let mut reader = Reader::new(inv.currency, &lookup);
    let items = match body {
        Value::Array(values) if values.is_empty() => {
            return Err(ApiError::invalid(
                "",
                "Send at least one position.",
                "not_blank",
            ))
        }
        Value::Array(values) => {
            let mut root = Input::default();
            let items = reader.items(&mut root, "", values, 1)?;
            for (i, d) in items.iter().enumerate() {
                check_parent(ctx, &inv.id, &mut root, &format!("[{i}].parent"), d)?;
            }
            root.finish()?;
            items
        }
        Value::Object(map) => {
            let mut input = Input::from_map(map);
            let d = reader.one(&mut input, 1, Mode::Add)?;
            check_parent(ctx, &inv.id, &mut input, "parent", &d)?;
            input.finish()?;
            vec![d]
        }
        _ => {
            return Err(ApiError::BadRequest(
                "The request body must be a position object or an array of them.".into(),
            ))
        }
    };
    let mut ids = Vec::with_capacity(items.len());
    for d in &items {
        ids.extend(store::insert_tree(
            tx,
            tenant,
            &inv.id,
            std::slice::from_ref(d),
            d.parent.as_deref(),
        )?);
    }
    let view = invoices::after_edit(ctx, &inv.id, "position.added", json!({"positions": ids}))?;
    Reply::created(&view)
}

fn read(ctx: &Ctx) -> ApiResult<Reply> {
    let (tx, tenant) = (ctx.tx, ctx.tenant());
    let p = store::get(tx, tenant, ctx.param("id"))?;
    let inv = invoices::store::get(tx, tenant, &p.invoice_id)?;
    let all = store::for_invoice(tx, &inv.id)?;
    let locale = units::store::locale(tx, tenant, ctx.query.get("locale"))?;
    Reply::ok(&view::Embeds::new(tx, tenant, locale).view(&inv, &p, &all)?)
}

/// The stored position in the shape of a position body, so that `PUT` reads as "the current
/// data with the sent keys replaced" through the same checks as adding.
fn as_body(p: &PositionRow) -> Map<String, Value> {
    let text = |d: Option<rust_decimal::Decimal>| d.map(|d| d.normalize().to_string());
    let body = json!({
        "position": p.sort_order,
        "type": p.kind,
        "group": p.group_name,
        "name": p.name,
        "description": p.description,
        "quantity": p.quantity.normalize().to_string(),
        "unitId": p.unit_id,
        "unitPrice": text(p.unit_price),
        "taxGroupId": p.tax_group_id,
        "discountAmount": text(p.discount_amount),
        "discountPercentage": text(p.discount_percentage),
        "serviceDateFrom": p.service_date_from,
        "serviceDateTo": p.service_date_to,
        "unitPriceInterval": p.unit_price_interval,
        "subscriptionItem": p.subscription_item_id,
        "product": p.product_id,
    });
    match body {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

fn replace(ctx: &Ctx) -> ApiResult<Reply> {
    let (tx, tenant) = (ctx.tx, ctx.tenant());
    let p = store::get(tx, tenant, ctx.param("id"))?;
    let inv = invoices::store::get(tx, tenant, &p.invoice_id)?;
    inv.ensure_draft()?;
    let body = ctx.input()?;
    let sent: Vec<String> = body.keys().cloned().collect();
    let mut merged = as_body(&p);
    for key in &sent {
        if let Some(v) = body.raw(key) {
            merged.insert(key.clone(), v.clone());
        }
    }
    let mut input = Input::from_map(merged);
    let lookup = DbLookup::new(tx, tenant);
    let depth = if p.parent_id.is_some() { 2 } else { 1 };
    let mode = Mode::Update {
        has_children: store::has_children(tx, &p.id)?,
    };
    let d = Reader::new(inv.currency, &lookup).one(&mut input, depth, mode)?;
    input.finish()?;
    store::replace(tx, tenant, &p, &d)?;
    let details = json!({"position": p.id, "fields": sent});
    Reply::ok(&invoices::after_edit(
        ctx,
        &inv.id,
        "position.updated",
        details,
    )?)
}

fn remove(ctx: &Ctx) -> ApiResult<Reply> {
    let (tx, tenant) = (ctx.tx, ctx.tenant());
    let p = store::get(tx, tenant, ctx.param("id"))?;
    let inv = invoices::store::get(tx, tenant, &p.invoice_id)?;
    inv.ensure_draft()?;
    store::delete(tx, tenant, &p.id)?;
    let details = json!({"position": p.id, "name": p.name});
    invoices::after_edit(ctx, &inv.id, "position.removed", details)?;
    Reply::no_content()
}
