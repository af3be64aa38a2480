//! Collections: `page`/`limit` parsing, the pagination envelope, and WHERE/ORDER BY building.

use super::query::Query;
use crate::error::{ApiError, ApiResult};
use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, Row, ToSql};
use serde::Serialize;
use serde_json::{json, Value};

pub const DEFAULT_LIMIT: u32 = 30;
pub const MAX_LIMIT: u32 = 100;

/// A requested page: `page` >= 1, `limit` 0..=100; anything else is a 400.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub page: u32,
    pub limit: u32,
}

impl Page {
    pub fn from_query(q: &Query) -> ApiResult<Page> {
        let page = match q.get("page") {
            None => 1,
            Some(s) => match s.parse::<u32>() {
                Ok(n) if n >= 1 => n,
                _ => {
                    return Err(ApiError::BadRequest(format!(
                        "Query parameter 'page' must be an integer >= 1, got '{s}'."
                    )))
                }
            },
        };
        let limit = match q.get("limit") {
            None => DEFAULT_LIMIT,
            Some(s) => match s.parse::<u32>() {
                Ok(n) if n <= MAX_LIMIT => n,
                _ => {
                    return Err(ApiError::BadRequest(format!(
                        "Query parameter 'limit' must be an integer between 0 and {MAX_LIMIT}, got '{s}'."
                    )))
                }
            },
        };
        Ok(Page { page, limit })
    }

    pub fn offset(&self) -> i64 {
        i64::from(self.page - 1) * i64::from(self.limit)
    }

    /// `{data, meta: {pagination}}` around one page of items.
    pub fn envelope<T: Serialize>(&self, items: &[T], total: i64) -> Value {
        let last_page = if self.limit == 0 || total == 0 {
            1
        } else {
            (total + i64::from(self.limit) - 1) / i64::from(self.limit)
        };
        json!({
            "data": items,
            "meta": {"pagination": {
                "totalItems": total,
                "itemsPerPage": self.limit,
                "currentPage": self.page,
                "lastPage": last_page,
                "pageTotalItems": items.len(),
            }}
        })
    }
}

/// A WHERE clause built from filters, with named parameters (`:p0`, `:p1`, ...).
#[derive(Debug, Default)]
pub struct Filter {
    clauses: Vec<String>,
    params: Vec<(String, SqlValue)>,
}

impl Filter {
    /// Starts with the tenant condition every list query needs.
    pub fn for_tenant(column: &str, tenant_id: &str) -> Filter {
        let mut f = Filter::default();
        f.push(&format!("{column} = {{}}"), tenant_id.to_string());
        f
    }

    /// Adds a clause; each `{}` in it becomes a fresh named parameter bound to `value`.
    pub fn push(&mut self, clause: &str, value: impl Into<SqlValue>) {
        let name = format!(":p{}", self.params.len());
        self.clauses.push(clause.replace("{}", &name));
        self.params.push((name, value.into()));
    }

    /// `column = value` when the query has the key; `column IN (...)` for `key[]` lists.
    pub fn eq(&mut self, q: &Query, key: &str, column: &str) {
        let values = q.all(key);
        match values.len() {
            0 => {}
            1 => self.push(&format!("{column} = {{}}"), values[0].to_string()),
            _ => {
                let mut names = Vec::new();
                for v in values {
                    let name = format!(":p{}", self.params.len());
                    self.params
                        .push((name.clone(), SqlValue::Text(v.to_string())));
                    names.push(name);
                }
                self.clauses
                    .push(format!("{column} IN ({})", names.join(", ")));
            }
        }
    }

    /// Like `eq`, but every value must be one of `allowed` (an unknown enum value is a 400).
    pub fn eq_enum(
        &mut self,
        q: &Query,
        key: &str,
        column: &str,
        allowed: &[&str],
    ) -> ApiResult<()> {
        for v in q.all(key) {
            if !allowed.contains(&v) {
                return Err(ApiError::BadRequest(format!(
                    "Unknown value '{v}' for filter '{key}'; allowed: {}.",
                    allowed.join(", ")
                )));
            }
        }
        self.eq(q, key, column);
        Ok(())
    }

    /// A raw clause without parameters (e.g. a fixed status condition).
    pub fn raw(&mut self, clause: &str) {
        self.clauses.push(clause.to_string());
    }

