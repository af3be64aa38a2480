//! SQL for product families, scoped to one tenant.

use super::model::ProductFamily;
use crate::domain::ids::new_id;
use crate::domain::time;
use crate::error::{ApiError, ApiResult};
use crate::http::list::{order_by, Filter, Page};
use crate::http::query::Query;
use crate::resources::units::store::is_foreign_key_error;
use rusqlite::{named_params, Connection, OptionalExtension, Row};

fn map(r: &Row) -> rusqlite::Result<ProductFamily> {
    Ok(ProductFamily {
        id: r.get(0)?,
        name: r.get(1)?,
        created_at: r.get(2)?,
        updated_at: r.get(3)?,
    })
}

/// Families of the tenant, oldest first; sortable by `name` and `createdAt`.
pub fn list(
    conn: &Connection,
    tenant: &str,
    query: &Query,
    page: &Page,
) -> ApiResult<(Vec<ProductFamily>, i64)> {
    let filter = Filter::for_tenant("tenant_id", tenant);
    let order = order_by(
        query,
        &[("name", "name"), ("createdAt", "created_at")],
        "created_at, id",
    )?;
    let (items, total) = filter.fetch_page(
        conn,
        "product_families",
        "id, name, created_at, updated_at",
        &order,
        page,
        map,
    )?;
    Ok((items, total))
}

/// One family of the tenant; 404 when the tenant has none with this id.
pub fn get(conn: &Connection, tenant: &str, id: &str) -> ApiResult<ProductFamily> {
    conn.prepare_cached(
        "SELECT id, name, created_at, updated_at FROM product_families
         WHERE tenant_id = :tenant AND id = :id",
    )?
    .query_row(named_params! {":tenant": tenant, ":id": id}, map)
    .optional()?
    .ok_or_else(|| ApiError::not_found("Product family"))
}

/// Whether the tenant has a family with this id (for references in product bodies).
pub fn exists(conn: &Connection, tenant: &str, id: &str) -> ApiResult<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM product_families WHERE tenant_id = :tenant AND id = :id)",
        )?
        .query_row(named_params! {":tenant": tenant, ":id": id}, |r| r.get(0))?)
}

pub fn create(conn: &Connection, tenant: &str, name: &str) -> ApiResult<ProductFamily> {
    let id = new_id();
    conn.prepare_cached(
        "INSERT INTO product_families (id, tenant_id, name, created_at, updated_at)
         VALUES (:id, :tenant, :name, :now, :now)",
    )?
    .execute(named_params! {":id": id, ":tenant": tenant, ":name": name, ":now": time::now()})?;
    get(conn, tenant, &id)
}

/// Renames a family; 404 when the tenant has none with this id.
pub fn update(conn: &Connection, tenant: &str, id: &str, name: &str) -> ApiResult<ProductFamily> {
    let n = conn
        .prepare_cached(
            "UPDATE product_families SET name = :name, updated_at = :now
             WHERE tenant_id = :tenant AND id = :id",
        )?
        .execute(
            named_params! {":tenant": tenant, ":id": id, ":name": name, ":now": time::now()},
        )?;
    if n == 0 {
        return Err(ApiError::not_found("Product family"));
    }
    get(conn, tenant, id)
}

/// Deletes a family; 404 when missing. A product still in it trips the foreign key: 409.
pub fn delete(conn: &Connection, tenant: &str, id: &str) -> ApiResult<()> {
    let result = conn
        .prepare_cached("DELETE FROM product_families WHERE tenant_id = :tenant AND id = :id")?
        .execute(named_params! {":tenant": tenant, ":id": id});
    match result {
        Ok(0) => Err(ApiError::not_found("Product family")),
        Ok(_) => Ok(()),
        Err(e) if is_foreign_key_error(&e) => Err(ApiError::Conflict(
            "The product family is still in use and cannot be deleted.".into(),
        )),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crud_scoped_by_tenant() {
        let conn = crate::db::memory();
        let (a, _) = crate::bootstrap::create_tenant(&conn, "Acme", "a@example.com").unwrap();
        let (b, _) = crate::bootstrap::create_tenant(&conn, "Other", "b@example.com").unwrap();
        let f = create(&conn, &a, "Team Packages").unwrap();
        create(&conn, &a, "Add-ons").unwrap();
        let page = Page { page: 1, limit: 30 };
        let (items, total) = list(&conn, &a, &Query::parse("order[name]=asc"), &page).unwrap();
        assert_eq!(total, 2);
        assert_eq!(items[0].name, "Add-ons");
        assert_eq!(list(&conn, &b, &Query::default(), &page).unwrap().1, 0);
        assert!(exists(&conn, &a, &f.id).unwrap() && !exists(&conn, &b, &f.id).unwrap());
        assert!(matches!(get(&conn, &b, &f.id), Err(ApiError::NotFound(_))));
        assert!(matches!(
            update(&conn, &b, &f.id, "X"),
            Err(ApiError::NotFound(_))
        ));
        assert!(matches!(
            delete(&conn, &b, &f.id),
            Err(ApiError::NotFound(_))
        ));
        assert_eq!(update(&conn, &a, &f.id, "Teams").unwrap().name, "Teams");
        delete(&conn, &a, &f.id).unwrap();
        assert!(!exists(&conn, &a, &f.id).unwrap());
    }
}
