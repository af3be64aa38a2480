//! A customer's addresses and e-mail addresses as its read model shows them, kept by each
//! thread for the next read of the same customer.
//!
//! Reading them was most of the handler of a `GET /customers/{id}`: two statements whose every
//! text column SQLite copies and rusqlite reads with three calls, a string each in the model,
//! and then their JSON. Their rows change far less often than they are read, and every change to
//! them sets a new random `customers.children_stamp` in the same transaction (see
//! `schema.sql`). A read fetches the stamp with the customer's row; lists built under that same
//! stamp are exactly the rows its transaction would read, so they are reused, JSON included
//! (`Shown` keeps it). The customer's own row is read every time.
//!
//! Per thread, like the parsed roles in `auth`: nothing to lock, and an HTTP thread serves one
//! connection, whose client tends to read the same customers again. Reused lists are shared
//! (`Shown` is an `Arc`), never changed.

use super::shown::Shown;
use crate::error::ApiResult;
use crate::resources::customer_addresses::model::Address;
use crate::resources::customer_emails::model::EmailAddress;
use crate::resources::{customer_addresses, customer_emails};
use rusqlite::{named_params, Connection};
use std::cell::RefCell;

/// Customers a thread keeps the lists of; the oldest kept makes room for the next. Each HTTP
/// connection has a thread: a few KB each, and a client rarely reads many customers in turn.
const KEPT_CUSTOMERS: usize = 16;

/// A customer's addresses and e-mail addresses, oldest first.
#[derive(Clone)]
pub struct Children {
    pub addresses: Vec<Shown<Address>>,
    pub emails: Vec<Shown<EmailAddress>>,
}

struct Kept {
    customer: String,
    stamp: i64,
    children: Children,
}

thread_local! {
    static KEPT: RefCell<Vec<Kept>> = const { RefCell::new(Vec::new()) };
}

/// The lists of `customer` as `conn`'s transaction sees them, given the stamp it read for the
/// customer in that transaction (`None`: never stamped, so read and not kept).
pub fn of(conn: &Connection, customer: &str, stamp: Option<i64>) -> ApiResult<Children> {
    let Some(stamp) = stamp else {
        return read(conn, customer);
    };
    let kept = KEPT.with_borrow(|kept| {
        kept.iter()
            .find(|k| k.stamp == stamp && k.customer == customer)
            .map(|k| k.children.clone())
    });
    if let Some(children) = kept {
        return Ok(children);
    }
    let children = read(conn, customer)?;
    KEPT.with_borrow_mut(|kept| {
        // One entry per customer: the lists of an older stamp are of no use any more.
        kept.retain(|k| k.customer != customer);
        if kept.len() >= KEPT_CUSTOMERS {
            kept.remove(0);
        }
        kept.push(Kept {
            customer: customer.to_string(),
            stamp,
            children: children.clone(),
        });
    });
    Ok(children)
}

/// Gives a stamped customer a new stamp: an address or e-mail address was added to it. Updates
/// and deletes are stamped by triggers (see `customers.children_stamp` in `schema.sql`).
pub fn restamp(conn: &Connection, customer: &str) -> ApiResult<()> {
    conn.prepare_cached(
        "UPDATE customers SET children_stamp = random()
         WHERE id = :customer AND children_stamp IS NOT NULL",
    )?
    .execute(named_params! {":customer": customer})?;
    Ok(())
}

fn read(conn: &Connection, customer: &str) -> ApiResult<Children> {
    Ok(Children {
        addresses: shown(customer_addresses::store::for_customer(conn, customer)?),
        emails: shown(customer_emails::store::for_customer(conn, customer)?),
    })
}

