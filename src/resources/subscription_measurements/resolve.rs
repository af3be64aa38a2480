//! Resolving what measurement values refer to (an item id, or a measurement code with a
//! subscription id or number) to the items they are stored for. Every lookup is cached for
//! the request, and a batch's references are loaded up front in a few queries
//! (`Resolver::prefetch`): one query per distinct reference cost about as much as inserting
//! the batch's rows (`benches/measurements.rs`).

use super::model::{path, Entry, Target};
use crate::error::{ApiResult, Violation};
use rusqlite::{named_params, Connection, OptionalExtension};
use std::cell::Cell;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

/// What a value needs to know about the item it is stored for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemInfo {
    pub id: String,
    pub subscription_id: String,
    pub subscription_number: String,
    pub measurement_id: String,
    pub code: String,
    pub aggregation: String,
    /// Order in which the request's resolver first loaded the item (sort key of the insert).
    pub ord: u32,
    /// Its `measured_items` key; `None` until it has stored a value.
    pub key: Cell<Option<i64>>,
}

/// Columns of [`item_info`]; `i` the item.
const ITEM_COLUMNS: &str = "i.id, i.subscription_id, s.number, p.measurement_id, m.code,
           m.aggregation_type, k.key";
/// What [`ITEM_COLUMNS`] needs joined to the item `i`.
const ITEM_JOINS: &str = "JOIN subscriptions s ON s.id = i.subscription_id
    JOIN products p ON p.id = i.product_id
    JOIN measurements m ON m.id = p.measurement_id
    LEFT JOIN measured_items k ON k.item_id = i.id";

fn item_info(r: &rusqlite::Row) -> rusqlite::Result<ItemInfo> {
    Ok(ItemInfo {
        id: r.get(0)?,
        subscription_id: r.get(1)?,
        subscription_number: r.get(2)?,
        measurement_id: r.get(3)?,
        code: r.get(4)?,
        aggregation: r.get(5)?,
        ord: 0,
        key: Cell::new(r.get(6)?),
    })
}

type Items = Rc<[Rc<ItemInfo>]>;

/// Resolves entry targets to items, caching each lookup for the request: a batch of 1000
/// values for a handful of items costs a handful of queries.
pub struct Resolver<'a> {
    conn: &'a Connection,
    tenant: &'a str,
    /// Every item loaded so far, by id: an item reached both by id and by code is one
    /// `ItemInfo` (one sort position, one key).
    loaded: HashMap<String, Rc<ItemInfo>>,
    /// By item id: the item as a one-element slice (what an entry by item resolves to), or
    /// empty when there is no such item.
    items: HashMap<String, Items>,
    subscriptions: HashMap<String, Option<(String, String)>>,
    by_code: HashMap<(String, String), Items>,
}

impl<'a> Resolver<'a> {
    pub fn new(conn: &'a Connection, tenant: &'a str) -> Self {
        Resolver {
            conn,
            tenant,
            loaded: HashMap::new(),
            items: HashMap::new(),
            subscriptions: HashMap::new(),
            by_code: HashMap::new(),
        }
    }

    fn numbered(&mut self, mut info: ItemInfo) -> Rc<ItemInfo> {
        if let Some(known) = self.loaded.get(&info.id) {
            return known.clone();
        }
        info.ord = u32::try_from(self.loaded.len()).unwrap_or(u32::MAX);
        let info = Rc::new(info);
        self.loaded.insert(info.id.clone(), info.clone());
        info
    }

    fn item(&mut self, id: &str) -> ApiResult<Items> {
        if let Some(hit) = self.items.get(id) {
            return Ok(hit.clone());
        }
        let found: Items = self
            .conn
            .prepare_cached(&format!(
                "SELECT {ITEM_COLUMNS} FROM subscription_items i {ITEM_JOINS}
                 WHERE i.tenant_id = :tenant AND i.id = :id"
            ))?
            .query_row(named_params! {":tenant": self.tenant, ":id": id}, item_info)
            .optional()?
            .map(|info| self.numbered(info))
            .into_iter()
            .collect();
        self.items.insert(id.to_string(), found.clone());
        Ok(found)
    }