    pub fn where_sql(&self) -> String {
        if self.clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", self.clauses.join(" AND "))
        }
    }

    pub fn params(&self) -> Vec<(&str, &dyn ToSql)> {
        self.params
            .iter()
            .map(|(n, v)| (n.as_str(), v as &dyn ToSql))
            .collect()
    }

    /// One page of `SELECT {columns} FROM {from}` under this filter, in `order` (an `ORDER BY`
    /// clause), and the total count of matching rows. `from`, `columns` and `order` are the
    /// caller's fixed SQL, never request text.
    pub fn fetch_page<T>(
        &self,
        conn: &Connection,
        from: &str,
        columns: &str,
        order: &str,
        page: &Page,
        map: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
    ) -> ApiResult<(Vec<T>, i64)> {
        let where_sql = self.where_sql();
        let mut params = self.params();
        let total: i64 = conn
            .prepare_cached(&format!("SELECT count(*) FROM {from} {where_sql}"))?
            .query_row(params.as_slice(), |r| r.get(0))?;
        let (limit, offset) = (i64::from(page.limit), page.offset());
        params.push((":limit", &limit));
        params.push((":offset", &offset));
        let rows = conn
            .prepare_cached(&format!(
                "SELECT {columns} FROM {from} {where_sql} {order} LIMIT :limit OFFSET :offset"
            ))?
            .query_map(params.as_slice(), map)?
            .collect::<Result<Vec<_>, _>>()?;
        Ok((rows, total))
    }
}

/// `ORDER BY` from `order[field]` pairs mapped to columns, falling back to `default` (the
/// creation order, e.g. `created_at, id`). Ties among the requested fields follow the creation
/// order in the direction of the last requested field: time stamps have whole seconds, so
/// `order[createdAt]=desc` must break ties by id descending to list the newest first.
/// The column names come from the caller's fixed table, never from the query string.
pub fn order_by(q: &Query, columns: &[(&str, &str)], default: &str) -> ApiResult<String> {
    let fields: Vec<&str> = columns.iter().map(|(f, _)| *f).collect();
    let order = q.order(&fields)?;
    let mut parts: Vec<String> = order
        .iter()
        .filter_map(|(field, asc)| {
            columns
                .iter()
                .find(|(f, _)| f == field)
                .map(|(_, col)| format!("{col} {}", if *asc { "ASC" } else { "DESC" }))
        })
        .collect();
    let descending = order.last().is_some_and(|(_, asc)| !*asc);
    if descending {
        for term in default.split(',') {
            let column = term.split_whitespace().next().unwrap_or_default();
            parts.push(format!("{column} DESC"));
        }
    } else {
        parts.push(default.to_string());
    }
    Ok(format!("ORDER BY {}", parts.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_follow_the_direction_of_the_last_requested_field() {
        let cols = [("createdAt", "t.created_at"), ("name", "t.name")];
        let order = |q: &str| order_by(&Query::parse(q), &cols, "t.created_at ASC, t.id").unwrap();
        assert_eq!(order(""), "ORDER BY t.created_at ASC, t.id");
        assert_eq!(
            order("order[createdAt]=desc"),
            "ORDER BY t.created_at DESC, t.created_at DESC, t.id DESC"
        );
        assert_eq!(
            order("order[name]=asc"),
            "ORDER BY t.name ASC, t.created_at ASC, t.id"
        );
    }

    #[test]
    fn page_bounds() {
        assert!(Page::from_query(&Query::parse("limit=101")).is_err());
        assert!(Page::from_query(&Query::parse("page=0")).is_err());
        assert!(Page::from_query(&Query::parse("limit=abc")).is_err());
        let p = Page::from_query(&Query::parse("page=3&limit=0")).unwrap();
        assert_eq!((p.page, p.limit), (3, 0));
    }

    #[test]
    fn envelope_counts_pages() {
        let p = Page { page: 2, limit: 30 };
        let v = p.envelope(&[1, 2, 3], 33);
        assert_eq!(v["meta"]["pagination"]["lastPage"], 2);
        assert_eq!(v["meta"]["pagination"]["pageTotalItems"], 3);
        assert_eq!(v["meta"]["pagination"]["totalItems"], 33);
    }
}