/// Each value wrapped to be shown (and its JSON written) once however often it is shown.
pub fn shown<T>(values: Vec<T>) -> Vec<Shown<T>> {
    values.into_iter().map(Shown::new).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db;
    use crate::http::input::Input;
    use crate::resources::customers::{self, model::CustomerWrite};

    /// A tenant with one customer (one address in Berlin, one e-mail address): the tenant's
    /// and the customer's ids.
    fn setup() -> (Connection, String, String) {
        let conn = db::memory();
        let (tenant, _) = crate::bootstrap::create_tenant(&conn, "T", "a@example.com").unwrap();
        let mut input = Input::parse(br#"{"email":"c@example.com","city":"Berlin"}"#).unwrap();
        let request = CustomerWrite::read(&mut input, true);
        input.finish().unwrap();
        let customer = customers::write::create(&conn, &tenant, &request).unwrap();
        (conn, tenant, customer.id)
    }

    fn stamp(conn: &Connection, customer: &str) -> Option<i64> {
        conn.query_row(
            "SELECT children_stamp FROM customers WHERE id = ?1",
            [customer],
            |r| r.get(0),
        )
        .unwrap()
    }

    fn cities(children: &Children) -> Vec<String> {
        children.addresses.iter().map(|a| a.city.clone()).collect()
    }

    /// Changes made with plain SQL (no kontor code) give a new stamp, and the next read under
    /// it sees them; the same stamp gives the same shared lists.
    #[test]
    fn lists_are_reused_exactly_while_the_stamp_is_unchanged() {
        let (conn, _, customer) = setup();
        let first = stamp(&conn, &customer);
        assert!(first.is_some(), "a new customer is stamped");
        let a = of(&conn, &customer, first).unwrap();
        let b = of(&conn, &customer, first).unwrap();
        assert!(std::ptr::eq(&*a.addresses[0], &*b.addresses[0]), "shared");
        assert_eq!(cities(&a), ["Berlin"]);

        conn.execute(
            "UPDATE customer_addresses SET city = 'Hamburg' WHERE customer_id = ?1",
            [&customer],
        )
        .unwrap();
        let second = stamp(&conn, &customer);
        assert_ne!(second, first);
        assert_eq!(cities(&of(&conn, &customer, second).unwrap()), ["Hamburg"]);

        conn.execute(
            "DELETE FROM customer_email_addresses WHERE customer_id = ?1",
            [&customer],
        )
        .unwrap();
        let third = stamp(&conn, &customer);
        assert_ne!(third, second);
        assert!(of(&conn, &customer, third).unwrap().emails.is_empty());

        // A rolled-back change brings the old stamp back, and with it the old rows.
        conn.execute_batch("SAVEPOINT s").unwrap();
        conn.execute(
            "UPDATE customer_addresses SET city = 'Köln' WHERE customer_id = ?1",
            [&customer],
        )
        .unwrap();
        let inside = stamp(&conn, &customer);
        assert_eq!(cities(&of(&conn, &customer, inside).unwrap()), ["Köln"]);
        conn.execute_batch("ROLLBACK TO s; RELEASE s").unwrap();
        assert_eq!(stamp(&conn, &customer), third);
        assert_eq!(cities(&of(&conn, &customer, third).unwrap()), ["Hamburg"]);
    }

    /// Inserts have no trigger: the stores' `insert` restamps.
    #[test]
    fn adding_an_address_or_e_mail_address_restamps() {
        let (conn, tenant, customer) = setup();
        let before = stamp(&conn, &customer);
        // Kept under the first stamp, so a read that ignored the new one would see one city.
        of(&conn, &customer, before).unwrap();
        let mut address = Address::blank("TYPE_INVOICE", "DE", "");
        address.customer_id = customer.clone();
        address.city = "Leipzig".into();
        customer_addresses::store::insert(&conn, &tenant, &mut address).unwrap();
        let after_address = stamp(&conn, &customer);
        assert_ne!(after_address, before);
        assert_eq!(
            cities(&of(&conn, &customer, after_address).unwrap()),
            ["Berlin", "Leipzig"]
        );

        let mut email = EmailAddress::new("d@example.com");
        email.customer_id = customer.clone();
        customer_emails::store::insert(&conn, &tenant, &mut email).unwrap();
        let after_email = stamp(&conn, &customer);
        assert_ne!(after_email, after_address);
        assert_eq!(of(&conn, &customer, after_email).unwrap().emails.len(), 2);
    }

    /// Without a stamp (a row inserted by hand, say) the lists are read every time.
    #[test]
    fn an_unstamped_customer_is_read_every_time() {
        let (conn, _, customer) = setup();
        conn.execute(
            "UPDATE customers SET children_stamp = NULL WHERE id = ?1",
            [&customer],
        )
        .unwrap();
        let a = of(&conn, &customer, None).unwrap();
        let b = of(&conn, &customer, None).unwrap();
        assert!(!std::ptr::eq(&*a.addresses[0], &*b.addresses[0]));
        // An update of such a customer's rows writes no stamp either.
        conn.execute(
            "UPDATE customer_addresses SET city = 'Hamburg' WHERE customer_id = ?1",
            [&customer],
        )
        .unwrap();
        assert_eq!(stamp(&conn, &customer), None);
        assert_eq!(cities(&of(&conn, &customer, None).unwrap()), ["Hamburg"]);
    }
}