    /// `(id, number)` of the tenant's subscription with this id or number.
    fn subscription(&mut self, reference: &str) -> ApiResult<Option<(String, String)>> {
        if let Some(hit) = self.subscriptions.get(reference) {
            return Ok(hit.clone());
        }
        let found = self
            .conn
            .prepare_cached(
                "SELECT id, number FROM subscriptions
                 WHERE tenant_id = :tenant AND (id = :ref OR number = :ref) LIMIT 1",
            )?
            .query_row(
                named_params! {":tenant": self.tenant, ":ref": reference},
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        self.subscriptions
            .insert(reference.to_string(), found.clone());
        Ok(found)
    }

    fn items_with_code(&mut self, subscription: &str, code: &str) -> ApiResult<Items> {
        let key = (subscription.to_string(), code.to_string());
        if let Some(hit) = self.by_code.get(&key) {
            return Ok(hit.clone());
        }
        let found: Vec<ItemInfo> = self
            .conn
            .prepare_cached(&format!(
                "SELECT {ITEM_COLUMNS} FROM subscription_items i {ITEM_JOINS}
                 WHERE i.tenant_id = :tenant AND i.subscription_id = :sub AND m.code = :code
                 ORDER BY i.created_at, i.id"
            ))?
            .query_map(
                named_params! {":tenant": self.tenant, ":sub": subscription, ":code": code},
                item_info,
            )?
            .collect::<Result<_, _>>()?;
        let found: Items = found.into_iter().map(|i| self.numbered(i)).collect();
        self.by_code.insert(key, found.clone());
        Ok(found)
    }

    /// Loads the items `entries` refer to in two queries (plus one per distinct subscription
    /// reference), where [`Resolver::resolve`] alone makes one per distinct reference; it then
    /// finds them cached. The lists go in as JSON arrays (`json_each`); `CROSS JOIN` keeps
    /// SQLite walking them and seeking each item, not scanning the tenant's items.
    pub fn prefetch(&mut self, entries: &[Entry]) -> ApiResult<()> {
        let tenant = self.tenant;
        let (mut ids, mut pairs) = (HashSet::new(), HashSet::new());
        for entry in entries {
            match &entry.target {
                Target::Item { item, .. } => {
                    ids.insert(item.as_ref());
                }
                Target::Code { code, subscription } => {
                    pairs.insert((subscription.as_ref(), code.as_ref()));
                }
            }
        }
        if !ids.is_empty() {
            let found = self.query_items(
                &format!(
                    "SELECT {ITEM_COLUMNS} FROM json_each(:ids) j
                     CROSS JOIN subscription_items i ON i.id = j.value {ITEM_JOINS}
                     WHERE i.tenant_id = :tenant"
                ),
                named_params! {":ids": serde_json::to_string(&ids)?, ":tenant": tenant},
            )?;
            for info in found {
                self.items.insert(info.id.clone(), Rc::new([info]));
            }
            for id in ids {
                if !self.items.contains_key(id) {
                    self.items.insert(id.to_string(), Rc::new([]));
                }
            }
        }
        if pairs.is_empty() {
            return Ok(());
        }
        let (mut subscriptions, mut codes) = (HashSet::new(), HashSet::new());
        for &(reference, code) in &pairs {
            if let Some((id, _)) = self.subscription(reference)? {
                subscriptions.insert(id);
                codes.insert(code);
            }
        }
        let found = self.query_items(
            &format!(
                "SELECT {ITEM_COLUMNS} FROM json_each(:subscriptions) j
                 CROSS JOIN subscription_items i ON i.subscription_id = j.value {ITEM_JOINS}
                 WHERE i.tenant_id = :tenant AND m.code IN (SELECT value FROM json_each(:codes))
                 ORDER BY i.created_at, i.id"
            ),
            named_params! {
                ":subscriptions": serde_json::to_string(&subscriptions)?,
                ":codes": serde_json::to_string(&codes)?,
                ":tenant": tenant,
            },
        )?;
        let mut groups: HashMap<(String, String), Vec<Rc<ItemInfo>>> = HashMap::new();
        for info in found {
            let key = (info.subscription_id.clone(), info.code.clone());
            groups.entry(key).or_default().push(info);
        }
        // Every pair asked for, so a pair without items is cached as such too.
        for (reference, code) in pairs {
            if let Some((subscription, _)) = self.subscription(reference)? {
                let key = (subscription, code.to_string());
                let items = groups.get(&key).cloned().unwrap_or_default();
                self.by_code.insert(key, items.into());
            }
        }
        Ok(())
    }

    /// The items of `sql` (selecting [`ITEM_COLUMNS`]), each numbered once.
    fn query_items(
        &mut self,
        sql: &str,
        params: &[(&str, &dyn rusqlite::ToSql)],
    ) -> ApiResult<Vec<Rc<ItemInfo>>> {
        let found: Vec<ItemInfo> = self
            .conn
            .prepare_cached(sql)?
            .query_map(params, item_info)?
            .collect::<Result<_, _>>()?;
        Ok(found.into_iter().map(|i| self.numbered(i)).collect())
    }

    /// The items an entry is stored for; violations (with the entry's paths) for references
    /// that do not resolve or do not match each other.
    pub fn resolve(
        &mut self,
        target: &Target,
        index: Option<usize>,
        out: &mut Vec<Violation>,
    ) -> ApiResult<Items> {
        let none = || -> Items { Rc::new([]) };
        let mut bad = |key: &str, message: &str| {
            out.push(Violation::new(path(index, key), message, "not_found"));
        };
        match target {
            Target::Item {
                item,
                code,
                subscription,
            } => {
                let found = self.item(item)?;
                let Some(info) = found.first() else {
                    bad("subscriptionItem", "This subscription item does not exist.");
                    return Ok(none());
                };
                let mut ok = true;
                if code.as_ref().is_some_and(|c| *c != info.code) {
                    bad(
                        "measurementCode",
                        "The subscription item does not use this measurement.",
                    );
                    ok = false;
                }
                if subscription
                    .as_ref()
                    .is_some_and(|s| *s != info.subscription_id && *s != info.subscription_number)
                {
                    bad(
                        "subscription",
                        "The subscription item does not belong to this subscription.",
                    );
                    ok = false;
                }
                Ok(if ok { found } else { none() })
            }
            Target::Code { code, subscription } => {
                let Some((sub_id, _)) = self.subscription(subscription)? else {
                    bad("subscription", "This subscription does not exist.");
                    return Ok(none());
                };
                let items = self.items_with_code(&sub_id, code)?;
                if items.is_empty() {
                    bad(
                        "measurementCode",
                        "No item of the subscription uses a measurement with this code.",
                    );
                }
                Ok(items)
            }
        }
    }
}
